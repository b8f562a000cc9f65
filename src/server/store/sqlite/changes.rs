//! SQLite transactions for groups that change: a new epoch (people added,
//! removed by the creator, or dropped after they left) and a member's
//! leave. Each checks in its own `BEGIN IMMEDIATE` transaction what could
//! have moved since the handler looked (the epoch, membership, pending
//! departures), so two changes at once store one and refuse the other, and
//! no message is appended between the check and the write.

use std::collections::BTreeSet;

use sqlx::sqlite::SqlitePool;
use sqlx::{Row, Sqlite, Transaction};

use super::super::{ChangeRecord, ChangeRefusal, Changed, StoreError};
use super::messaging::{insert_epoch, insert_members};
use crate::model::blob::Blob;
use crate::model::conversation::Departure;
use crate::model::ids::{ConversationId, UserId};

/// Where a conversation stands inside a change's transaction.
struct Now {
    created_by: UserId,
    epoch: u32,
    /// The members of the current epoch (those its keys name).
    signed: BTreeSet<UserId>,
    /// The access list: the signed members less those who left since.
    members: BTreeSet<UserId>,
    pending: Vec<Departure>,
}

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

/// Whether `carried` is exactly `pending`, in any order.
fn same_departures(carried: &[Departure], pending: &[Departure]) -> bool {
    let key = |d: &Departure| (d.member_id, d.signature.to_vec());
    let carried: BTreeSet<_> = carried.iter().map(key).collect();
    let pending: BTreeSet<_> = pending.iter().map(key).collect();
    carried == pending
}

/// The rules a change must keep, given where the conversation stands: what
/// it adds and removes, or why it is refused.
fn judge(now: &Now, record: &ChangeRecord) -> Result<Changed, ChangeRefusal> {
    let change = &record.change;
    if !now.members.contains(&record.signer) {
        return Err(ChangeRefusal::NotAMember);
    }
    if change.epoch != now.epoch + 1 {
        return Err(ChangeRefusal::EpochConflict { current: now.epoch });
    }
    if !same_departures(&change.departures, &now.pending) {
        return Err(ChangeRefusal::RekeyRequired);
    }
    let next: BTreeSet<UserId> = change.member_ids.iter().copied().collect();
    let left: BTreeSet<UserId> = now.pending.iter().map(|d| d.member_id).collect();
    if !next.is_disjoint(&left) {
        return Err(ChangeRefusal::NotAllowed);
    }
    let removed: Vec<UserId> = now
        .signed
        .iter()
        .filter(|m| !next.contains(m) && !left.contains(m))
        .copied()
        .collect();
    if !removed.is_empty() && record.signer != now.created_by {
        return Err(ChangeRefusal::NotAllowed);
    }
    let added = next
        .iter()
        .filter(|m| !now.members.contains(m))
        .copied()
        .collect();
    Ok(Changed { added, removed })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conversation::Change;

    fn ids(n: usize) -> Vec<UserId> {
        let mut ids: Vec<UserId> = (0..n).map(|_| UserId::new()).collect();
        ids.sort();
        ids
    }

    fn departure(member_id: UserId) -> Departure {
        Departure {
            member_id,
            signature: [7; 64].into(),
        }
    }

    fn record(
        signer: UserId,
        epoch: u32,
        members: &[UserId],
        departures: Vec<Departure>,
    ) -> ChangeRecord {
        ChangeRecord {
            change: Change {
                conversation_id: ConversationId::new(),
                epoch,
                member_ids: members.to_vec(),
                commit: [1; 32].into(),
                keys: Vec::new(),
                keys_signature: [2; 64].into(),
                departures,
            },
            signer,
        }
    }

    #[test]
    fn the_removal_rule_and_the_pending_departures_are_judged_as_clients_judge_them() {
        let u = ids(5);
        let (ann, bob, cyd, dan, eve) = (u[0], u[1], u[2], u[3], u[4]);
        // ann created it; epoch 3 holds ann, bob, cyd; cyd has left.
        let now = Now {
            created_by: ann,
            epoch: 3,
            signed: [ann, bob, cyd].into(),
            members: [ann, bob].into(),
            pending: vec![departure(cyd)],
        };
        let gone = || vec![departure(cyd)];
        // bob drops cyd with her departure and adds dan.
        assert_eq!(
            judge(&now, &record(bob, 4, &[ann, bob, dan], gone())),
            Ok(Changed {
                added: vec![dan],
                removed: vec![]
            })
        );
        // Another epoch: a conflict, naming the current one.
        assert_eq!(
            judge(&now, &record(bob, 3, &[ann, bob], gone())),
            Err(ChangeRefusal::EpochConflict { current: 3 })
        );
        // Without the departure, or with another signature: rekey first.
        assert_eq!(
            judge(&now, &record(bob, 4, &[ann, bob], vec![])),
            Err(ChangeRefusal::RekeyRequired)
        );
        let forged = Departure {
            signature: [8; 64].into(),
            ..departure(cyd)
        };
        assert_eq!(
            judge(&now, &record(bob, 4, &[ann, bob], vec![forged])),
            Err(ChangeRefusal::RekeyRequired)
        );
        // Keeping the one who left is not allowed.
        assert_eq!(
            judge(&now, &record(bob, 4, &[ann, bob, cyd], gone())),
            Err(ChangeRefusal::NotAllowed)
        );
        // Only the creator removes.
        assert_eq!(
            judge(&now, &record(bob, 4, &[bob], gone())),
            Err(ChangeRefusal::NotAllowed)
        );
        assert_eq!(
            judge(&now, &record(ann, 4, &[ann], gone())),
            Ok(Changed {
                added: vec![],
                removed: vec![bob]
            })
        );
        // Someone outside signs: not a member (cyd left; eve never was).
        for outsider in [cyd, eve] {
            assert_eq!(
                judge(&now, &record(outsider, 4, &[ann, bob], gone())),
                Err(ChangeRefusal::NotAMember)
            );
        }
    }
}
