//! SQLite queries for conversations and message history (appends are
//! `appender`'s).
//! Conversations are read with their members, epochs and keys in four
//! queries, however many there are.
//! Nothing here logs a row's contents.

use std::collections::HashSet;

use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Row, Sqlite, Transaction};

use super::super::rows::{DepartureRow, EpochRow, KeyRow, MemberRow, assemble, select_message};
use super::super::{Candidate, Creation, LIST_PAGE, ListPage, Listed, Page, StoreError, cut_page};
use super::appender::placeholders;
use crate::model::blob::Blob;
use crate::model::conversation::{Conversation, Epoch, Head, Message};
use crate::model::ids::{ConversationId, UserId};

/// Stores a new conversation, its members and its epoch 0, signed by its
/// creator.
pub(super) async fn create_conversation(
    pool: &SqlitePool,
    creation: &Creation,
) -> Result<(), StoreError> {
    let new = &creation.new;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query(
        "INSERT INTO conversations (id, title, created_by, created_at, last_seq, active_at) \
         VALUES (?, ?, ?, ?, 0, ?)",
    )
    .bind(new.conversation_id)
    .bind(&new.title)
    .bind(creation.created_by)
    .bind(&creation.created_at)
    .bind(&creation.created_at)
    .execute(&mut *tx)
    .await?;
    insert_members(&mut tx, new.conversation_id, &new.member_ids).await?;
    let epoch = Epoch {
        epoch: new.epoch,
        signer_id: creation.created_by,
        commit: new.commit.clone(),
        members: Vec::new(),
        keys: new.keys.clone(),
        keys_signature: new.keys_signature.clone(),
        departures: Vec::new(),
        key_root: Blob::default(),
    };
    insert_epoch(&mut tx, new.conversation_id, &epoch).await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts an epoch's row and its wrapped keys.
pub(super) async fn insert_epoch(
    tx: &mut Transaction<'static, Sqlite>,
    conversation: ConversationId,
    epoch: &Epoch,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO epochs (conversation_id, epoch, signer_id, key_commit, keys_signature) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(conversation)
    .bind(epoch.epoch)
    .bind(epoch.signer_id)
    .bind(&epoch.commit)
    .bind(&epoch.keys_signature)
    .execute(&mut **tx)
    .await?;
    // Many rows to a statement: a group of 1,000 is five round trips to
    // the database's thread, not a thousand.
    for keys in epoch.keys.chunks(KEYS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO wrapped_keys (conversation_id, epoch, member_id, wrapped_key) VALUES {}",
            placeholders(keys.len(), 4)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for key in keys {
            query = query
                .bind(conversation)
                .bind(epoch.epoch)
                .bind(key.member_id)
                .bind(&key.wrapped_key);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Wrapped keys stored by one `INSERT` (four variables each).
const KEYS_PER_INSERT: usize = 200;

/// Adds `members` to the conversation's access list.
pub(super) async fn insert_members(
    tx: &mut Transaction<'static, Sqlite>,
    conversation: ConversationId,
    members: &[UserId],
) -> Result<(), StoreError> {
    for members in members.chunks(KEYS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO members (conversation_id, user_id) VALUES {}",
            placeholders(members.len(), 2)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for member in members {
            query = query.bind(conversation).bind(member);
        }
        query.execute(&mut **tx).await?;
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

/// Reads conversations with their members, epochs, keys and departures in
/// five queries, whatever their number: `$scope` is `user` (every conversation
/// of the user `$key`), `one` (the conversation `$key`) or `ids` (those in
/// the JSON array `$key`).
macro_rules! read_conversations {
    ($pool:expr, $scope:tt, $key:expr) => {{
        let key: String = $key;
        let rows = sqlx::query_as::<_, Conversation>(concat!(
            scoped!(
                "SELECT id, title, created_by, created_at, last_seq FROM conversations WHERE id",
                $scope
            ),
            " ORDER BY active_at DESC, id DESC"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        let members = sqlx::query_as::<_, MemberRow>(concat!(
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
        let epochs = sqlx::query_as::<_, EpochRow>(concat!(
            scoped!(
                "SELECT conversation_id, epoch, signer_id, key_commit AS \"commit\", \
                 keys_signature FROM epochs WHERE conversation_id",
                $scope
            ),
            " ORDER BY epoch"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        // Each epoch's keys with its signed members: those the keys name.
        let keys = sqlx::query_as::<_, KeyRow>(concat!(
            scoped!(
                "SELECT k.conversation_id, k.epoch, k.member_id, k.wrapped_key, u.id, \
                 u.username, u.dh_public, u.sig_public \
                 FROM wrapped_keys k JOIN users u ON u.id = k.member_id WHERE k.conversation_id",
                $scope
            ),
            " ORDER BY k.member_id"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        let departures = sqlx::query_as::<_, DepartureRow>(concat!(
            scoped!(
                "SELECT conversation_id, member_id, signature, carried_in FROM departures \
                 WHERE conversation_id",
                $scope
            ),
            " ORDER BY member_id"
        ))
        .bind(&key)
        .fetch_all($pool)
        .await?;
        Ok::<_, StoreError>(assemble(rows, members, epochs, keys, departures))
    }};
}

pub(super) async fn conversation(
    pool: &SqlitePool,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    let mut found = read_conversations!(pool, one, id.to_string())?;
    Ok(found.pop())
}

/// One page of the conversations of `user` below `cursor`, newest first
/// (`store::cut_page`); members, epochs and keys are read only for those
/// not in `known`, so a client that holds them all costs one query.
pub(super) async fn conversations_of(
    pool: &SqlitePool,
    user: UserId,
    known: &HashSet<ConversationId>,
    cursor: Option<ConversationId>,
) -> Result<ListPage, StoreError> {
    let candidates = sqlx::query(
        "SELECT c.id, c.last_seq, \
         (SELECT COUNT(*) FROM members n WHERE n.conversation_id = c.id) AS members, \
         (SELECT MAX(e.epoch) FROM epochs e WHERE e.conversation_id = c.id) AS epoch, \
         (SELECT COUNT(*) FROM departures d \
          WHERE d.conversation_id = c.id AND d.carried_in IS NULL) AS pending \
         FROM members m JOIN conversations c ON c.id = m.conversation_id \
         WHERE m.user_id = ? AND (? IS NULL OR m.conversation_id < ?) \
         ORDER BY m.conversation_id DESC LIMIT ?",
    )
    .bind(user)
    .bind(cursor)
    .bind(cursor)
    .bind((LIST_PAGE + 1) as i64)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(Candidate {
            head: Head {
                id: row.try_get("id")?,
                last_seq: row.try_get::<i64, _>("last_seq")? as u64,
                epoch: row.try_get("epoch")?,
                pending: row.try_get("pending")?,
            },
            members: row.try_get::<i64, _>("members")? as usize,
        })
    })
    .collect::<Result<Vec<Candidate>, StoreError>>()?;
    let (heads, full, next) = cut_page(candidates, known);
    let mut listed: Vec<Listed> = if full.is_empty() {
        Vec::new()
    } else {
        let ids = serde_json::Value::from(full.iter().map(|id| id.to_string()).collect::<Vec<_>>())
            .to_string();
        let mut read = read_conversations!(pool, ids, ids)?;
        read.sort_by_key(|c| std::cmp::Reverse(c.id));
        read.into_iter().map(Listed::Full).collect()
    };
    listed.extend(heads.into_iter().map(Listed::Head));
    Ok(ListPage { listed, next })
}

pub(super) async fn users_at_cap(
    pool: &SqlitePool,
    users: &[UserId],
    cap: u64,
) -> Result<Vec<UserId>, StoreError> {
    let ids = serde_json::Value::from(users.iter().map(|u| u.to_string()).collect::<Vec<_>>());
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM members WHERE user_id IN (SELECT value FROM json_each(?)) \
         GROUP BY user_id HAVING COUNT(*) >= ?",
    )
    .bind(ids.to_string())
    .bind(cap as i64)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn conversation_ids_of(
    pool: &SqlitePool,
    user: UserId,
) -> Result<Vec<ConversationId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT conversation_id FROM members WHERE user_id = ?")
            .bind(user)
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn is_member(
    pool: &SqlitePool,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, StoreError> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?")
            .bind(conversation)
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// A page of history, of the epochs `reader` holds a key in only: a member
/// added later reads from their first epoch on.
pub(super) async fn history(
    pool: &SqlitePool,
    conversation: ConversationId,
    reader: UserId,
    page: Page,
) -> Result<Vec<Message>, StoreError> {
    let after = page.after_seq.map_or(0, |s| s.min(i64::MAX as u64) as i64);
    let before = page
        .before_seq
        .map_or(i64::MAX, |s| s.min(i64::MAX as u64) as i64);
    let query = if page.after_seq.is_some() {
        sqlx::query_as::<_, Message>(select_message!(
            "WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? AND m.epoch IN \
             (SELECT k.epoch FROM wrapped_keys k WHERE k.conversation_id = ? AND k.member_id = ?) \
             ORDER BY m.seq ASC LIMIT ?"
        ))
    } else {
        sqlx::query_as::<_, Message>(select_message!(
            "WHERE m.conversation_id = ? AND m.seq > ? AND m.seq < ? AND m.epoch IN \
             (SELECT k.epoch FROM wrapped_keys k WHERE k.conversation_id = ? AND k.member_id = ?) \
             ORDER BY m.seq DESC LIMIT ?"
        ))
    };
    let mut messages = query
        .bind(conversation)
        .bind(after)
        .bind(before)
        .bind(conversation)
        .bind(reader)
        .bind(page.limit)
        .fetch_all(pool)
        .await?;
    if page.after_seq.is_none() {
        messages.reverse();
    }
    Ok(messages)
}
