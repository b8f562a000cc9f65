//! Each user's contact book (`crypto::pins`), kept in IndexedDB under the
//! user's id so it outlives a logout: the pins are what lets the next login
//! notice a changed key. Public names and keys only, the heads of the
//! epochs admitted, and where the server's sealed copy stood.

use wasm_bindgen::JsValue;

use super::idb::{self, Store};
use crate::crypto::pins::Book;

/// Keeps `user_id`'s contact book.
pub async fn save(user_id: &str, book: &Book) -> Result<(), JsValue> {
    idb::put_json(Store::Contacts, user_id, book).await
}

/// `user_id`'s contact book (empty if none was kept).
pub async fn load(user_id: &str) -> Book {
    idb::get_json(Store::Contacts, user_id)
        .await
        .unwrap_or_default()
}
