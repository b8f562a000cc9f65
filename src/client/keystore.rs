//! The signed-in identity, kept in IndexedDB so a reload needs no password:
//! the private keys as non-extractable `CryptoKey`s (IndexedDB stores them
//! without ever exposing their bytes), beside the raw public keys (a
//! non-extractable key cannot give its public half). Logout deletes it.

use js_sys::{Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, IdbDatabase, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "hush";
const STORE: &str = "identity";
const KEY: &str = "current";

/// The signed-in user's identity, keys ready.
#[derive(Clone)]
pub struct LocalIdentity {
    pub user_id: String,
    pub username: String,
    pub dh_public: Vec<u8>,
    pub sig_public: Vec<u8>,
    pub dh_private: CryptoKey,
    pub sig_private: CryptoKey,
}

impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalIdentity({}, <keys>)", self.username)
    }
}

/// Resolves when an IndexedDB request succeeds, with its result.
async fn wait(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
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
    });
    JsFuture::from(promise).await
}

async fn open() -> Result<IdbDatabase, JsValue> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()?
        .ok_or("IndexedDB is not available")?;
    let request = factory.open_with_u32(DATABASE, 1)?;
    let upgrading = request.clone();
    let on_upgrade = Closure::once_into_js(move || {
        if let Ok(db) = upgrading.result() {
            let db: IdbDatabase = db.unchecked_into();
            if !db.object_store_names().contains(STORE) {
                let _ = db.create_object_store(STORE);
            }
        }
    });
    request.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
    Ok(wait(&request).await?.unchecked_into())
}

async fn store(mode: IdbTransactionMode) -> Result<web_sys::IdbObjectStore, JsValue> {
    open()
        .await?
        .transaction_with_str_and_mode(STORE, mode)?
        .object_store(STORE)
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn get(object: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(object, &JsValue::from_str(key))
}

/// Keeps `identity` as the signed-in one.
pub async fn save(identity: &LocalIdentity) -> Result<(), JsValue> {
    let record = Object::new();
    set(&record, "user_id", &identity.user_id.as_str().into());
    set(&record, "username", &identity.username.as_str().into());
    set(
        &record,
        "dh_public",
        &Uint8Array::from(identity.dh_public.as_slice()).into(),
    );
    set(
        &record,
        "sig_public",
        &Uint8Array::from(identity.sig_public.as_slice()).into(),
    );
    set(&record, "dh_private", &identity.dh_private);
    set(&record, "sig_private", &identity.sig_private);
    let request = store(IdbTransactionMode::Readwrite)
        .await?
        .put_with_key(&record, &KEY.into())?;
    wait(&request).await.map(|_| ())
}

/// The signed-in identity, if this browser holds one.
pub async fn load() -> Result<Option<LocalIdentity>, JsValue> {
    let request = store(IdbTransactionMode::Readonly)
        .await?
        .get(&KEY.into())?;
    let record = wait(&request).await?;
    if record.is_undefined() || record.is_null() {
        return Ok(None);
    }
    let text = |key| get(&record, key).map(|v| v.as_string().unwrap_or_default());
    let bytes = |key| get(&record, key).map(|v| Uint8Array::new(&v).to_vec());
    Ok(Some(LocalIdentity {
        user_id: text("user_id")?,
        username: text("username")?,
        dh_public: bytes("dh_public")?,
        sig_public: bytes("sig_public")?,
        dh_private: get(&record, "dh_private")?.unchecked_into(),
        sig_private: get(&record, "sig_private")?.unchecked_into(),
    }))
}

/// Forgets the signed-in identity.
pub async fn clear() -> Result<(), JsValue> {
    let request = store(IdbTransactionMode::Readwrite)
        .await?
        .delete(&KEY.into())?;
    wait(&request).await.map(|_| ())
}
