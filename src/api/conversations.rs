//! Conversation endpoints: create, list, get, changes, change, leave, read.

mod change;
mod changes;
mod create;
mod get;
mod leave;
mod list;
mod read;

pub use change::{ChangeConversation, change};
pub use changes::{ConversationChanges, changes};
pub use create::{CreateConversation, create};
pub use get::{GetConversationCall, get};
pub use leave::{LeaveConversation, leave};
pub use list::{ListConversations, list};
pub use read::{MarkConversationRead, read};
