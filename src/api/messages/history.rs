//! `POST /api/messages/history` `{conversation_id, before_seq?, after_seq?,
//! limit}` → `{messages}` in ascending `seq`; both bounds exclusive, `limit`
//! from 1 to 200, members only.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::conversation::History;
use crate::model::error::ApiError;
use crate::model::ids::ConversationId;

#[server(name = MessageHistory, prefix = "/api", endpoint = "messages/history", input = Api, output = Api)]
pub async fn history(
    conversation_id: ConversationId,
    before_seq: Option<u64>,
    after_seq: Option<u64>,
    limit: u32,
) -> Result<History, ApiError> {
    use crate::server::{messages, request};
    let reader = request::current_user().await?;
    let messages = messages::history(
        &request::state(),
        reader.id,
        conversation_id,
        before_seq,
        after_seq,
        limit,
    )
    .await?;
    Ok(History { messages })
}
