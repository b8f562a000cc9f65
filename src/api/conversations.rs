//! Conversation endpoints: create, list, get, change, leave.

mod change;
mod create;
mod get;
mod leave;
mod list;

pub use change::{ChangeConversation, change};
pub use create::{CreateConversation, create};
pub use get::{GetConversationCall, get};
pub use leave::{LeaveConversation, leave};
pub use list::{ListConversations, list};
