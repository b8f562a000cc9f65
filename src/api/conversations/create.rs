//! `POST /api/conversations/create`
//! `{conversation_id, title?, member_ids, epoch: 0, keys, keys_signature}` →
//! a conversation. Every member's live sockets join its room at once.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::conversation::{Conversation, WrappedKey};
use crate::model::error::ApiError;
use crate::model::ids::{ConversationId, UserId};

#[server(name = CreateConversation, prefix = "/api", endpoint = "conversations/create", input = Api, output = Api)]
pub async fn create(
    conversation_id: ConversationId,
    title: Option<String>,
    member_ids: Vec<UserId>,
    epoch: u32,
    keys: Vec<WrappedKey>,
    keys_signature: String,
) -> Result<Conversation, ApiError> {
    use crate::model::conversation::NewConversation;
    use crate::server::{conversations, request};
    let creator = request::current_user().await?;
    let new = NewConversation {
        conversation_id,
        title,
        member_ids,
        epoch,
        keys,
        keys_signature,
    };
    conversations::create(&request::state(), &creator, new).await
}
