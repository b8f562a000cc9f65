//! Storage: the one trait every backend implements, and opening the backend
//! that the settings choose.
//!
//! Server functions and handlers talk to `dyn Store` only; SQL lives in the
//! backend modules. The store holds what DESIGN.md says the server may see
//! (names, membership, sizes, times, ciphertext) and nothing else; it never
//! logs row contents.

#[macro_use]
mod backend;
mod decide;
mod postgres;
mod queue;
mod rows;
mod rules;
mod sqlite;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;

use super::settings::Settings;
use crate::model::account::{Identity, KdfParams, PublicUser};
use crate::model::blob::Blob;
use crate::model::changes::{Changes, EpochChange};
use crate::model::contacts::{PutBook, StoredBook};
use crate::model::conversation::{
    Change, Conversation, Epoch, Head, Message, NewConversation, Outgoing,
};
use crate::model::ids::{ConversationId, UserId};
use crate::model::live::{Read, Sharing};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// An account as stored. Everything here is what the server may see: the
/// private keys are wrapped under a key only the password can derive.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    pub id: UserId,
    /// Canonical (lowercase) form.
    pub username: String,
    /// PHC string of Argon2id(auth_key).
    pub auth_hash: String,
    #[sqlx(flatten)]
    pub kdf: KdfParams,
    #[sqlx(flatten)]
    pub identity: Identity,
    /// Tokens carry the version they were issued under; logout bumps it.
    #[sqlx(try_from = "i64")]
    pub token_version: u32,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// What the user shares of their reads and of being online.
    #[sqlx(flatten)]
    pub sharing: Sharing,
}

impl UserRecord {
    /// The user as others see them: name and public keys.
    pub fn public(&self) -> PublicUser {
        PublicUser {
            id: self.id,
            username: self.username.clone(),
            dh_public: self.identity.dh_public.clone(),
            sig_public: self.identity.sig_public.clone(),
        }
    }
}

/// One conversation of a user's list: in full, or only where it stands when
/// the caller already holds its members and epochs (they never change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    Full(Conversation),
    Head(Head),
}

/// One page of a user's list, newest conversation (highest id) first, and
/// where the next page starts (`None`: this was the last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub listed: Vec<Listed>,
    pub next: Option<ConversationId>,
}

/// Most entries in one page of the list.
pub const LIST_PAGE: usize = 200;
/// Most members, summed over a page's conversations sent in full (each
/// member brings its keys in every epoch): a page of large groups stays a
/// few megabytes at most. A head weighs one.
pub const LIST_PAGE_MEMBERS: usize = 4_000;

/// A candidate for a page: a conversation of the user below the cursor,
/// in descending id order, with its member count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub head: Head,
    pub members: usize,
}

/// What goes in a page: the heads of the known candidates, the ids to read
/// in full, and the cursor of the next page. `candidates` holds up to
/// [`LIST_PAGE`] + 1 rows (one more than fits says there is more). A page
/// always takes its first candidate, however large.
pub fn cut_page(
    candidates: Vec<Candidate>,
    known: &HashSet<ConversationId>,
) -> (Vec<Head>, Vec<ConversationId>, Option<ConversationId>) {
    let (mut heads, mut full) = (Vec::new(), Vec::new());
    let mut weight = 0;
    let mut last = None;
    for (taken, candidate) in candidates.into_iter().enumerate() {
        let is_known = known.contains(&candidate.head.id);
        let adds = if is_known {
            1
        } else {
            candidate.members.max(1)
        };
        if taken == LIST_PAGE || (taken > 0 && weight + adds > LIST_PAGE_MEMBERS) {
            return (heads, full, last);
        }
        weight += adds;
        last = Some(candidate.head.id);
        if is_known {
            heads.push(candidate.head);
        } else {
            full.push(candidate.head.id);
        }
    }
    (heads, full, None)
}

/// What creating a conversation stores, in one transaction: the request as
/// checked (its title trimmed), by its creator, who signed epoch 0.
#[derive(Debug, Clone)]
pub struct Creation {
    pub new: NewConversation,
    pub created_by: UserId,
    pub created_at: String,
}

