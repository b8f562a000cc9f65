//! `POST /api/messages/send`
//! `{conversation_id, message_id, epoch, nonce, ciphertext, signature}` →
//! `{seq, created_at}`, answered after the commit; the message is pushed
//! to the conversation's room after the commit too.

use leptos::prelude::*;

use crate::api::codec::Api;
use crate::model::conversation::Sent;
use crate::model::error::ApiError;
use crate::model::ids::{ConversationId, MessageId};

#[server(name = SendMessage, prefix = "/api", endpoint = "messages/send", input = Api, output = Api)]
pub async fn send(
    conversation_id: ConversationId,
    message_id: MessageId,
    epoch: u32,
    nonce: String,
    ciphertext: String,
    signature: String,
) -> Result<Sent, ApiError> {
    use crate::model::conversation::Outgoing;
    use crate::server::{messages, request};
    let sender = request::current_user().await?;
    let message = Outgoing {
        conversation_id,
        message_id,
        epoch,
        nonce,
        ciphertext,
        signature,
    };
    messages::send(&request::state(), &sender, message).await
}
