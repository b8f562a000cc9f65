//! Message endpoints: send, history.

mod history;
mod send;

pub use history::history;
pub use send::{SendMessage, send};
