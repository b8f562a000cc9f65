//! Conversations and messages as they cross the wire (DESIGN.md, "Wire
//! contract") and as the store keeps them: one type each. Byte fields are
//! [`Blob`]s; the server checks each one's size and the browser checks
//! everything again before it trusts a key or a message. Nothing here is
//! plaintext: a message is only its sealed form.

use serde::{Deserialize, Serialize};

use super::account::PublicUser;
use super::blob::Blob;
use super::ids::{ConversationId, MessageId, UserId};

/// Most members a conversation may have, the creator included: a large
/// group, as modern chat apps allow (the benchmark measures a room of 1,000).
pub const MAX_MEMBERS: usize = 1000;
/// Most characters of a conversation title.
pub const MAX_TITLE_CHARS: usize = 100;

/// Whether a title may hold `c`: no control characters, and no Unicode
/// format characters (category Cf: bidi overrides and isolates, invisible
/// marks, zero-width spaces), which could make a title read as something
/// else; except the zero-width joiner and the tag characters, which emoji
/// sequences need.
pub fn title_char_ok(c: char) -> bool {
    const FORMAT: &[(u32, u32)] = &[
        (0x00AD, 0x00AD),
        (0x0600, 0x0605),
        (0x061C, 0x061C),
        (0x06DD, 0x06DD),
        (0x070F, 0x070F),
        (0x0890, 0x0891),
        (0x08E2, 0x08E2),
        (0x180E, 0x180E),
        (0x200B, 0x200C),
        (0x200E, 0x200F),
        (0x202A, 0x202E),
        (0x2060, 0x2064),
        (0x2066, 0x206F),
        (0xFEFF, 0xFEFF),
        (0xFFF9, 0xFFFB),
        (0x110BD, 0x110BD),
        (0x110CD, 0x110CD),
        (0x13430, 0x1343F),
        (0x1BCA0, 0x1BCA3),
        (0x1D173, 0x1D17A),
        (0xE0001, 0xE0001),
    ];
    let code = u32::from(c);
    !c.is_control()
        && !FORMAT
            .iter()
            .any(|(from, to)| (*from..=*to).contains(&code))
}
/// Most messages one history call returns.
pub const MAX_HISTORY_LIMIT: u32 = 200;

/// One member's copy of an epoch's content key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct WrappedKey {
    pub member_id: UserId,
    /// `E.public(65) || nonce(12) || AES-256-GCM(wk, nonce, ck, info)`.
    pub wrapped_key: Blob,
    /// Only beside an epoch's `key_root`: the key's path up the key tree,
    /// 32-byte nodes concatenated, bottom up (`crypto::key_tree`).
    #[cfg_attr(feature = "ssr", sqlx(default))]
    #[serde(default, skip_serializing_if = "no_bytes")]
    pub path: Blob,
}

/// A member's signed departure (suite step 7): `signature` is their
/// `ECDSA(sig, "hush-v1|leave|{conversation_id}|{n}|" || b64u(head_n) ||
/// "|{member_id}")` over the epoch `n` they leave. The server keeps it as
/// given; every client verifies it under the key epoch `n` gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Departure {
    pub member_id: UserId,
    pub signature: Blob,
}

/// One epoch's signed key set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Epoch {
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub epoch: u32,
    pub signer_id: UserId,
    /// `HMAC-SHA256(ck, …)` (suite step 3): binds the content key to the
    /// statement, and reveals nothing of it.
    pub commit: Blob,
    /// The members as the statement signs them, names and keys included;
    /// read apart from the epoch's row, as are the keys.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub members: Vec<PublicUser>,
    /// One per member.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub keys: Vec<WrappedKey>,
    /// The signer's signature over the epoch's statement (suite step 6).
    pub keys_signature: Blob,
    /// The departures from the epoch before that this epoch carries (its
    /// statement names their members); empty at epoch 0.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub departures: Vec<Departure>,
    /// Set only in an epoch put back together from its change
    /// ([`super::changes`]), where `keys` holds only the reader's own, with
    /// its path: the root of the tree over every member's wrapped key
    /// (`crypto::key_tree`), which the statement signs. A whole epoch
    /// leaves it out: its root is built from its keys.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default, skip_serializing_if = "no_bytes")]
    pub key_root: Blob,
}

/// A conversation as create, list and `conversation-added` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Conversation {
    pub id: ConversationId,
    pub title: Option<String>,
    pub created_by: UserId,
    /// RFC 3339 UTC (an addition to DESIGN.md's shape: it orders a new
    /// conversation without messages in the list).
    pub created_at: String,
    /// The `seq` of the newest message; 0 while there is none.
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub last_seq: u64,
    /// Who may read it now, as the server keeps it (its access list; read
    /// apart from the conversation's row, as are the epochs). Clients take
    /// names and keys from the epochs' signed members, never from here.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub members: Vec<PublicUser>,
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    pub epochs: Vec<Epoch>,
    /// Departures from the current epoch that no epoch carries yet: until
    /// one does, sends are 409 `rekey_required`, and the remaining members'
    /// apps post the next epoch without them.
    #[cfg_attr(feature = "ssr", sqlx(skip))]
    #[serde(default)]
    pub pending: Vec<Departure>,
}

