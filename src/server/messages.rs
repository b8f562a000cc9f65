//! What the message endpoints do, apart from HTTP: check a sealed message,
//! append it with the conversation's next `seq`, and only after the commit
//! push it to the conversation's room; read history for members.
//!
//! The server sees sizes, ids and times; it logs ids and sizes only, never
//! a nonce, a ciphertext or a signature.

use socketioxide::BroadcastError;

use super::fields;
use super::rate::Action;
use super::state::AppState;
use super::store::{AppendRefusal, Appended, NewMessage, Page, UserRecord};
use crate::model::conversation::{MAX_HISTORY_LIMIT, Message, Outgoing, Sent};
use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::{ConversationId, UserId};
use crate::model::suite::{NONCE_LEN, SIGNATURE_LEN, TAG_LEN};
use crate::protocol::{self, NEW_MESSAGE};

fn not_a_member() -> ApiError {
    ApiError::new(
        ErrorCode::NotAMember,
        "You are not a member of that conversation.",
    )
}

/// Pushes a stored message to its conversation's room. Socket.IO delivers
/// at most once: a socket whose buffer is full (a slow or stalled client)
/// misses the push. That is never hidden — each miss is logged at warn, with
/// ids and counts only — and nothing is lost: the member's client finds the
/// gap from the next push's `seq`, or at its next connect, and fetches it.
async fn push(state: &AppState, message: Message) {
    let room = protocol::conversation_room(message.conversation_id);
    let Some(to) = state.to(room) else {
        return;
    };
    match to.emit(NEW_MESSAGE, &message).await {
        Ok(()) => {}
        Err(BroadcastError::Socket(missed)) => tracing::warn!(
            conversation = %message.conversation_id,
            seq = message.seq,
            sockets = missed.len(),
            "a push did not reach every socket (buffer full or closed); they catch up from history"
        ),
        Err(e) => tracing::warn!(
            conversation = %message.conversation_id,
            seq = message.seq,
            error = %e,
            "a push failed; members catch up from history"
        ),
    }
}

/// Stores `message` from `sender` and pushes it to the conversation's room.
/// A repeat of an earlier send answers the original and pushes nothing.
pub async fn send(
    state: &AppState,
    sender: &UserRecord,
    message: Outgoing,
) -> Result<Sent, ApiError> {
    state.limit(sender.id, Action::Send)?;
    let limit = state.settings.max_message_bytes as usize;
    let ciphertext = message.ciphertext.len();
    if ciphertext > limit {
        return Err(ApiError::new(
            ErrorCode::MessageTooLarge,
            format!("ciphertext: at most {limit} bytes"),
        ));
    }
    if ciphertext < TAG_LEN {
        return Err(ApiError::encoding(
            "ciphertext",
            &format!("at least {TAG_LEN} bytes (the tag)"),
        ));
    }
    fields::exact("nonce", &message.nonce, NONCE_LEN)?;
    fields::exact("signature", &message.signature, SIGNATURE_LEN)?;
    let new = NewMessage {
        sent: message,
        sender_id: sender.id,
        sender: sender.username.clone(),
        created_at: fields::now_rfc3339(),
    };
    let stored = match state.store.append_message(new).await? {
        Ok(Appended::New(stored)) => {
            tracing::debug!(
                conversation = %stored.conversation_id,
                message = %stored.id,
                seq = stored.seq,
                bytes = stored.ciphertext.len(),
                "message stored"
            );
            let sent = Sent {
                seq: stored.seq,
                created_at: stored.created_at.clone(),
            };
            state.typing.sent(stored.conversation_id, sender.id);
            push(state, stored).await;
            return Ok(sent);
        }
        Ok(Appended::Repeat(stored)) => stored,
        Err(AppendRefusal::NotAMember) => return Err(not_a_member()),
        Err(AppendRefusal::StaleEpoch { current }) => {
            return Err(ApiError::new(
                ErrorCode::StaleEpoch,
                format!("epoch: the conversation is at epoch {current}"),
            ));
        }
        Err(AppendRefusal::RekeyRequired) => {
            return Err(ApiError::new(
                ErrorCode::RekeyRequired,
                "A member left: the conversation needs its next key before anything more is sent.",
            ));
        }
        Err(AppendRefusal::IdConflict) => {
            return Err(ApiError::new(
                ErrorCode::IdConflict,
                "message_id: that id belongs to another message",
            ));
        }
    };
    Ok(Sent {
        seq: stored.seq,
        created_at: stored.created_at,
    })
}

/// One page of a conversation's history, for a member.
pub async fn history(
    state: &AppState,
    reader: UserId,
    conversation: ConversationId,
    before_seq: Option<u64>,
    after_seq: Option<u64>,
    limit: u32,
) -> Result<Vec<Message>, ApiError> {
    if limit == 0 || limit > MAX_HISTORY_LIMIT {
        return Err(ApiError::invalid(
            "limit",
            &format!("from 1 to {MAX_HISTORY_LIMIT}"),
        ));
    }
    if !state.store.is_member(conversation, reader).await? {
        return Err(not_a_member());
    }
    let page = Page {
        after_seq,
        before_seq,
        limit,
    };
    Ok(state.store.history(conversation, reader, page).await?)
}
