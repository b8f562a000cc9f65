//! A conversation's newer epochs as what changed from one to the next
//! (`/api/conversations/changes`), and how a client that holds the epochs
//! before puts them back together. A member who already holds a group's
//! chain reads, per new epoch, only who came and went, the root of the
//! tree over the members' wrapped keys (what the statement signs), and its
//! own wrapped key with its path up that tree (`crypto::key_tree`): about
//! 1 KB per epoch in a group of 1,000, where the whole epoch is half a
//! megabyte, small enough that the server pushes it to each member with
//! `conversation-changed` ([`ConversationChanged`]). Nothing here is trusted: the
//! epochs put back together are checked by the verifier like any others,
//! and a server that lies about who came or went, about the root or about
//! a path, fails the signed statement.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use super::account::PublicUser;
use super::blob::Blob;
use super::conversation::{Conversation, Departure, Epoch, Head, WrappedKey};
use super::ids::{ConversationId, UserId};

/// The body of `/api/conversations/changes`: the epochs from `since_epoch`
/// on, for a member who holds those before it (so `since_epoch` ≥ 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetChanges {
    pub conversation_id: ConversationId,
    pub since_epoch: u32,
}

/// One epoch as the change from the epoch before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochChange {
    pub epoch: u32,
    pub signer_id: UserId,
    pub commit: Blob,
    pub keys_signature: Blob,
    /// The departures this epoch carries.
    #[serde(default)]
    pub departures: Vec<Departure>,
    /// Members not in the epoch before, in full.
    #[serde(default)]
    pub added: Vec<PublicUser>,
    /// Members of the epoch before who are not in this one.
    #[serde(default)]
    pub removed: Vec<UserId>,
    /// The root of the tree over every member's wrapped key, which the
    /// statement signs.
    pub key_root: Blob,
    /// The reader's own wrapped key, when the reader is in this epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Blob>,
    /// The path of `key` up the tree, 32-byte nodes concatenated, bottom
    /// up.
    #[serde(default, skip_serializing_if = "<[u8]>::is_empty")]
    pub path: Blob,
}

/// `conversation-changed`: where a conversation stands (its head), and,
/// when what changed is a new epoch, that epoch as the change for the
/// member told (its own key and path), so that a member holding the epoch
/// before takes it without a read. Without `changes`, or if they do not
/// follow what the member holds, the member reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationChanged {
    #[serde(flatten)]
    pub head: Head,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// The answer to `/api/conversations/changes`: the conversation as list
/// gives it, less its members and epochs, and the epochs asked for as
/// changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub id: ConversationId,
    pub title: Option<String>,
    pub created_by: UserId,
    pub created_at: String,
    pub last_seq: u64,
    pub epochs: Vec<EpochChange>,
    /// Departures from the current epoch that no epoch carries yet.
    #[serde(default)]
    pub pending: Vec<Departure>,
}

/// Why changes do not fit the epochs a client holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    #[error("the changes are of another conversation")]
    Conversation,
    #[error("the changes start at epoch {found}, not right after the epochs held ({expected})")]
    Start { expected: u32, found: u32 },
    #[error("epoch {epoch}: it removes someone who was not in the epoch before")]
    Removed { epoch: u32 },
    #[error("epoch {epoch}: it adds someone who is already in it")]
    Added { epoch: u32 },
}

impl Changes {
    /// The conversation as it stands: `held` (its epochs as this client
    /// accepted them, up to the one before the first change) followed by
    /// the changes, each put back together from the epoch before it, with
    /// `me`'s own wrapped key where the change gives it. The access list
    /// is the last epoch's members less those whose departure is pending,
    /// as the server keeps it.
    pub fn onto(self, held: &Conversation, me: UserId) -> Result<Conversation, Misfit> {
        if self.id != held.id {
            return Err(Misfit::Conversation);
        }
        let mut epochs = held.epochs.clone();
        for change in self.epochs {
            let latest = epochs.iter().max_by_key(|e| e.epoch);
            let expected = latest.map_or(0, |e| e.epoch + 1);
            let Some(before) = latest.filter(|_| change.epoch == expected) else {
                return Err(Misfit::Start {
                    expected,
                    found: change.epoch,
                });
            };
            let next = next_epoch(&before.members, change, me)?;
            epochs.push(next);
        }
        let left: HashSet<UserId> = self.pending.iter().map(|d| d.member_id).collect();
        let members = epochs
            .iter()
            .max_by_key(|e| e.epoch)
            .map(|e| {
                e.members
                    .iter()
                    .filter(|m| !left.contains(&m.id))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Conversation {
            id: self.id,
            title: self.title,
            created_by: self.created_by,
            created_at: self.created_at,
            last_seq: self.last_seq,
            members,
            epochs,
            pending: self.pending,
        })
    }
}

/// An epoch put back together from the members of the epoch before it.
fn next_epoch(before: &[PublicUser], change: EpochChange, me: UserId) -> Result<Epoch, Misfit> {
    let epoch = change.epoch;
    let was: HashSet<UserId> = before.iter().map(|m| m.id).collect();
    let removed: HashSet<UserId> = change.removed.iter().copied().collect();
    if removed.len() != change.removed.len() || !removed.iter().all(|id| was.contains(id)) {
        return Err(Misfit::Removed { epoch });
    }
    let mut members: Vec<PublicUser> = before
        .iter()
        .filter(|m| !removed.contains(&m.id))
        .cloned()
        .collect();
    for user in change.added {
        if members.iter().any(|m| m.id == user.id) {
            return Err(Misfit::Added { epoch });
        }
        members.push(user);
    }
    // (The statement puts members in id order itself.)
    Ok(Epoch {
        epoch,
        signer_id: change.signer_id,
        commit: change.commit,
        members,
        keys: change
            .key
            .map(|wrapped_key| WrappedKey {
                member_id: me,
                wrapped_key,
                path: change.path,
            })
            .into_iter()
            .collect(),
        keys_signature: change.keys_signature,
        departures: change.departures,
        key_root: change.key_root,
    })
}

/// The change from `before` to `epoch` (both whole), the same for every
/// reader (`key`, `path` and `key_root` are left empty: the key tree fills
/// them in). Who was added and their departures come in id order, whatever
/// order the epochs hold them in.
pub fn change_between(before: &Epoch, epoch: &Epoch) -> EpochChange {
    let was: BTreeSet<UserId> = before.members.iter().map(|m| m.id).collect();
    let now: BTreeSet<UserId> = epoch.members.iter().map(|m| m.id).collect();
    EpochChange::new(
        epoch,
        epoch
            .members
            .iter()
            .filter(|m| !was.contains(&m.id))
            .cloned()
            .collect(),
        was.difference(&now).copied().collect(),
    )
}

impl EpochChange {
    /// `epoch` (its keys aside) as the change that added `added` and took
    /// out `removed` (those who left among them), in id order: what a
    /// server that just stored `epoch` knows without reading the one
    /// before, and what [`change_between`] reads off both.
    pub fn new(epoch: &Epoch, mut added: Vec<PublicUser>, mut removed: Vec<UserId>) -> Self {
        added.sort_by_key(|m| m.id);
        removed.sort();
        let mut departures = epoch.departures.clone();
        departures.sort_by_key(|d| d.member_id);
        EpochChange {
            epoch: epoch.epoch,
            signer_id: epoch.signer_id,
            commit: epoch.commit.clone(),
            keys_signature: epoch.keys_signature.clone(),
            departures,
            added,
            removed,
            key_root: Blob::default(),
            key: None,
            path: Blob::default(),
        }
    }
}
