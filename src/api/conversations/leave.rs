//! `POST /api/conversations/leave` `{conversation_id, epoch, signature}` →
//! `{}`: the caller's signed departure from the current epoch. They are out
//! at once; sends are 409 `rekey_required` until the next epoch.

use leptos::prelude::*;

use crate::api::Done;
use crate::api::codec::{Api, Whole};
use crate::model::conversation::Leave;
use crate::model::error::ApiError;

/// The body is a [`Leave`], whole.
#[server(name = LeaveConversation, prefix = "/api", endpoint = "conversations/leave", input = Api, output = Api, custom = Whole)]
pub async fn leave(leave: Leave) -> Result<Done, ApiError> {
    use crate::server::{conversations, request};
    let leaver = request::current_user().await?;
    conversations::leave(&request::state(), &leaver, leave).await?;
    Ok(Done {})
}
