//! PostgreSQL transactions for groups that change: a new epoch and a
//! member's leave. Each locks the conversation's row first (`FOR UPDATE`),
//! then reads where it stands and judges the change by `store::rules`, so
//! two changes at once store one and refuse the other, and no message is
//! appended between the check and the write (appends lock the same row).

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};

use super::super::rules::{Now, judge};
use super::super::{ChangeRecord, ChangeRefusal, Changed, StoreError};
use super::messaging::{insert_epoch, insert_members};
use super::{nothing_else, retrying, texts};
use crate::model::blob::Blob;
use crate::model::conversation::Departure;
use crate::model::ids::{ConversationId, UserId};

/// Locks the conversation's row and reads [`Now`]; `None` if the
/// conversation does not exist.
async fn lock_now(
    tx: &mut Transaction<'static, Postgres>,
    conversation: ConversationId,
) -> Result<Option<Now>, sqlx::Error> {
    let Some(created_by) = sqlx::query_scalar::<_, UserId>(
        "SELECT created_by FROM conversations WHERE id = $1 FOR UPDATE",
    )
    .bind(conversation)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let epoch: Option<i64> =
        sqlx::query_scalar("SELECT MAX(epoch) FROM epochs WHERE conversation_id = $1")
            .bind(conversation)
            .fetch_one(&mut **tx)
            .await?;
    let epoch = epoch.unwrap_or(0);
    let signed = sqlx::query_scalar(
        "SELECT member_id FROM wrapped_keys WHERE conversation_id = $1 AND epoch = $2",
    )
    .bind(conversation)
    .bind(epoch)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let members = sqlx::query_scalar("SELECT user_id FROM members WHERE conversation_id = $1")
        .bind(conversation)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
    let pending = sqlx::query_as::<_, Departure>(
        "SELECT member_id, signature FROM departures \
         WHERE conversation_id = $1 AND carried_in IS NULL",
    )
    .bind(conversation)
    .fetch_all(&mut **tx)
    .await?;
    Ok(Some(Now {
        created_by,
        epoch: epoch as u32,
        signed,
        members,
        pending,
    }))
}

pub(super) async fn change(
    pool: &PgPool,
    record: &ChangeRecord,
) -> Result<Result<Changed, ChangeRefusal>, StoreError> {
    retrying(|| change_once(pool, record), nothing_else).await
}

async fn change_once(
    pool: &PgPool,
    record: &ChangeRecord,
) -> Result<Result<Changed, ChangeRefusal>, sqlx::Error> {
    let change = &record.change;
    let conversation = change.conversation_id;
    let mut tx = pool.begin().await?;
    let Some(now) = lock_now(&mut tx, conversation).await? else {
        return Ok(Err(ChangeRefusal::NotAMember));
    };
    let changed = match judge(&now, record) {
        Ok(changed) => changed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    insert_epoch(&mut tx, conversation, &record.epoch()).await?;
    sqlx::query(
        "UPDATE departures SET carried_in = $1 WHERE conversation_id = $2 AND carried_in IS NULL",
    )
    .bind(i64::from(change.epoch))
    .bind(conversation)
    .execute(&mut *tx)
    .await?;
    if !changed.removed.is_empty() {
        sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = ANY($2)")
            .bind(conversation)
            .bind(texts(&changed.removed))
            .execute(&mut *tx)
            .await?;
    }
    insert_members(&mut tx, conversation, &changed.added).await?;
    tx.commit().await?;
    Ok(Ok(changed))
}

pub(super) async fn leave(
    pool: &PgPool,
    conversation: ConversationId,
    member: UserId,
    epoch: u32,
    signature: &Blob,
) -> Result<Result<(), ChangeRefusal>, StoreError> {
    retrying(
        || async {
            let mut tx = pool.begin().await?;
            let Some(now) = lock_now(&mut tx, conversation).await? else {
                return Ok(Err(ChangeRefusal::NotAMember));
            };
            if !now.members.contains(&member) {
                return Ok(Err(ChangeRefusal::NotAMember));
            }
            if epoch != now.epoch {
                return Ok(Err(ChangeRefusal::EpochConflict { current: now.epoch }));
            }
            sqlx::query(
                "INSERT INTO departures (conversation_id, member_id, left_epoch, signature) \
             VALUES ($1, $2, $3, $4)",
            )
            .bind(conversation)
            .bind(member)
            .bind(i64::from(epoch))
            .bind(signature)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM members WHERE conversation_id = $1 AND user_id = $2")
                .bind(conversation)
                .bind(member)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Ok(()))
        },
        nothing_else,
    )
    .await
}