/// A message to append: as its sender sealed it, with who sent it and when
/// the server took it; the store gives it the next `seq`.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sent: Outgoing,
    pub sender_id: UserId,
    /// The sender's name, which the stored message carries.
    pub sender: String,
    pub created_at: String,
}

impl NewMessage {
    /// The message as stored with `seq`.
    pub fn stored(&self, seq: u64) -> Message {
        let sent = &self.sent;
        Message {
            id: sent.message_id,
            conversation_id: sent.conversation_id,
            seq,
            sender_id: self.sender_id,
            sender: self.sender.clone(),
            epoch: sent.epoch,
            nonce: sent.nonce.clone(),
            ciphertext: sent.ciphertext.clone(),
            signature: sent.signature.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

/// What appending a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now, with the next `seq`: broadcast it.
    New(Message),
    /// The same id with the same bytes from the same sender was stored
    /// before: this is the original, nothing was written.
    Repeat(Message),
}

/// Why a message was not appended (checked in the append's transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendRefusal {
    /// The conversation does not exist or the sender is not in it.
    NotAMember,
    /// The message names an epoch other than the current one.
    StaleEpoch { current: u32 },
    /// A member left: the next epoch must come first.
    RekeyRequired,
    /// The id belongs to another message (other bytes, sender or
    /// conversation).
    IdConflict,
}

/// Where a conversation stands: `conversation` is its row and its pending
/// departures (its `members` and `epochs` left empty), `epoch` its current
/// epoch.
#[derive(Debug, Clone)]
pub struct Standing {
    pub conversation: Conversation,
    pub epoch: u32,
}

impl Standing {
    /// Where it stands, as a list's head says it.
    pub fn head(&self) -> Head {
        Head {
            epoch: self.epoch,
            ..self.conversation.head()
        }
    }

    /// Where it stands, with `epochs` as the changes that led there.
    pub fn changes(&self, epochs: Vec<EpochChange>) -> Changes {
        let c = &self.conversation;
        Changes {
            id: c.id,
            title: c.title.clone(),
            created_by: c.created_by,
            created_at: c.created_at.clone(),
            last_seq: c.last_seq,
            epochs,
            pending: c.pending.clone(),
        }
    }
}

/// A new epoch to store: the change as checked, and who signed it.
#[derive(Debug, Clone)]
pub struct ChangeRecord {
    pub change: Change,
    pub signer: UserId,
}

impl ChangeRecord {
    /// The epoch the change makes, as stored: its members stay with the
    /// access list, its departures are the pending ones it carries.
    pub fn epoch(&self) -> Epoch {
        let change = &self.change;
        Epoch {
            epoch: change.epoch,
            signer_id: self.signer,
            commit: change.commit.clone(),
            members: Vec::new(),
            keys: change.keys.clone(),
            keys_signature: change.keys_signature.clone(),
            departures: change.departures.clone(),
            key_root: Blob::default(),
        }
    }
}

/// What a stored change did to the access list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changed {
    pub added: Vec<UserId>,
    /// Removed by the creator (those who left were dropped at their leave).
    pub removed: Vec<UserId>,
}

/// Why a change or a leave was not stored (checked in its transaction).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRefusal {
    /// The conversation does not exist or the caller is not in it.
    NotAMember,
    /// Another epoch than the one that may come now (another change came
    /// first); `current` is the conversation's epoch.
    EpochConflict { current: u32 },
    /// The change does not carry exactly the pending departures.
    RekeyRequired,
    /// The removal rule forbids it: someone other than the creator removes
    /// a member, or the change keeps a member who left.
    NotAllowed,
}

/// What raising a read position did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marked {
    /// The position now stored.
    pub seq: u64,
    /// Whether this raised it.
    pub raised: bool,
    /// The conversation's members now.
    pub members: u64,
}

/// Which page of a conversation's history to read; both bounds exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub after_seq: Option<u64>,
    pub before_seq: Option<u64>,
    pub limit: u32,
}

