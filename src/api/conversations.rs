//! Conversation endpoints: create, list.

mod create;
mod list;

pub use create::create;
pub use list::list;