impl Conversation {
    /// The current (highest) epoch, the one sends must use.
    pub fn current_epoch(&self) -> Option<&Epoch> {
        self.epochs.iter().max_by_key(|e| e.epoch)
    }

    /// The member with this id.
    pub fn member(&self, id: UserId) -> Option<&PublicUser> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Where it stands, as a list's head says it.
    pub fn head(&self) -> Head {
        Head {
            id: self.id,
            last_seq: self.last_seq,
            epoch: self.current_epoch().map_or(0, |e| e.epoch),
            pending: self.pending.len() as u32,
        }
    }
}

/// The body of `/api/conversations/create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConversation {
    pub conversation_id: ConversationId,
    #[serde(default)]
    pub title: Option<String>,
    pub member_ids: Vec<UserId>,
    pub epoch: u32,
    /// The commitment to the new content key (suite step 3).
    pub commit: Blob,
    pub keys: Vec<WrappedKey>,
    pub keys_signature: Blob,
}

/// The body of `/api/conversations/change`: epoch `epoch`, one past the
/// current one, signed by a member of the current epoch, with a fresh
/// content key wrapped to exactly `member_ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub conversation_id: ConversationId,
    pub epoch: u32,
    pub member_ids: Vec<UserId>,
    pub commit: Blob,
    pub keys: Vec<WrappedKey>,
    pub keys_signature: Blob,
    /// Exactly the conversation's pending departures.
    #[serde(default)]
    pub departures: Vec<Departure>,
}

/// The body of `/api/conversations/leave`: the caller's departure from the
/// current epoch `epoch`, signed (see [`Departure`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    pub conversation_id: ConversationId,
    pub epoch: u32,
    pub signature: Blob,
}

/// The body of `/api/conversations/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetConversation {
    pub conversation_id: ConversationId,
}

/// What `conversation-removed` says: the caller is no longer a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    pub conversation_id: ConversationId,
}

/// The body of `/api/messages/send`: a message sealed and signed by its
/// sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outgoing {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub epoch: u32,
    pub nonce: Blob,
    pub ciphertext: Blob,
    pub signature: Blob,
}

/// The answer to a send: where the message sits in the conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    pub seq: u64,
    /// RFC 3339 UTC, the server's clock.
    pub created_at: String,
}

/// A stored message, as the store reads it, history returns it and
/// `new-message` pushes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub seq: u64,
    pub sender_id: UserId,
    /// The sender's name as the server says it; the browser shows the name
    /// from the signed member set instead.
    pub sender: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "i64"))]
    pub epoch: u32,
    pub nonce: Blob,
    pub ciphertext: Blob,
    pub signature: Blob,
    pub created_at: String,
}

/// The answer to history: messages in ascending `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub messages: Vec<Message>,
}

/// Most conversation ids a list may name as `known`.
pub const MAX_KNOWN: usize = 10_000;

/// Where a conversation the client already holds stands now: a list names
/// these instead of sending members and epochs again. A client whose copy
/// is older than `epoch`, or that sees `pending` departures, reads the
/// conversation again (`/api/conversations/get`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub id: ConversationId,
    pub last_seq: u64,
    /// The current epoch.
    #[serde(default)]
    pub epoch: u32,
    /// How many departures wait for the next epoch.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pending: u32,
}

impl Head {
    /// Whether `other` names the same epoch and pending departures: the
    /// keys held for one serve the other (`last_seq` may differ).
    pub fn same_keys(&self, other: &Head) -> bool {
        (self.epoch, self.pending) == (other.epoch, other.pending)
    }
}

fn no_bytes(b: &Blob) -> bool {
    b.is_empty()
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The answer to list: one page of the caller's conversations, newest
/// (highest id) first, those it named as `known` as heads only; `next`, when
/// set, is the `cursor` that asks for the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversations {
    pub conversations: Vec<Conversation>,
    #[serde(default)]
    pub heads: Vec<Head>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<ConversationId>,
    /// Read positions in this page's conversations: the caller's own, and
    /// those of the others who share receipts (only if the caller does
    /// too); positions at 0 are left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reads: Vec<super::live::Read>,
}

#[cfg(test)]
mod tests {
    use super::title_char_ok;

    #[test]
    fn titles_refuse_controls_and_invisible_formatting_but_keep_emoji() {
        for bad in [
            '\u{202E}', '\u{2066}', '\u{200B}', '\u{200F}', '\u{FEFF}', '\u{00AD}', '\n', '\u{7}',
        ] {
            assert!(!title_char_ok(bad), "{:04X}", u32::from(bad));
        }
        for good in
            "Weekend plans ☕ Grüße 你好 👨\u{200D}👩\u{200D}👧 🏴\u{E0067}\u{E0062}\u{E007F}"
                .chars()
        {
            assert!(title_char_ok(good), "{:04X}", u32::from(good));
        }
    }
}
