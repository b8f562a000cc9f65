//! The outbox: messages sealed in this browser that the server has not yet
//! answered, kept in IndexedDB so that a reload, a crash or a night offline
//! loses none. A message is sealed once and kept sealed (the stored form is
//! exactly the send request); it is retried with the same id until the
//! server answers, and only then removed. Keys sort in the order the
//! messages were written. When each is sent is the delivery core's
//! decision ([`crate::delivery::outbox`]); this module only keeps them.

use std::cell::Cell;

use wasm_bindgen::JsValue;

use super::idb::{self, Store};
use crate::delivery::outbox::Parcel;

thread_local! {
    static WRITTEN: Cell<u32> = const { Cell::new(0) };
}

/// A key after every key made before it in this browser: the time in
/// milliseconds, then a counter for messages written in the same one.
pub fn next_key() -> String {
    let count = WRITTEN.with(|w| {
        let n = w.get();
        w.set(n.wrapping_add(1));
        n
    });
    format!("{:015}-{count:08}", js_sys::Date::now() as u64)
}

fn storage(e: serde_json::Error) -> JsValue {
    JsValue::from_str(&format!("outbox entry: {e}"))
}

/// Keeps `parcel` until [`unpark`].
pub async fn park(parcel: &Parcel) -> Result<(), JsValue> {
    let json = serde_json::to_string(parcel).map_err(storage)?;
    idb::put(Store::Outbox, &parcel.key, &JsValue::from_str(&json)).await
}

/// Forgets a parcel the server has answered.
pub async fn unpark(key: &str) -> Result<(), JsValue> {
    idb::delete(Store::Outbox, key).await
}

/// Every parcel of `user_id`, in writing order.
pub async fn parked(user_id: &str) -> Result<Vec<Parcel>, JsValue> {
    Ok(idb::all(Store::Outbox)
        .await?
        .into_iter()
        .filter_map(|(_, value)| serde_json::from_str::<Parcel>(&value.as_string()?).ok())
        .filter(|p| p.user_id == user_id)
        .collect())
}
