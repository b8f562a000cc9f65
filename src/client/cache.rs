//! The last conversation list the server gave, kept in IndexedDB per user,
//! so the app can check its keys and show (and queue messages for) its
//! conversations before the network answers, or without one. It is public
//! data (members, public keys, wrapped keys); every key set is checked again
//! when it is used, exactly as if it came from the server.

use wasm_bindgen::JsValue;

use super::idb::{self, Store};
use crate::model::conversation::Conversation;

/// Keeps `user_id`'s conversation list.
pub async fn save(user_id: &str, conversations: &[Conversation]) -> Result<(), JsValue> {
    idb::put_json(Store::Conversations, user_id, &conversations).await
}

/// `user_id`'s last conversation list (empty if none was kept).
pub async fn load(user_id: &str) -> Vec<Conversation> {
    idb::get_json(Store::Conversations, user_id)
        .await
        .unwrap_or_default()
}
