//! `POST /api/conversations/list` `{known?, cursor?}` →
//! `{conversations, heads, next?}`: one page of the caller's conversations,
//! newest first; those named in `known` (whose members and epochs the
//! caller holds) as heads only. `next` is the `cursor` of the next page.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::conversation::Conversations;
use crate::model::error::ApiError;
use crate::model::ids::ConversationId;

#[server(name = ListConversations, prefix = "/api", endpoint = "conversations/list", input = Api, output = Api)]
pub async fn list(
    known: Option<Vec<ConversationId>>,
    cursor: Option<ConversationId>,
) -> Result<Conversations, ApiError> {
    use crate::server::{conversations, request};
    let user = request::current_user().await?;
    conversations::list(&request::state(), &user, known.unwrap_or_default(), cursor).await
}
