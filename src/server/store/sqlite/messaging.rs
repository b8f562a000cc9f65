//! SQLite queries for conversations and message history (appends are
//! `appender`'s).
//! Conversations are read with their members, epochs and keys in four
//! queries, however many there are.
//! Nothing here logs a row's contents.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, Sqlite, Transaction};

use super::super::{
    ConversationRecord, EpochRecord, Listed, MemberRecord, MessageRecord, NewConversationRecord,
    Page, StoreError,
};
use crate::model::ids::{ConversationId, UserId};

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

/// Parses an id column.
pub(super) fn id_column<T: FromStr>(row: &SqliteRow, column: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    let text: String = row.try_get(column)?;
    text.parse()
        .map_err(|e| StoreError::Other(sqlx::Error::Decode(Box::new(e))))
}

fn seq_column(row: &SqliteRow, column: &str) -> Result<u64, StoreError> {
    let seq: i64 = row.try_get(column)?;
    Ok(seq as u64)
}

pub(super) fn message_from_row(row: &SqliteRow) -> Result<MessageRecord, StoreError> {
    Ok(MessageRecord {
        id: id_column(row, "id")?,
        conversation_id: id_column(row, "conversation_id")?,
        seq: seq_column(row, "seq")?,
        sender_id: id_column(row, "sender_id")?,
        sender: row.try_get("sender")?,
        epoch: row.try_get("epoch")?,
        nonce: row.try_get("nonce")?,
        ciphertext: row.try_get("ciphertext")?,
        signature: row.try_get("signature")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) async fn create_conversation(
    pool: &SqlitePool,
    new: &NewConversationRecord,
) -> Result<(), StoreError> {
    let id = new.id.to_string();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO conversations (id, title, created_by, created_at, last_seq, active_at) \
         VALUES (?, ?, ?, ?, 0, ?)",
    )
    .bind(&id)
    .bind(&new.title)
    .bind(new.created_by.to_string())
    .bind(&new.created_at)
    .bind(&new.created_at)
    .execute(&mut *tx)
    .await?;
    for member in &new.member_ids {
        sqlx::query("INSERT INTO members (conversation_id, user_id) VALUES (?, ?)")
            .bind(&id)
            .bind(member.to_string())
            .execute(&mut *tx)
            .await?;
    }
    insert_epoch(&mut tx, &id, &new.epoch).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_epoch(
    tx: &mut Transaction<'static, Sqlite>,
    conversation: &str,
    epoch: &EpochRecord,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO epochs (conversation_id, epoch, signer_id, keys_signature) VALUES (?, ?, ?, ?)",
    )
    .bind(conversation)
    .bind(epoch.epoch)
    .bind(epoch.signer_id.to_string())
    .bind(&epoch.keys_signature)
    .execute(&mut **tx)
    .await?;
    for (member, wrapped) in &epoch.keys {
        sqlx::query(
            "INSERT INTO wrapped_keys (conversation_id, epoch, member_id, wrapped_key) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(conversation)
        .bind(epoch.epoch)
        .bind(member.to_string())
        .bind(wrapped)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Which conversations a read covers, as the SQL that selects their ids
/// (one `?`, bound to the user or conversation id).
macro_rules! scoped {
    ($sql:literal, user) => {
        concat!(
            $sql,
            " IN (SELECT conversation_id FROM members WHERE user_id = ?)"
        )
    };
    ($sql:literal, one) => {
        concat!($sql, " = ?")
    };
    ($sql:literal, ids) => {
        concat!($sql, " IN (SELECT value FROM json_each(?))")
    };
}

/// Reads conversations with their members, epochs and keys in four
/// queries, whatever their number: `$scope` is `user` (every conversation
/// of the user `$key`), `one` (the conversation `$key`) or `ids` (those in
/// the JSON array `$key`).
macro_rules! read_conversations {
    ($pool:expr, $scope:tt, $key:expr) => {{
        let key: String = $key;
        let rows = sqlx::query(concat!(
            scoped!(
                "SELECT id, title, created_by, created_at, last_seq FROM conversations WHERE id",
                $scope
            ),
            " ORDER BY active_at DESC, id DESC"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        let members = sqlx::query(concat!(
            scoped!(
                "SELECT m.conversation_id, u.id, u.username, u.dh_public, u.sig_public \
                 FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id",
                $scope
            ),
            " ORDER BY u.username"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        let epochs = sqlx::query(concat!(
            scoped!(
                "SELECT conversation_id, epoch, signer_id, keys_signature FROM epochs \
                 WHERE conversation_id",
                $scope
            ),
            " ORDER BY epoch"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        let keys = sqlx::query(concat!(
            scoped!(
                "SELECT conversation_id, epoch, member_id, wrapped_key FROM wrapped_keys \
                 WHERE conversation_id",
                $scope
            ),
            " ORDER BY member_id"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        assemble(&rows, &members, &epochs, &keys)
    }};
}

/// One epoch's `(member_id, wrapped_key)` pairs.
type WrappedKeys = Vec<(UserId, Vec<u8>)>;

/// Puts conversation rows together with their members, epochs and keys.
fn assemble(
    rows: &[SqliteRow],
    members: &[SqliteRow],
    epochs: &[SqliteRow],
    keys: &[SqliteRow],
) -> Result<Vec<ConversationRecord>, StoreError> {
    let mut members_of: HashMap<String, Vec<MemberRecord>> = HashMap::new();
    for r in members {
        members_of
            .entry(r.try_get("conversation_id")?)
            .or_default()
            .push(MemberRecord {
                id: id_column(r, "id")?,
                username: r.try_get("username")?,
                dh_public: r.try_get("dh_public")?,
                sig_public: r.try_get("sig_public")?,
            });
    }
    let mut keys_of: HashMap<(String, u32), WrappedKeys> = HashMap::new();
    for k in keys {
        keys_of
            .entry((k.try_get("conversation_id")?, k.try_get("epoch")?))
            .or_default()
            .push((id_column(k, "member_id")?, k.try_get("wrapped_key")?));
    }
    let mut epochs_of: HashMap<String, Vec<EpochRecord>> = HashMap::new();
    for e in epochs {
        let conversation: String = e.try_get("conversation_id")?;
        let epoch: u32 = e.try_get("epoch")?;
        let keys = keys_of
            .remove(&(conversation.clone(), epoch))
            .unwrap_or_default();
        epochs_of
            .entry(conversation)
            .or_default()
            .push(EpochRecord {
                epoch,
                signer_id: id_column(e, "signer_id")?,
                keys_signature: e.try_get("keys_signature")?,
                keys,
            });
    }
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            Ok(ConversationRecord {
                id: id_column(row, "id")?,
                title: row.try_get("title")?,
                created_by: id_column(row, "created_by")?,
                created_at: row.try_get("created_at")?,
                last_seq: seq_column(row, "last_seq")?,
                members: members_of.remove(&id).unwrap_or_default(),
                epochs: epochs_of.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

pub(super) async fn conversation(
    pool: &SqlitePool,
    id: ConversationId,
) -> Result<Option<ConversationRecord>, StoreError> {
    let mut found = read_conversations!(pool, one, id.to_string())?;
    Ok(found.pop())
}

/// Every conversation of `user`, most recently active first; members,
/// epochs and keys are read only for those not in `known`, so a client
/// that holds them all costs one query.
pub(super) async fn conversations_of(
    pool: &SqlitePool,
    user: UserId,
    known: &HashSet<ConversationId>,
) -> Result<Vec<Listed>, StoreError> {
    if known.is_empty() {
        let all = read_conversations!(pool, user, user.to_string())?;
        return Ok(all.into_iter().map(Listed::Full).collect());
    }
    let heads = sqlx::query(concat!(
        scoped!("SELECT id, last_seq FROM conversations WHERE id", user),
        " ORDER BY active_at DESC, id DESC"
    ))
    .bind(user.to_string())
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| Ok((id_column(r, "id")?, seq_column(r, "last_seq")?)))
    .collect::<Result<Vec<(ConversationId, u64)>, StoreError>>()?;
    let unknown: Vec<String> = heads
        .iter()
        .filter(|(id, _)| !known.contains(id))
        .map(|(id, _)| id.to_string())
        .collect();
    let mut listed: Vec<Listed> = if unknown.is_empty() {
        Vec::new()
    } else {
        let ids = serde_json::Value::from(unknown).to_string();
        read_conversations!(pool, ids, ids)?
            .into_iter()
            .map(Listed::Full)
            .collect()
    };
    listed.extend(
        heads
            .into_iter()
            .filter(|(id, _)| known.contains(id))
            .map(|(id, last_seq)| Listed::Head { id, last_seq }),
    );
    Ok(listed)
}

pub(super) async fn conversation_ids_of(
    pool: &SqlitePool,
    user: UserId,
) -> Result<Vec<ConversationId>, StoreError> {
    sqlx::query("SELECT conversation_id FROM members WHERE user_id = ?")
        .bind(user.to_string())
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| id_column(r, "conversation_id"))
        .collect()
}

pub(super) async fn is_member(
    pool: &SqlitePool,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?")
            .bind(conversation.to_string())
            .bind(user.to_string())
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

pub(super) async fn history(
    pool: &SqlitePool,
    conversation: ConversationId,
    page: Page,
) -> Result<Vec<MessageRecord>, StoreError> {
    let after = page.after_seq.map_or(0, |s| s.min(i64::MAX as u64) as i64);
    let before = page
        .before_seq
        .map_or(i64::MAX, |s| s.min(i64::MAX as u64) as i64);
    let query = if page.after_seq.is_some() {
        sqlx::query(select_message!(
            "WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? ORDER BY m.seq ASC LIMIT ?"
        ))
    } else {
        sqlx::query(select_message!(
            "WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
        ))
    };
    let mut messages = query
        .bind(conversation.to_string())
        .bind(after)
        .bind(before)
        .bind(page.limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(message_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    if page.after_seq.is_none() {
        messages.reverse();
    }
    Ok(messages)
}
