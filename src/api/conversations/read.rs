//! `POST /api/conversations/read` `{conversation_id, seq}` → `{seq}`: the
//! caller has read the conversation up to `seq`. The stored position only
//! goes up (and never past the conversation's last `seq`); the answer is
//! the position now stored.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::error::ApiError;
use crate::model::live::{MarkRead, ReadAt};

/// The body is a [`MarkRead`], whole.
#[server(name = MarkConversationRead, prefix = "/api", endpoint = "conversations/read", input = Api, output = Api, custom = Whole)]
pub async fn read(mark: MarkRead) -> Result<ReadAt, ApiError> {
    use crate::server::{live, request};
    let reader = request::current_user().await?;
    live::mark_read(&request::state(), &reader, mark).await
}
