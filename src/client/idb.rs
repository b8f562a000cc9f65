//! The browser's IndexedDB database `hush`, opened in one place, with its
//! object stores: `identity` (the signed-in user's keys), `outbox` (sealed
//! messages waiting for the server's answer), `conversations` (the last
//! conversation list, so the app opens without a network) and `contacts`
//! (each user's contact book: pinned names and public keys). Only sealed or
//! public data and non-extractable keys are stored; never a plaintext.

use std::cell::RefCell;

use js_sys::{Array, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "hush";
/// Bumped whenever a store is added; the upgrade creates what is missing.
const VERSION: u32 = 3;

/// The object stores.
#[derive(Debug, Clone, Copy)]
pub enum Store {
    Identity,
    Outbox,
    Conversations,
    Contacts,
}

impl Store {
    const ALL: [Store; 4] = [
        Store::Identity,
        Store::Outbox,
        Store::Conversations,
        Store::Contacts,
    ];

    fn name(self) -> &'static str {
        match self {
            Store::Identity => "identity",
            Store::Outbox => "outbox",
            Store::Conversations => "conversations",
            Store::Contacts => "contacts",
        }
    }
}

/// Resolves when an IndexedDB request succeeds, with its result.
pub async fn wait(request: &IdbRequest) -> Result<JsValue, JsValue> {
    JsFuture::from(settled(request)).await
}

/// A promise of the request's result, or of its failure.
fn settled(request: &IdbRequest) -> Promise {
    Promise::new(&mut |resolve, reject| {
        let done = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &done.result().unwrap_or(JsValue::UNDEFINED));
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(
                &JsValue::NULL,
                &JsValue::from_str("IndexedDB request failed"),
            );
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    })
}

