//! `POST /api/messages/send`
//! `{conversation_id, message_id, epoch, nonce, ciphertext, signature}` →
//! `{seq, created_at}`, answered after the commit; the message is pushed
//! to the conversation's room after the commit too.

use leptos::prelude::*;

use crate::api::codec::{Api, Whole};
use crate::model::conversation::{Outgoing, Sent};
use crate::model::error::ApiError;

/// The body is an [`Outgoing`] message, whole.
#[server(name = SendMessage, prefix = "/api", endpoint = "messages/send", input = Api, output = Api, custom = Whole)]
pub async fn send(message: Outgoing) -> Result<Sent, ApiError> {
    use crate::server::{messages, request};
    let sender = request::current_user().await?;
    messages::send(&request::state(), &sender, message).await
}
