//! What the user shares with the people they share a conversation with
//! (read receipts, online status): get and put, the caller's own only.

mod get;
mod put;

pub use get::{GetSettings, get};
pub use put::{PutSettings, put};