/// What a store operation can fail with, as handlers need to tell it apart.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule refused the write (a taken username, a reused id).
    #[error("conflict with an existing row")]
    Conflict,
    /// The database could not be reached or answered with an I/O failure;
    /// the request may succeed later (HTTP 503 `store_unavailable`).
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else the database reported.
    #[error("database error: {0}")]
    Other(#[source] sqlx::Error),
}

/// SQLite's primary result codes that mean "not now" rather than "never":
/// BUSY, LOCKED, READONLY, IOERR, FULL, CANTOPEN (extended codes carry the
/// primary one in their low byte).
const SQLITE_TRANSIENT: [i32; 6] = [5, 6, 8, 10, 13, 14];

/// PostgreSQL's SQLSTATE classes that mean "not now": connection
/// exceptions, a transaction rolled back (a deadlock or serialization
/// failure that outlived its retries), insufficient resources, a lock not
/// had within `lock_timeout`, and operator intervention (a server shutting
/// down).
const POSTGRES_TRANSIENT: [&str; 5] = ["08", "40", "53", "55", "57"];

/// Whether a database error is one a later retry may not meet.
fn transient(e: &dyn sqlx::error::DatabaseError) -> bool {
    if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return POSTGRES_TRANSIENT
            .iter()
            .any(|class| pg.code().starts_with(class));
    }
    e.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| SQLITE_TRANSIENT.contains(&(code & 0xff)))
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if e.as_database_error()
            .is_some_and(|d| d.is_unique_violation())
        {
            return StoreError::Conflict;
        }
        if e.as_database_error().is_some_and(transient) {
            return StoreError::Unavailable(e);
        }
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(e),
            other => StoreError::Other(other),
        }
    }
}

