//! PostgreSQL queries for conversations and message history (appends are
//! `appender`'s). Conversations are read with their members, epochs, keys
//! and departures in five queries, however many there are; many rows are
//! written by one statement over arrays (`UNNEST`). Nothing here logs a
//! row's contents.

use std::collections::HashSet;

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Row, Transaction};

use super::super::rows::{DepartureRow, EpochRow, KeyRow, MemberRow, assemble, select_message};
use super::super::{Candidate, Creation, LIST_PAGE, ListPage, Listed, Page, StoreError, cut_page};
use super::texts;
use crate::model::blob::Blob;
use crate::model::conversation::{Conversation, Epoch, Head, Message};
use crate::model::ids::{ConversationId, UserId};

/// Stores a new conversation, its members and its epoch 0, signed by its
/// creator.
pub(super) async fn create_conversation(
    pool: &PgPool,
    creation: &Creation,
) -> Result<(), StoreError> {
    let new = &creation.new;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO conversations (id, title, created_by, created_at, last_seq, active_at) \
         VALUES ($1, $2, $3, $4, 0, $4)",
    )
    .bind(new.conversation_id)
    .bind(&new.title)
    .bind(creation.created_by)
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

/// Inserts an epoch's row and its wrapped keys (one statement for all).
pub(super) async fn insert_epoch(
    tx: &mut Transaction<'static, Postgres>,
    conversation: ConversationId,
    epoch: &Epoch,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO epochs (conversation_id, epoch, signer_id, key_commit, keys_signature) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(conversation)
    .bind(i64::from(epoch.epoch))
    .bind(epoch.signer_id)
    .bind(&epoch.commit)
    .bind(&epoch.keys_signature)
    .execute(&mut **tx)
    .await?;
    let members: Vec<String> = epoch.keys.iter().map(|k| k.member_id.to_string()).collect();
    let keys: Vec<Vec<u8>> = epoch.keys.iter().map(|k| k.wrapped_key.to_vec()).collect();
    sqlx::query(
        "INSERT INTO wrapped_keys (conversation_id, epoch, member_id, wrapped_key) \
         SELECT $1, $2, k.member_id, k.wrapped_key \
         FROM UNNEST($3::text[], $4::bytea[]) AS k (member_id, wrapped_key)",
    )
    .bind(conversation)
    .bind(i64::from(epoch.epoch))
    .bind(members)
    .bind(keys)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds `members` to the conversation's access list.
pub(super) async fn insert_members(
    tx: &mut Transaction<'static, Postgres>,
    conversation: ConversationId,
    members: &[UserId],
) -> Result<(), sqlx::Error> {
    if members.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO members (conversation_id, user_id) SELECT $1, m FROM UNNEST($2::text[]) AS m",
    )
    .bind(conversation)
    .bind(texts(members))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The conversations with these ids, each with its members, epochs, keys
/// and departures, in five queries; most recently active first.
async fn read_conversations(
    pool: &PgPool,
    ids: Vec<String>,
) -> Result<Vec<Conversation>, StoreError> {
    let rows = sqlx::query_as::<_, Conversation>(
        "SELECT id, title, created_by, created_at, last_seq FROM conversations \
         WHERE id = ANY($1) ORDER BY active_at DESC, id DESC",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let members = sqlx::query_as::<_, MemberRow>(
        "SELECT m.conversation_id, u.id, u.username, u.dh_public, u.sig_public \
         FROM members m JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ANY($1) \
         ORDER BY u.username",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let epochs = sqlx::query_as::<_, EpochRow>(
        "SELECT conversation_id, epoch, signer_id, key_commit AS \"commit\", keys_signature \
         FROM epochs WHERE conversation_id = ANY($1) ORDER BY epoch",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    // Each epoch's keys with its signed members: those the keys name.
    let keys = sqlx::query_as::<_, KeyRow>(
        "SELECT k.conversation_id, k.epoch, k.member_id, k.wrapped_key, u.id, u.username, \
         u.dh_public, u.sig_public \
         FROM wrapped_keys k JOIN users u ON u.id = k.member_id \
         WHERE k.conversation_id = ANY($1) ORDER BY k.member_id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    let departures = sqlx::query_as::<_, DepartureRow>(
        "SELECT conversation_id, member_id, signature, carried_in FROM departures \
         WHERE conversation_id = ANY($1) ORDER BY member_id",
    )
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok(assemble(rows, members, epochs, keys, departures))
}

pub(super) async fn conversation(
    pool: &PgPool,
    id: ConversationId,
) -> Result<Option<Conversation>, StoreError> {
    Ok(read_conversations(pool, vec![id.to_string()]).await?.pop())
}

/// One page of the conversations of `user` below `cursor`, newest first
/// (`store::cut_page`); members, epochs and keys are read only for those
/// not in `known`, so a client that holds them all costs one query.
pub(super) async fn conversations_of(
    pool: &PgPool,
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
         WHERE m.user_id = $1 AND ($2::text IS NULL OR m.conversation_id < $2) \
         ORDER BY m.conversation_id DESC LIMIT $3",
    )
    .bind(user)
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
                epoch: row.try_get::<Option<i64>, _>("epoch")?.unwrap_or(0) as u32,
                pending: row.try_get::<i64, _>("pending")? as u32,
            },
            members: row.try_get::<i64, _>("members")? as usize,
        })
    })
    .collect::<Result<Vec<Candidate>, StoreError>>()?;
    let (heads, full, next) = cut_page(candidates, known);
    let mut listed: Vec<Listed> = if full.is_empty() {
        Vec::new()
    } else {
        let mut read = read_conversations(pool, texts(&full)).await?;
        read.sort_by_key(|c| std::cmp::Reverse(c.id));
        read.into_iter().map(Listed::Full).collect()
    };
    listed.extend(heads.into_iter().map(Listed::Head));
    Ok(ListPage { listed, next })
}

