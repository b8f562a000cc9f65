//! PostgreSQL reads of a conversation in parts, for a member catching up on
//! a change and for the change and leave endpoints: where it stands (its
//! row, current epoch and pending departures), a range of whole epochs, and
//! the ids of its access list. In a group of 1,000 the whole conversation
//! is a megabyte; these read what is asked for.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::{FromRow, Row};

use super::super::rows::epochs_of;
use super::super::{Standing, StoreError};
use crate::model::conversation::{Conversation, Departure, Epoch};
use crate::model::ids::{ConversationId, UserId};

pub(super) async fn standing(
    pool: &PgPool,
    id: ConversationId,
    member: Option<UserId>,
) -> Result<Option<Standing>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id, title, created_by, created_at, last_seq, \
         (SELECT MAX(epoch) FROM epochs e WHERE e.conversation_id = c.id) AS epoch, \
         (SELECT COUNT(*) FROM departures d \
          WHERE d.conversation_id = c.id AND d.carried_in IS NULL) AS pending \
         FROM conversations c WHERE id = $1 AND ($2::text IS NULL OR EXISTS \
         (SELECT 1 FROM members m WHERE m.conversation_id = c.id AND m.user_id = $2))",
    )
    .bind(id)
    .bind(member)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let mut conversation = Conversation::from_row(&row)?;
    if row.try_get::<i64, _>("pending")? > 0 {
        conversation.pending = sqlx::query_as::<_, Departure>(
            "SELECT member_id, signature FROM departures \
             WHERE conversation_id = $1 AND carried_in IS NULL ORDER BY member_id",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
    }
    Ok(Some(Standing {
        epoch: row.try_get::<Option<i64>, _>("epoch")?.unwrap_or(0) as u32,
        conversation,
    }))
}

pub(super) async fn epochs(
    pool: &PgPool,
    id: ConversationId,
    from: u32,
    to: u32,
) -> Result<Vec<Epoch>, StoreError> {
    let epochs = in_range(
        pool,
        "SELECT conversation_id, epoch, signer_id, key_commit AS \"commit\", keys_signature \
         FROM epochs WHERE conversation_id = $1 AND epoch BETWEEN $2 AND $3 ORDER BY epoch",
        (id, from, to),
    )
    .await?;
    let keys = in_range(
        pool,
        "SELECT k.conversation_id, k.epoch, k.member_id, k.wrapped_key, u.id, u.username, \
         u.dh_public, u.sig_public FROM wrapped_keys k JOIN users u ON u.id = k.member_id \
         WHERE k.conversation_id = $1 AND k.epoch BETWEEN $2 AND $3 ORDER BY k.member_id",
        (id, from, to),
    )
    .await?;
    let departures = in_range(
        pool,
        "SELECT conversation_id, member_id, signature, carried_in FROM departures \
         WHERE conversation_id = $1 AND carried_in BETWEEN $2 AND $3 ORDER BY member_id",
        (id, from, to),
    )
    .await?;
    let (mut epochs, _) = epochs_of(epochs, keys, departures);
    Ok(epochs.remove(&id).unwrap_or_default())
}

/// The rows `sql` selects with `$1`, `$2`, `$3` bound to the conversation
/// and the first and last epoch of a range.
async fn in_range<T>(
    pool: &PgPool,
    sql: &'static str,
    (id, from, to): (ConversationId, u32, u32),
) -> Result<Vec<T>, StoreError>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    Ok(sqlx::query_as(sql)
        .bind(id)
        .bind(i64::from(from))
        .bind(i64::from(to))
        .fetch_all(pool)
        .await?)
}

pub(super) async fn member_ids(
    pool: &PgPool,
    id: ConversationId,
) -> Result<Vec<UserId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT user_id FROM members WHERE conversation_id = $1 ORDER BY user_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}