/// The storage every backend provides.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// One real round trip to the database.
    async fn ping(&self) -> Result<(), StoreError>;

    /// The server key named `name`, which every node of a deployment
    /// shares: the one stored, or `proposed`, stored now, if none was.
    async fn server_key(&self, name: &str, proposed: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// Stores a new account; [`StoreError::Conflict`] if the name is taken.
    async fn create_user(&self, user: &UserRecord) -> Result<(), StoreError>;

    /// The account with this canonical name.
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    /// The account with this id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<UserRecord>, StoreError>;

    /// Ends every token issued so far for this user; returns the new version.
    async fn bump_token_version(&self, id: UserId) -> Result<u32, StoreError>;

    /// Stores a conversation, its members and its epoch 0 in one
    /// transaction; [`StoreError::Conflict`] if the id is taken.
    async fn create_conversation(&self, creation: &Creation) -> Result<(), StoreError>;

    /// The conversation with this id, members and epochs included.
    async fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;

    /// Where a conversation stands, read without its members and epochs;
    /// `None` if there is no such conversation, or `member` (when given)
    /// is not in it.
    async fn standing(
        &self,
        id: ConversationId,
        member: Option<UserId>,
    ) -> Result<Option<Standing>, StoreError>;

    /// The conversation's epochs `from..=to`, whole (members, keys and the
    /// departures each carries).
    async fn epochs(
        &self,
        id: ConversationId,
        from: u32,
        to: u32,
    ) -> Result<Vec<Epoch>, StoreError>;

    /// The ids of the conversation's access list.
    async fn member_ids(&self, id: ConversationId) -> Result<Vec<UserId>, StoreError>;

    /// One page of the conversations `user` is a member of, those with an
    /// id below `cursor` (all, without one), newest first and cut by
    /// [`cut_page`]; those in `known` as heads only.
    async fn conversations_of(
        &self,
        user: UserId,
        known: &HashSet<ConversationId>,
        cursor: Option<ConversationId>,
    ) -> Result<ListPage, StoreError>;

    /// Those of `users` who are members of `cap` conversations or more.
    async fn users_at_cap(&self, users: &[UserId], cap: u64) -> Result<Vec<UserId>, StoreError>;

    /// The ids of every conversation `user` is a member of.
    async fn conversation_ids_of(&self, user: UserId) -> Result<Vec<ConversationId>, StoreError>;

    /// Whether `user` is a member of `conversation`.
    async fn is_member(
        &self,
        conversation: ConversationId,
        user: UserId,
    ) -> Result<bool, StoreError>;

    /// Appends a message with the conversation's next `seq`, checking
    /// membership, the epoch and the id in the same transaction.
    async fn append_message(
        &self,
        message: NewMessage,
    ) -> Result<Result<Appended, AppendRefusal>, StoreError>;

    /// Stores the next epoch of a conversation in one transaction, if the
    /// signer is a member, the epoch is the current one + 1, it carries
    /// exactly the pending departures and it keeps the removal rule; makes
    /// the access list the new epoch's members.
    async fn change_conversation(
        &self,
        change: &ChangeRecord,
    ) -> Result<Result<Changed, ChangeRefusal>, StoreError>;

    /// Stores `member`'s signed departure from the current epoch `epoch`
    /// and drops them from the access list, in one transaction.
    async fn leave_conversation(
        &self,
        conversation: ConversationId,
        member: UserId,
        epoch: u32,
        signature: &Blob,
    ) -> Result<Result<(), ChangeRefusal>, StoreError>;

    /// One page of a conversation's messages of the epochs `reader` holds a
    /// key in, in ascending `seq`: with `after_seq`, the oldest `limit`
    /// after it; otherwise the newest `limit` before `before_seq` (or the
    /// end).
    async fn history(
        &self,
        conversation: ConversationId,
        reader: UserId,
        page: Page,
    ) -> Result<Vec<Message>, StoreError>;

    /// Raises `user`'s read position in a conversation to `seq`, or to its
    /// last `seq` if that is lower; never lowers it. `None` if `user` is
    /// not a member.
    async fn mark_read(
        &self,
        conversation: ConversationId,
        user: UserId,
        seq: u64,
    ) -> Result<Option<Marked>, StoreError>;

    /// The read positions above 0 in those of `conversations` that `user`
    /// is a member of: `user`'s own and, with `others`, those of the other
    /// members who share read receipts.
    async fn reads(
        &self,
        user: UserId,
        conversations: &[ConversationId],
        others: bool,
    ) -> Result<Vec<Read>, StoreError>;

    /// Stores what `user` shares.
    async fn set_sharing(&self, user: UserId, sharing: Sharing) -> Result<(), StoreError>;

    /// The conversations of `user` with at most `max_members` members:
    /// those their presence is told in.
    async fn presence_rooms(
        &self,
        user: UserId,
        max_members: u32,
    ) -> Result<Vec<ConversationId>, StoreError>;

    /// The other members of those conversations who share presence, each
    /// once: whose presence `user` may see.
    async fn presence_peers(
        &self,
        user: UserId,
        max_members: u32,
    ) -> Result<Vec<UserId>, StoreError>;

    /// `user`'s contact book, if they have put one.
    async fn contact_book(&self, user: UserId) -> Result<Option<StoredBook>, StoreError>;

    /// Stores `put` as `user`'s contact book if, and only if, `put.version`
    /// is the stored version + 1 (1 when there is none), in one atomic
    /// compare-and-set. `Err` holds the stored version (0 for none) when it
    /// is not.
    async fn put_contact_book(
        &self,
        user: UserId,
        put: &PutBook,
    ) -> Result<Result<(), u64>, StoreError>;

    /// The backend and where it lives, for the start-up line; never a
    /// credential.
    fn describe(&self) -> String;

    /// Waits for in-flight work and closes every connection. Later calls
    /// fail with [`StoreError::Unavailable`].
    async fn close(&self);
}