thread_local! {
    /// The page's connection, opened once: every open is a round trip to
    /// the browser, and the app starts with several reads.
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
    /// The open under way, which every use before it ends waits for.
    static OPENING: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

/// Starts opening the database, unless it is open or opening: the page
/// calls it before it hydrates, so that the browser opens its store while
/// the page's code runs, rather than after.
pub fn open_soon() {
    let _ = opening();
}

/// The open under way, started if there is none.
fn opening() -> Result<Promise, JsValue> {
    if let Some(opening) = OPENING.with(|o| o.borrow().clone()) {
        return Ok(opening);
    }
    let opening = connect()?;
    OPENING.with(|o| *o.borrow_mut() = Some(opening.clone()));
    Ok(opening)
}

/// The page's connection to the database, opened (and upgraded) on first
/// use. Another tab's upgrade closes it here; the next use opens it again.
async fn open() -> Result<IdbDatabase, JsValue> {
    if let Some(db) = DB.with(|db| db.borrow().clone()) {
        return Ok(db);
    }
    let opening = opening()?;
    let opened = JsFuture::from(opening.clone()).await;
    // The first to see it end forgets it; a failed open is tried again by
    // the next use.
    OPENING.with(|o| {
        let mut o = o.borrow_mut();
        let ours = |o: &Promise| JsValue::from(o.clone()) == JsValue::from(opening.clone());
        if o.as_ref().is_some_and(ours) {
            o.take();
        }
    });
    let db: IdbDatabase = opened?.unchecked_into();
    DB.with(|held| {
        let mut held = held.borrow_mut();
        match held.as_ref() {
            // Another use of the same open got here first.
            Some(kept) if kept == &db => Ok(db),
            // A later open's connection is the page's: this one is not.
            Some(kept) => {
                db.close();
                Ok(kept.clone())
            }
            None => {
                watch(&db);
                *held = Some(db.clone());
                Ok(db)
            }
        }
    })
}

/// Forgets the page's connection when another tab's upgrade asks it to
/// close, or when the browser closes it.
fn watch(db: &IdbDatabase) {
    // Each handler acts on its own connection (the event's target), which
    // it does not hold, and forgets the page's only if it is that one.
    let drop_own = |close: bool| {
        Closure::<dyn Fn(JsValue)>::new(move |event: JsValue| {
            let Ok(own) = Reflect::get(&event, &"target".into()) else {
                return;
            };
            DB.with(|held| {
                let mut held = held.borrow_mut();
                if held
                    .as_ref()
                    .is_some_and(|db| AsRef::<JsValue>::as_ref(db) == &own)
                {
                    held.take();
                }
            });
            if close {
                own.unchecked_into::<IdbDatabase>().close();
            }
        })
        .into_js_value()
    };
    db.set_onversionchange(Some(drop_own(true).unchecked_ref()));
    db.set_onclose(Some(drop_own(false).unchecked_ref()));
}

/// Asks the browser to open (and upgrade) the database.
fn connect() -> Result<Promise, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let request = factory.open_with_u32(DATABASE, VERSION)?;
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(db) = upgrading.result() {
            let db: IdbDatabase = db.unchecked_into();
            for store in Store::ALL {
                if !db.object_store_names().contains(store.name()) {
                    let _ = db.create_object_store(store.name());
                }
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(settled(&request))
}

/// One object store in a transaction of its own.
pub async fn store(which: Store, mode: IdbTransactionMode) -> Result<IdbObjectStore, JsValue> {
    open()
        .await?
        .transaction_with_str_and_mode(which.name(), mode)?
        .object_store(which.name())
}

/// Puts `value` at `key`.
pub async fn put(which: Store, key: &str, value: &JsValue) -> Result<(), JsValue> {
    let request = store(which, IdbTransactionMode::Readwrite)
        .await?
        .put_with_key(value, &key.into())?;
    wait(&request).await.map(|_| ())
}

/// The value at `key`, if any.
pub async fn get(which: Store, key: &str) -> Result<Option<JsValue>, JsValue> {
    let request = store(which, IdbTransactionMode::Readonly)
        .await?
        .get(&key.into())?;
    let value = wait(&request).await?;
    Ok((!value.is_undefined() && !value.is_null()).then_some(value))
}

/// Puts `value` under `key` as JSON text.
pub async fn put_json<T: serde::Serialize>(
    which: Store,
    key: &str,
    value: &T,
) -> Result<(), JsValue> {
    let json = serde_json::to_string(value)
        .map_err(|e| JsValue::from_str(&format!("{}: {e}", which.name())))?;
    put(which, key, &JsValue::from_str(&json)).await
}

/// The JSON value under `key`, if there is one that reads as a `T`.
pub async fn get_json<T: serde::de::DeserializeOwned>(which: Store, key: &str) -> Option<T> {
    get(which, key)
        .await
        .ok()
        .flatten()
        .and_then(|v| v.as_string())
        .and_then(|json| serde_json::from_str(&json).ok())
}

/// Deletes the value at `key`.
pub async fn delete(which: Store, key: &str) -> Result<(), JsValue> {
    let request = store(which, IdbTransactionMode::Readwrite)
        .await?
        .delete(&key.into())?;
    wait(&request).await.map(|_| ())
}

/// Every `(key, value)` of a store whose keys are strings, in key order.
pub async fn all(which: Store) -> Result<Vec<(String, JsValue)>, JsValue> {
    let store = store(which, IdbTransactionMode::Readonly).await?;
    let keys: Array = wait(&store.get_all_keys()?).await?.unchecked_into();
    let values: Array = wait(&store.get_all()?).await?.unchecked_into();
    Ok(keys
        .iter()
        .zip(values.iter())
        .filter_map(|(k, v)| Some((k.as_string()?, v)))
        .collect())
}

/// Empties a store.
pub async fn clear(which: Store) -> Result<(), JsValue> {
    let request = store(which, IdbTransactionMode::Readwrite).await?.clear()?;
    wait(&request).await.map(|_| ())
}
