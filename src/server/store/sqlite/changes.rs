//! SQLite transactions for groups that change: a new epoch (people added,
//! removed by the creator, or dropped after they left) and a member's
//! leave. Each checks in its own `BEGIN IMMEDIATE` transaction what could
//! have moved since the handler looked (the epoch, membership, pending
//! departures), so two changes at once store one and refuse the other, and
//! no message is appended between the check and the write.

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use super::super::rules::{Now, judge};
use super::super::{ChangeRecord, ChangeRefusal, Changed, StoreError};
use super::messaging::{insert_epoch, insert_members};
use crate::model::blob::Blob;
use crate::model::conversation::Departure;
use crate::model::ids::{ConversationId, UserId};

/// Reads [`Now`], `None` if the conversation does not exist.
async fn now(
    tx: &mut Transaction<'static, Sqlite>,
    conversation: ConversationId,
) -> Result<Option<Now>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT c.created_by, (SELECT MAX(epoch) FROM epochs e WHERE e.conversation_id = c.id) \
         AS epoch FROM conversations c WHERE c.id = ?",
    )
    .bind(conversation)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let created_by: UserId = row.try_get("created_by")?;
    let epoch: u32 = row.try_get("epoch")?;
    let signed = sqlx::query_scalar(
        "SELECT member_id FROM wrapped_keys WHERE conversation_id = ? AND epoch = ?",
    )
    .bind(conversation)
    .bind(epoch)
    .fetch_all(&mut **tx)
    .await?
    .into_iter()
    .collect();
    let members = sqlx::query_scalar("SELECT user_id FROM members WHERE conversation_id = ?")
        .bind(conversation)
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .collect();
    let pending = sqlx::query_as::<_, Departure>(
        "SELECT member_id, signature FROM departures \
         WHERE conversation_id = ? AND carried_in IS NULL",
    )
    .bind(conversation)
    .fetch_all(&mut **tx)
    .await?;
    Ok(Some(Now {
        created_by,
        epoch,
        signed,
        members,
        pending,
    }))
}

pub(super) async fn change(
    pool: &SqlitePool,
    record: &ChangeRecord,
) -> Result<Result<Changed, ChangeRefusal>, StoreError> {
    let change = &record.change;
    let conversation = change.conversation_id;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(now) = now(&mut tx, conversation).await? else {
        return Ok(Err(ChangeRefusal::NotAMember));
    };
    let changed = match judge(&now, record) {
        Ok(changed) => changed,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let epoch = record.epoch();
    insert_epoch(&mut tx, conversation, &epoch).await?;
    sqlx::query(
        "UPDATE departures SET carried_in = ? WHERE conversation_id = ? AND carried_in IS NULL",
    )
    .bind(change.epoch)
    .bind(conversation)
    .execute(&mut *tx)
    .await?;
    for removed in &changed.removed {
        sqlx::query("DELETE FROM members WHERE conversation_id = ? AND user_id = ?")
            .bind(conversation)
            .bind(removed)
            .execute(&mut *tx)
            .await?;
    }
    insert_members(&mut tx, conversation, &changed.added).await?;
    tx.commit().await?;
    Ok(Ok(changed))
}

pub(super) async fn leave(
    pool: &SqlitePool,
    conversation: ConversationId,
    member: UserId,
    epoch: u32,
    signature: &Blob,
) -> Result<Result<(), ChangeRefusal>, StoreError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let Some(now) = now(&mut tx, conversation).await? else {
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
         VALUES (?, ?, ?, ?)",
    )
    .bind(conversation)
    .bind(member)
    .bind(epoch)
    .bind(signature)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM members WHERE conversation_id = ? AND user_id = ?")
        .bind(conversation)
        .bind(member)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Ok(()))
}
