//! SQLite queries for the live conversation: read positions (a column of
//! the access list, raised only) and what each user shares.

use sqlx::sqlite::SqlitePool;
use sqlx::{AssertSqlSafe, Row};

use super::super::{Marked, StoreError};
use super::appender::placeholders;
use crate::model::ids::{ConversationId, UserId};
use crate::model::live::{Read, Sharing};

/// The members of conversation `?2`, as a column.
const MEMBERS: &str = "(SELECT count(*) FROM members WHERE conversation_id = ?2)";

/// Raises `user`'s position to `seq`, capped at the conversation's last
/// `seq`, in one statement; reads the position when it did not move.
pub(super) async fn mark_read(
    pool: &SqlitePool,
    conversation: ConversationId,
    user: UserId,
    seq: u64,
) -> Result<Option<Marked>, StoreError> {
    let wanted = seq.min(i64::MAX as u64) as i64;
    let raise = format!(
        "UPDATE members SET read_seq = min(?1, (SELECT last_seq FROM conversations WHERE id = ?2)) \
         WHERE conversation_id = ?2 AND user_id = ?3 \
         AND read_seq < min(?1, (SELECT last_seq FROM conversations WHERE id = ?2)) \
         RETURNING read_seq, {MEMBERS}"
    );
    let raised: Option<(i64, i64)> = sqlx::query_as(AssertSqlSafe(raise))
        .bind(wanted)
        .bind(conversation)
        .bind(user)
        .fetch_optional(pool)
        .await?;
    let marked = |(seq, members): (i64, i64), raised| Marked {
        seq: seq as u64,
        raised,
        members: members as u64,
    };
    if let Some(row) = raised {
        return Ok(Some(marked(row, true)));
    }
    let held = format!(
        "SELECT read_seq, {MEMBERS} FROM members WHERE conversation_id = ?2 AND user_id = ?3"
    );
    // `?1` is unused here: SQLite numbers the parameters by their index.
    let held: Option<(i64, i64)> = sqlx::query_as(AssertSqlSafe(held))
        .bind(wanted)
        .bind(conversation)
        .bind(user)
        .fetch_optional(pool)
        .await?;
    Ok(held.map(|row| marked(row, false)))
}

/// Conversations named by one `reads` query (one variable each).
const IDS_PER_QUERY: usize = 500;

/// The positions above 0 in those of `conversations` `user` is in: their
/// own, and with `others` those of the members who share receipts.
pub(super) async fn reads(
    pool: &SqlitePool,
    user: UserId,
    conversations: &[ConversationId],
    others: bool,
) -> Result<Vec<Read>, StoreError> {
    let mut all = Vec::new();
    for ids in conversations.chunks(IDS_PER_QUERY) {
        let sql = format!(
            "SELECT m.conversation_id, m.user_id, m.read_seq FROM members m \
             JOIN users u ON u.id = m.user_id \
             WHERE m.conversation_id IN ({}) AND m.read_seq > 0 \
             AND (m.user_id = ? OR (? AND u.share_receipts = 1)) \
             AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = ?)",
            placeholders(ids.len(), 1)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        let rows = query
            .bind(user)
            .bind(others)
            .bind(user)
            .fetch_all(pool)
            .await?;
        for row in rows {
            all.push(Read {
                conversation_id: row.try_get(0)?,
                user_id: row.try_get(1)?,
                seq: row.try_get::<i64, _>(2)? as u64,
            });
        }
    }
    Ok(all)
}

/// Stores what `user` shares.
pub(super) async fn set_sharing(
    pool: &SqlitePool,
    user: UserId,
    sharing: Sharing,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET share_receipts = ?, share_presence = ? WHERE id = ?")
        .bind(sharing.receipts)
        .bind(sharing.presence)
        .bind(user)
        .execute(pool)
        .await?;
    Ok(())
}

/// The conversations of `user` with at most `max_members` members.
pub(super) async fn presence_rooms(
    pool: &SqlitePool,
    user: UserId,
    max_members: u32,
) -> Result<Vec<ConversationId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT m.conversation_id FROM members m WHERE m.user_id = ? \
         AND (SELECT count(*) FROM members x WHERE x.conversation_id = m.conversation_id) <= ?",
    )
    .bind(user)
    .bind(max_members)
    .fetch_all(pool)
    .await?)
}

/// The other members, who share presence, of the conversations of `user`
/// with at most `max_members` members; each once.
pub(super) async fn presence_peers(
    pool: &SqlitePool,
    user: UserId,
    max_members: u32,
) -> Result<Vec<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT x.user_id FROM members m \
         JOIN members x ON x.conversation_id = m.conversation_id \
         JOIN users u ON u.id = x.user_id \
         WHERE m.user_id = ?1 AND x.user_id != ?1 AND u.share_presence = 1 \
         AND (SELECT count(*) FROM members c WHERE c.conversation_id = m.conversation_id) <= ?2",
    )
    .bind(user)
    .bind(max_members)
    .fetch_all(pool)
    .await?)
}
