//! Conversation endpoints: create, list.

mod create;
mod list;

pub use create::{CreateConversation, create};
pub use list::{ListConversations, list};
