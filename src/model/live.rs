//! What the live conversation carries besides messages (DESIGN.md, "Live
//! conversation (wire)"): read positions and what a user shares of them
//! and of being online. Nothing here is content: the server sees all of
//! it, and says so in docs/API.md.

use serde::{Deserialize, Serialize};

use super::ids::{ConversationId, UserId};

/// A read position: `user_id` has read `conversation_id` up to `seq`. In
/// list answers (`reads`) and as the `read` push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Read {
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    pub seq: u64,
}

/// The body of `/api/conversations/read`: the caller has read the
/// conversation up to `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub conversation_id: ConversationId,
    pub seq: u64,
}

/// The answer to `/api/conversations/read`: the position now stored,
/// which never goes down (and never past the conversation's last `seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadAt {
    pub seq: u64,
}

/// What a user shares with the people they share a conversation with.
/// Both are reciprocal: who shares neither sees the others'. On by
/// default. The body and answer of `/api/settings/put`, the answer of
/// `/api/settings/get`, and the `settings` push to the user's other tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Sharing {
    /// Read receipts: others see how far this user has read.
    #[cfg_attr(feature = "ssr", sqlx(rename = "share_receipts"))]
    pub receipts: bool,
    /// Online status: others see when this user is online.
    #[cfg_attr(feature = "ssr", sqlx(rename = "share_presence"))]
    pub presence: bool,
}

impl Default for Sharing {
    fn default() -> Self {
        Sharing {
            receipts: true,
            presence: true,
        }
    }
}

/// The `presence` push: `user_id` came online or went offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub user_id: UserId,
    pub online: bool,
}

/// The answer to `/api/presence`: who of the people the caller shares a
/// conversation with is online now (empty when the caller does not share
/// presence).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Online {
    pub online: Vec<UserId>,
}
