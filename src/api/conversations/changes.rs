//! `POST /api/conversations/changes` `{conversation_id, since_epoch}` → the
//! conversation with its epochs from `since_epoch` (≥ 1) on, each as the
//! change from the one before (who came and went, a digest of every
//! member's wrapped key, the reader's own key): what a member who holds
//! the epochs before reads when a head says the conversation moved on.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::changes::{Changes, GetChanges};
use crate::model::error::ApiError;

/// The body is a [`GetChanges`], whole.
#[server(name = ConversationChanges, prefix = "/api", endpoint = "conversations/changes", input = Api, output = Api, custom = Whole)]
pub async fn changes(asked: GetChanges) -> Result<Changes, ApiError> {
    use crate::server::{conversations, request};
    let user = request::current_user().await?;
    conversations::changes(
        &request::state(),
        user.id,
        asked.conversation_id,
        asked.since_epoch,
    )
    .await
}
