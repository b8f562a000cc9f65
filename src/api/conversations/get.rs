//! `POST /api/conversations/get` `{conversation_id, since_epoch?}` → a
//! conversation (as list gives it, its epochs from `since_epoch` on), for a
//! member: what an app reads again when a head says its copy is older, or
//! after a change it made lost to another.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::conversation::{Conversation, GetConversation};
use crate::model::error::ApiError;

/// The body is a [`GetConversation`], whole.
#[server(name = GetConversationCall, prefix = "/api", endpoint = "conversations/get", input = Api, output = Api, custom = Whole)]
pub async fn get(asked: GetConversation) -> Result<Conversation, ApiError> {
    use crate::server::{conversations, request};
    let user = request::current_user().await?;
    conversations::get(
        &request::state(),
        user.id,
        asked.conversation_id,
        asked.since_epoch,
    )
    .await
}