pub(super) async fn users_at_cap(
    pool: &PgPool,
    users: &[UserId],
    cap: u64,
) -> Result<Vec<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM members WHERE user_id = ANY($1) \
         GROUP BY user_id HAVING COUNT(*) >= $2",
    )
    .bind(texts(users))
    .bind(cap.min(i64::MAX as u64) as i64)
    .fetch_all(pool)
    .await?)
}

pub(super) async fn conversation_ids_of(
    pool: &PgPool,
    user: UserId,
) -> Result<Vec<ConversationId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT conversation_id FROM members WHERE user_id = $1")
            .bind(user)
            .fetch_all(pool)
            .await?,
    )
}

pub(super) async fn is_member(
    pool: &PgPool,
    conversation: ConversationId,
    user: UserId,
) -> Result<bool, StoreError> {
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM members WHERE conversation_id = $1 AND user_id = $2")
            .bind(conversation)
            .bind(user)
            .fetch_optional(pool)
            .await?;
    Ok(found.is_some())
}

/// A page of history, of the epochs `reader` holds a key in only: a member
/// added later reads from their first epoch on.
pub(super) async fn history(
    pool: &PgPool,
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
            "WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq < $3 AND m.epoch IN \
             (SELECT k.epoch FROM wrapped_keys k WHERE k.conversation_id = $1 AND k.member_id = $4) \
             ORDER BY m.seq ASC LIMIT $5"
        ))
    } else {
        sqlx::query_as::<_, Message>(select_message!(
            "WHERE m.conversation_id = $1 AND m.seq > $2 AND m.seq < $3 AND m.epoch IN \
             (SELECT k.epoch FROM wrapped_keys k WHERE k.conversation_id = $1 AND k.member_id = $4) \
             ORDER BY m.seq DESC LIMIT $5"
        ))
    };
    let mut messages = query
        .bind(conversation)
        .bind(after)
        .bind(before)
        .bind(reader)
        .bind(i64::from(page.limit))
        .fetch_all(pool)
        .await?;
    if page.after_seq.is_none() {
        messages.reverse();
    }
    Ok(messages)
}
