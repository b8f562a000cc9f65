//! The Socket.IO side of the wire contract, shared by the server and the
//! browser: event names next to their payloads, room names, and the
//! Engine.IO / Socket.IO text frames (in [`frames`]).
//!
//! Server → client: [`NEW_MESSAGE`] carries a stored
//! [`Message`](crate::model::conversation::Message), emitted to the
//! conversation's room only after the message is committed;
//! [`CONVERSATION_ADDED`] carries a
//! [`Conversation`](crate::model::conversation::Conversation), emitted to each
//! member's user room; [`CONVERSATION_CHANGED`] (its head, and a new
//! epoch as each member's change) to the
//! members after a change or a leave, and [`CONVERSATION_REMOVED`] to those
//! who are no longer in it. Client → server: [`JOIN_CONVERSATION`] and
//! [`LEAVE_CONVERSATION`] with a bare conversation id, answered by a
//! [`RoomAck`].

pub mod frames;

use serde::{Deserialize, Serialize};

use crate::model::error::ErrorCode;
use crate::model::ids::{ConversationId, UserId};

/// Where Engine.IO is served (namespace `/`), as the server's layer is
/// configured: it answers this path itself and every path below it.
pub const SOCKET_PATH: &str = "/socket.io";

/// Whether the Socket.IO layer answers `path`: exactly [`SOCKET_PATH`] or
/// anything below it (the rule engineioxide applies), so that a guard in
/// front of the layer sees every request the layer serves.
pub fn is_socket_path(path: &str) -> bool {
    path.strip_prefix(SOCKET_PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// A message was stored: payload `Message`.
pub const NEW_MESSAGE: &str = "new-message";
/// The user was added to a conversation: payload `Conversation`.
pub const CONVERSATION_ADDED: &str = "conversation-added";
/// A conversation the user is in changed (people came or went, a new
/// epoch, a pending departure): payload
/// [`ConversationChanged`](crate::model::changes::ConversationChanged),
/// where it stands now and, after a new epoch, that epoch as the member's
/// change; the client reads what else it lacks with
/// `/api/conversations/changes`.
pub const CONVERSATION_CHANGED: &str = "conversation-changed";
/// The user is no longer in a conversation (removed, or left): payload
/// `{conversation_id}`.
pub const CONVERSATION_REMOVED: &str = "conversation-removed";
/// Join a conversation's room (members only): payload a conversation id.
pub const JOIN_CONVERSATION: &str = "join-conversation";
/// Leave a conversation's room: payload a conversation id.
pub const LEAVE_CONVERSATION: &str = "leave-conversation";

/// Someone is typing. Client → server: `{conversation_id}` (members only,
/// at most one every [`TYPING_EVERY`] per socket, never stored, no ack);
/// server → the conversation's room but the sending socket:
/// `{conversation_id, user_id}`, or when several typed within a second,
/// once for them all to the whole room: `{conversation_id, user_id,
/// user_ids}` (`user_id` the first of `user_ids`; apps skip their own).
pub const TYPING: &str = "typing";
/// The least time between two `typing` events a socket has relayed.
pub const TYPING_EVERY: std::time::Duration = std::time::Duration::from_secs(2);
/// How long an app shows "… is typing" after the last `typing` event.
pub const TYPING_SHOWN: std::time::Duration = std::time::Duration::from_secs(6);

/// A read position moved (`model::live::Read`): to the reader's own
/// sockets always, and to the conversation's room when the reader shares
/// receipts, but not to the sockets of users who do not.
pub const READ: &str = "read";
/// Someone the user shares a conversation with came online or went
/// offline (`model::live::Presence`), only while both share presence.
pub const PRESENCE: &str = "presence";
/// What the user shares changed (`model::live::Sharing`), to their own
/// sockets.
pub const SETTINGS: &str = "settings";
/// How long a user stays online after their last socket closed: a reload
/// or a brief loss of network does not flicker.
pub const PRESENCE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The room of every socket whose user does not share read receipts: reads
/// are sent to a conversation's room except this one.
pub const NO_RECEIPTS_ROOM: &str = "no-receipts";
/// The room of every socket whose user does not share presence.
pub const NO_PRESENCE_ROOM: &str = "no-presence";

/// What a client says with `typing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingIn {
    pub conversation_id: ConversationId,
}

/// What the room hears with `typing`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typing {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// Set when the relay names several typists at once (coalesced by the
    /// server): all of them, `user_id` first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_ids: Vec<UserId>,
}

impl Typing {
    /// Everyone this relay says is typing.
    pub fn typists(&self) -> &[UserId] {
        if self.user_ids.is_empty() {
            std::slice::from_ref(&self.user_id)
        } else {
            &self.user_ids
        }
    }
}

/// The ack of a join or leave: `{ok: true}` or `{error: "not_a_member"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoomAck {
    Ok { ok: bool },
    Error { error: ErrorCode },
}

/// The handshake's `auth` payload: `{token}` (a client may also send the
/// session cookie instead).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeAuth {
    pub token: Option<String>,
}

/// The room of every socket of one user.
pub fn user_room(user: UserId) -> String {
    format!("user:{user}")
}

/// The room of every socket of every member of one conversation.
pub fn conversation_room(conversation: ConversationId) -> String {
    format!("{CONVERSATION_ROOM_PREFIX}{conversation}")
}

/// What every conversation's room name starts with.
pub const CONVERSATION_ROOM_PREFIX: &str = "conversation:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_acks_have_the_contract_shape() {
        assert_eq!(
            serde_json::to_string(&RoomAck::Ok { ok: true }).unwrap(),
            r#"{"ok":true}"#
        );
        assert_eq!(
            serde_json::to_string(&RoomAck::Error {
                error: ErrorCode::NotAMember
            })
            .unwrap(),
            r#"{"error":"not_a_member"}"#
        );
    }
}
