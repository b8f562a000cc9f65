//! `POST /api/conversations/create`
//! `{conversation_id, title?, member_ids, epoch: 0, keys, keys_signature}` →
//! a conversation. Every member's live sockets join its room at once.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::conversation::{Conversation, NewConversation};
use crate::model::error::ApiError;

/// The body is a [`NewConversation`], whole.
#[server(name = CreateConversation, prefix = "/api", endpoint = "conversations/create", input = Api, output = Api, custom = Whole)]
pub async fn create(new: NewConversation) -> Result<Conversation, ApiError> {
    use crate::server::{conversations, request};
    let creator = request::current_user().await?;
    conversations::create(&request::state(), &creator, new).await
}