/// Why the store could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open database {what}: {source}")]
    Connect {
        what: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate database {what}: {source}")]
    Migrate {
        what: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
}

/// Opens (creating and migrating where needed) the store the settings name.
pub async fn open(settings: &Settings) -> Result<Arc<dyn Store>, OpenError> {
    Ok(match &settings.database_url {
        None => Arc::new(SqliteStore::open_file(&settings.data_dir).await?),
        Some(url) if is_postgres(url) => {
            Arc::new(PostgresStore::open(url, settings.database_pool_size).await?)
        }
        Some(url) => Arc::new(SqliteStore::open_url(url).await?),
    })
}

/// Whether a database URL names PostgreSQL (else it is a `sqlite:` one).
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A user record with placeholder keys, for tests.
#[cfg(test)]
pub(crate) fn test_user(name: &str) -> UserRecord {
    UserRecord {
        id: UserId::new(),
        username: name.into(),
        auth_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        kdf: KdfParams {
            kdf_salt: [1; 16].into(),
            kdf_iterations: 600_000,
        },
        identity: Identity {
            dh_public: [4; 65].into(),
            sig_public: [4; 65].into(),
            dh_private_wrapped: [9; 166].into(),
            sig_private_wrapped: [8; 166].into(),
        },
        token_version: 0,
        created_at: "2026-11-25T22:10:00Z".into(),
        sharing: Sharing::default(),
    }
}

/// A message from `sender` whose every byte is `byte`, for tests.
#[cfg(test)]
pub(crate) fn test_message(
    conversation: ConversationId,
    sender: &UserRecord,
    byte: u8,
) -> NewMessage {
    NewMessage {
        sent: Outgoing {
            conversation_id: conversation,
            message_id: crate::model::ids::MessageId::new(),
            epoch: 0,
            nonce: [byte; 12].into(),
            ciphertext: [byte; 40].into(),
            signature: [byte; 64].into(),
        },
        sender_id: sender.id,
        sender: sender.username.clone(),
        created_at: "2026-11-26T05:00:01.000Z".into(),
    }
}

/// A copy of `m` with `change` made, for tests.
#[cfg(test)]
pub(crate) fn altered(m: &NewMessage, change: impl FnOnce(&mut NewMessage)) -> NewMessage {
    let mut m = m.clone();
    change(&mut m);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidates(members: &[usize]) -> Vec<Candidate> {
        let mut ids: Vec<ConversationId> = members.iter().map(|_| ConversationId::new()).collect();
        ids.sort_by(|a, b| b.cmp(a));
        ids.into_iter()
            .zip(members)
            .map(|(id, &members)| Candidate {
                head: Head {
                    id,
                    last_seq: 0,
                    epoch: 0,
                    pending: 0,
                },
                members,
            })
            .collect()
    }

    #[test]
    fn a_page_stops_at_its_entry_count_and_names_the_last_as_cursor() {
        let all = candidates(&[2; LIST_PAGE + 1]);
        let (heads, full, next) = cut_page(all.clone(), &HashSet::new());
        assert!(heads.is_empty());
        assert_eq!(full.len(), LIST_PAGE);
        assert_eq!(next, Some(all[LIST_PAGE - 1].head.id));
        let (_, full, next) = cut_page(all[..LIST_PAGE].to_vec(), &HashSet::new());
        assert_eq!(
            (full.len(), next),
            (LIST_PAGE, None),
            "exactly a page: the last"
        );
    }

    #[test]
    fn a_page_stops_at_its_member_budget_but_always_takes_one() {
        let all = candidates(&[1_000, 1_000, 1_000, 1_000, 1_000]);
        let (_, full, next) = cut_page(all.clone(), &HashSet::new());
        assert_eq!(full.len(), 4, "4,000 members fit, not 5,000");
        assert_eq!(next, Some(all[3].head.id));
        // Known ones weigh one each: all five fit as heads.
        let known: HashSet<ConversationId> = all.iter().map(|c| c.head.id).collect();
        let (heads, full, next) = cut_page(all.clone(), &known);
        assert_eq!((heads.len(), full.len(), next), (5, 0, None));
        // One conversation over the budget still comes, alone.
        let huge = candidates(&[LIST_PAGE_MEMBERS + 1, 2]);
        let (_, full, next) = cut_page(huge.clone(), &HashSet::new());
        assert_eq!((full, next), (vec![huge[0].head.id], Some(huge[0].head.id)));
    }
}
