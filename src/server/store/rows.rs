//! Conversations put back together from their rows, the same for every
//! backend: the typed rows each backend's queries read (members, epochs,
//! wrapped keys, departures, each naming its conversation), and how they
//! become whole conversations and epochs; and the column lists of a user
//! and of a message, which are the same SQL on every backend.

use std::collections::HashMap;

use crate::model::account::PublicUser;
use crate::model::conversation::{Conversation, Departure, Epoch, WrappedKey};
use crate::model::ids::ConversationId;

/// `SELECT <every user column> FROM users <rest>`, as one static string.
macro_rules! select_user {
    ($rest:literal) => {
        concat!(
            "SELECT id, username, auth_hash, kdf_salt, kdf_iterations, dh_public, sig_public, \
             dh_private_wrapped, sig_private_wrapped, token_version, created_at, share_receipts, \
             share_presence FROM users ",
            $rest
        )
    };
}

pub(super) use select_user;

/// `SELECT <every message column, the sender's name joined> … <rest>`.
macro_rules! select_message {
    ($rest:literal) => {
        concat!(
            "SELECT m.id, m.conversation_id, m.seq, m.sender_id, u.username AS sender, m.epoch, \
             m.nonce, m.ciphertext, m.signature, m.created_at \
             FROM messages m JOIN users u ON u.id = m.sender_id ",
            $rest
        )
    };
}

pub(super) use select_message;

/// A member of the access list, with the name and keys of their account.
#[derive(Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub conversation_id: ConversationId,
    #[sqlx(flatten)]
    pub user: PublicUser,
}

/// An epoch's row (its members, keys and departures come apart).
#[derive(Debug, sqlx::FromRow)]
pub struct EpochRow {
    pub conversation_id: ConversationId,
    #[sqlx(flatten)]
    pub epoch: Epoch,
}

/// One member's wrapped key in an epoch, joined with the member's account:
/// an epoch's signed members are those its keys name.
#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub conversation_id: ConversationId,
    #[sqlx(try_from = "i64")]
    pub epoch: u32,
    #[sqlx(flatten)]
    pub member: PublicUser,
    #[sqlx(flatten)]
    pub key: WrappedKey,
}

/// A departure, with the epoch that carries it (`None` while it waits).
#[derive(Debug, sqlx::FromRow)]
pub struct DepartureRow {
    pub conversation_id: ConversationId,
    #[sqlx(flatten)]
    pub departure: Departure,
    pub carried_in: Option<i64>,
}

/// Departures not yet carried by an epoch, by conversation.
pub type Pending = HashMap<ConversationId, Vec<Departure>>;

/// Each conversation's epochs with their signed members and keys and the
/// departures each carries, in the order of `epochs`; the departures no
/// epoch carries yet come apart.
pub fn epochs_of(
    epochs: Vec<EpochRow>,
    keys: Vec<KeyRow>,
    departures: Vec<DepartureRow>,
) -> (HashMap<ConversationId, Vec<Epoch>>, Pending) {
    let mut carried: HashMap<(ConversationId, u32), Vec<Departure>> = HashMap::new();
    let mut pending: Pending = HashMap::new();
    for row in departures {
        // An epoch number past u32 is never stored; such a row would name
        // no epoch, and is kept with none rather than lost.
        match row.carried_in.and_then(|e| u32::try_from(e).ok()) {
            Some(epoch) => carried
                .entry((row.conversation_id, epoch))
                .or_default()
                .push(row.departure),
            None => pending
                .entry(row.conversation_id)
                .or_default()
                .push(row.departure),
        }
    }
    let mut keys_of: HashMap<(ConversationId, u32), (Vec<PublicUser>, Vec<WrappedKey>)> =
        HashMap::new();
    for row in keys {
        let (members, keys) = keys_of.entry((row.conversation_id, row.epoch)).or_default();
        members.push(row.member);
        keys.push(row.key);
    }
    let mut epochs_of: HashMap<ConversationId, Vec<Epoch>> = HashMap::new();
    for row in epochs {
        let (conversation, mut epoch) = (row.conversation_id, row.epoch);
        (epoch.members, epoch.keys) = keys_of
            .remove(&(conversation, epoch.epoch))
            .unwrap_or_default();
        epoch.departures = carried
            .remove(&(conversation, epoch.epoch))
            .unwrap_or_default();
        epochs_of.entry(conversation).or_default().push(epoch);
    }
    (epochs_of, pending)
}

/// Conversation rows made whole with their members, epochs, keys and
/// departures (those an epoch carries, and those still pending), in the
/// order of `conversations`.
pub fn assemble(
    conversations: Vec<Conversation>,
    members: Vec<MemberRow>,
    epochs: Vec<EpochRow>,
    keys: Vec<KeyRow>,
    departures: Vec<DepartureRow>,
) -> Vec<Conversation> {
    let (mut epochs_of, mut pending) = epochs_of(epochs, keys, departures);
    let mut members_of: HashMap<ConversationId, Vec<PublicUser>> = HashMap::new();
    for row in members {
        members_of
            .entry(row.conversation_id)
            .or_default()
            .push(row.user);
    }
    conversations
        .into_iter()
        .map(|mut conversation| {
            conversation.members = members_of.remove(&conversation.id).unwrap_or_default();
            conversation.epochs = epochs_of.remove(&conversation.id).unwrap_or_default();
            conversation.pending = pending.remove(&conversation.id).unwrap_or_default();
            conversation
        })
        .collect()
}
