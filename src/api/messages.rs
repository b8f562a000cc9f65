//! Message endpoints: send, history.

mod history;
mod send;

pub use history::{MessageHistory, history};
pub use send::{SendMessage, send};
