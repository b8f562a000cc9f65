//! The signed-in identity, kept in IndexedDB so a reload needs no password:
//! the private keys as non-extractable `CryptoKey`s (IndexedDB stores them
//! without ever exposing their bytes), beside the raw public keys (a
//! non-extractable key cannot give its public half). Logout deletes it.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::CryptoKey;

use super::idb::{self, Store};

/// The one key of the identity store.
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
    /// Seals the contact book kept on the server (`cbk`, suite step 8).
    pub cbk: CryptoKey,
}

impl std::fmt::Debug for LocalIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalIdentity({}, <keys>)", self.username)
    }
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
    set(&record, "cbk", &identity.cbk);
    idb::put(Store::Identity, KEY, &record).await
}

/// The signed-in identity, if this browser holds one.
pub async fn load() -> Result<Option<LocalIdentity>, JsValue> {
    let Some(record) = idb::get(Store::Identity, KEY).await? else {
        return Ok(None);
    };
    let text = |key| get(&record, key).map(|v| v.as_string().unwrap_or_default());
    let bytes = |key| get(&record, key).map(|v| Uint8Array::new(&v).to_vec());
    Ok(Some(LocalIdentity {
        user_id: text("user_id")?,
        username: text("username")?,
        dh_public: bytes("dh_public")?,
        sig_public: bytes("sig_public")?,
        dh_private: get(&record, "dh_private")?.unchecked_into(),
        sig_private: get(&record, "sig_private")?.unchecked_into(),
        cbk: get(&record, "cbk")?
            .dyn_into()
            .map_err(|_| JsValue::from_str("kept identity has no contact book key"))?,
    }))
}

/// Forgets the signed-in identity, and everything kept for it: its
/// unsent messages and its conversation list.
pub async fn clear() -> Result<(), JsValue> {
    idb::clear(Store::Outbox).await?;
    idb::clear(Store::Conversations).await?;
    idb::delete(Store::Identity, KEY).await
}
