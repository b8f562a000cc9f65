//! `POST /api/conversations/get` `{conversation_id}` → a conversation (as
//! list gives it), for a member: what an app reads when it holds none of
//! it (a member who holds its epochs reads what follows with changes).

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::conversation::{Conversation, GetConversation};
use crate::model::error::ApiError;

/// The body is a [`GetConversation`], whole.
#[server(name = GetConversationCall, prefix = "/api", endpoint = "conversations/get", input = Api, output = Api, custom = Whole)]
pub async fn get(asked: GetConversation) -> Result<Conversation, ApiError> {
    use crate::server::{conversations, request};
    let user = request::current_user().await?;
    conversations::get(&request::state(), user.id, asked.conversation_id).await
}
