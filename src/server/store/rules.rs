//! The rules a change to a conversation's members keeps, the same for
//! every backend: each backend reads where the conversation stands inside
//! the change's transaction (after locking it) and asks [`judge`].

use std::collections::BTreeSet;

use super::{ChangeRecord, ChangeRefusal, Changed};
use crate::model::conversation::Departure;
use crate::model::ids::UserId;

/// Where a conversation stands, read inside a change's transaction.
pub struct Now {
    pub created_by: UserId,
    pub epoch: u32,
    /// The members of the current epoch (those its keys name).
    pub signed: BTreeSet<UserId>,
    /// The access list: the signed members less those who left since.
    pub members: BTreeSet<UserId>,
    pub pending: Vec<Departure>,
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
pub fn judge(now: &Now, record: &ChangeRecord) -> Result<Changed, ChangeRefusal> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::conversation::Change;
    use crate::model::ids::ConversationId;

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
