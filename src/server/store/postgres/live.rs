//! PostgreSQL queries for the live conversation: read positions (a column
//! of the access list, raised only) and what each user shares.

use sqlx::Row;
use sqlx::postgres::PgPool;

use super::super::{Marked, StoreError};
use super::texts;
use crate::model::ids::{ConversationId, UserId};
use crate::model::live::{Read, Sharing};

/// Raises `user`'s position to `seq`, capped at the conversation's last
/// `seq`, in one statement; reads the position when it did not move.
pub(super) async fn mark_read(
    pool: &PgPool,
    conversation: ConversationId,
    user: UserId,
    seq: u64,
) -> Result<Option<Marked>, StoreError> {
    let wanted = seq.min(i64::MAX as u64) as i64;
    let raised: Option<(i64, i64)> = sqlx::query_as(
        "UPDATE members SET read_seq = LEAST($1, c.last_seq) FROM conversations c \
         WHERE c.id = $2 AND members.conversation_id = $2 AND members.user_id = $3 \
         AND members.read_seq < LEAST($1, c.last_seq) \
         RETURNING members.read_seq, \
         (SELECT COUNT(*) FROM members n WHERE n.conversation_id = $2)",
    )
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
    let held: Option<(i64, i64)> = sqlx::query_as(
        "SELECT read_seq, (SELECT COUNT(*) FROM members n WHERE n.conversation_id = $1) \
         FROM members WHERE conversation_id = $1 AND user_id = $2",
    )
    .bind(conversation)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    Ok(held.map(|row| marked(row, false)))
}

/// The positions above 0 in those of `conversations` `user` is in: their
/// own, and with `others` those of the members who share receipts.
pub(super) async fn reads(
    pool: &PgPool,
    user: UserId,
    conversations: &[ConversationId],
    others: bool,
) -> Result<Vec<Read>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.conversation_id, m.user_id, m.read_seq FROM members m \
         JOIN users u ON u.id = m.user_id \
         WHERE m.conversation_id = ANY($1) AND m.read_seq > 0 \
         AND (m.user_id = $2 OR ($3 AND u.share_receipts)) \
         AND m.conversation_id IN (SELECT conversation_id FROM members WHERE user_id = $2)",
    )
    .bind(texts(conversations))
    .bind(user)
    .bind(others)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Read {
                conversation_id: row.try_get(0)?,
                user_id: row.try_get(1)?,
                seq: row.try_get::<i64, _>(2)? as u64,
            })
        })
        .collect()
}

/// Stores what `user` shares.
pub(super) async fn set_sharing(
    pool: &PgPool,
    user: UserId,
    sharing: Sharing,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET share_receipts = $1, share_presence = $2 WHERE id = $3")
        .bind(sharing.receipts)
        .bind(sharing.presence)
        .bind(user)
        .execute(pool)
        .await?;
    Ok(())
}

/// The conversations of `user` with at most `max_members` members.
pub(super) async fn presence_rooms(
    pool: &PgPool,
    user: UserId,
    max_members: u32,
) -> Result<Vec<ConversationId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT m.conversation_id FROM members m WHERE m.user_id = $1 \
         AND (SELECT COUNT(*) FROM members x WHERE x.conversation_id = m.conversation_id) <= $2",
    )
    .bind(user)
    .bind(i64::from(max_members))
    .fetch_all(pool)
    .await?)
}

/// The other members, who share presence, of the conversations of `user`
/// with at most `max_members` members; each once.
pub(super) async fn presence_peers(
    pool: &PgPool,
    user: UserId,
    max_members: u32,
) -> Result<Vec<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT x.user_id FROM members m \
         JOIN members x ON x.conversation_id = m.conversation_id \
         JOIN users u ON u.id = x.user_id \
         WHERE m.user_id = $1 AND x.user_id != $1 AND u.share_presence \
         AND (SELECT COUNT(*) FROM members c WHERE c.conversation_id = m.conversation_id) <= $2",
    )
    .bind(user)
    .bind(i64::from(max_members))
    .fetch_all(pool)
    .await?)
}
