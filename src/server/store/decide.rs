//! The decision of a batch of appends, apart from the database: given what
//! the batch's transaction read, each message is accepted, a repeat or
//! refused, exactly as if it had been appended alone, in queue order. No
//! I/O here; the transaction reads before and writes after.

use std::collections::{HashMap, HashSet};

use super::{AppendRefusal, Appended, NewMessage};
use crate::model::conversation::Message;
use crate::model::ids::{ConversationId, MessageId, UserId};

/// What the checks of a batch need, read in its transaction.
#[derive(Debug, Default)]
pub struct Found {
    /// Those of the batch's `(conversation, sender)` pairs that are
    /// memberships.
    pub members: HashSet<(ConversationId, UserId)>,
    /// Messages stored before under any of the batch's ids.
    pub earlier: HashMap<MessageId, Message>,
    /// The current epoch of each of the batch's conversations (none for a
    /// conversation that does not exist).
    pub epochs: HashMap<ConversationId, u32>,
    /// Those of the batch's conversations with a departure that no epoch
    /// carries yet.
    pub pending: HashSet<ConversationId>,
}

/// What one message of a batch comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Stored now: its seq is its conversation's `last_seq` before the
    /// batch plus `offset` (1, 2, … in queue order, per conversation).
    New {
        offset: u64,
    },
    /// Stored before: the original; nothing is written.
    Repeat(Message),
    /// The same send as the message at this index of the batch, which is
    /// [`Decision::New`].
    RepeatOfBatch(usize),
    Refused(AppendRefusal),
}

/// What [`decide`] makes of a batch.
#[derive(Debug)]
pub struct Plan<'a> {
    /// One per message, in the batch's order.
    pub decisions: Vec<Decision>,
    /// Each conversation with new messages: how many, and the `created_at`
    /// of its last one (the conversation's new `active_at`).
    pub reserve: HashMap<ConversationId, (u64, &'a str)>,
}

/// Decides each message in order, as lone appends would be: membership,
/// then an earlier id (stored, or accepted earlier in this batch), then the
/// epoch, then a pending departure.
pub fn decide<'a>(found: &Found, messages: &[&'a NewMessage]) -> Plan<'a> {
    let mut decisions = Vec::with_capacity(messages.len());
    let mut accepted: HashMap<MessageId, usize> = HashMap::new();
    let mut reserve: HashMap<ConversationId, (u64, &'a str)> = HashMap::new();
    for (i, &m) in messages.iter().enumerate() {
        let (id, conversation) = (m.sent.message_id, m.sent.conversation_id);
        let decision = if !found.members.contains(&(conversation, m.sender_id)) {
            Decision::Refused(AppendRefusal::NotAMember)
        } else if let Some(before) = found.earlier.get(&id) {
            if same_send(before, m) {
                Decision::Repeat(before.clone())
            } else {
                Decision::Refused(AppendRefusal::IdConflict)
            }
        } else if let Some(&first) = accepted.get(&id) {
            if same_send(&messages[first].stored(0), m) {
                Decision::RepeatOfBatch(first)
            } else {
                Decision::Refused(AppendRefusal::IdConflict)
            }
        } else {
            let current = found.epochs.get(&conversation).copied().unwrap_or(0);
            if current != m.sent.epoch {
                Decision::Refused(AppendRefusal::StaleEpoch { current })
            } else if found.pending.contains(&conversation) {
                Decision::Refused(AppendRefusal::RekeyRequired)
            } else {
                accepted.insert(id, i);
                let count = reserve.entry(conversation).or_insert((0, ""));
                *count = (count.0 + 1, &m.created_at);
                Decision::New { offset: count.0 }
            }
        };
        decisions.push(decision);
    }
    Plan { decisions, reserve }
}

impl Plan<'_> {
    /// Each message's `seq` (0 for those not new), given each
    /// conversation's `last_seq` once the batch's reservation is made
    /// (the `UPDATE … RETURNING`); `None` if a conversation with new
    /// messages is missing there (it vanished inside the transaction).
    pub fn seqs(
        &self,
        messages: &[&NewMessage],
        last: &HashMap<ConversationId, u64>,
    ) -> Option<Vec<u64>> {
        let mut seqs = vec![0u64; messages.len()];
        for (i, decision) in self.decisions.iter().enumerate() {
            let Decision::New { offset } = decision else {
                continue;
            };
            let conversation = messages[i].sent.conversation_id;
            let reserved = self.reserve.get(&conversation)?.0;
            seqs[i] = last.get(&conversation)? - reserved + offset;
        }
        Some(seqs)
    }

    /// What each message came to, once stored with `seqs`.
    pub fn outcomes(
        self,
        messages: &[&NewMessage],
        seqs: &[u64],
    ) -> Vec<Result<Appended, AppendRefusal>> {
        self.decisions
            .into_iter()
            .enumerate()
            .map(|(i, decision)| match decision {
                Decision::Refused(why) => Err(why),
                Decision::Repeat(record) => Ok(Appended::Repeat(record)),
                Decision::RepeatOfBatch(first) => {
                    Ok(Appended::Repeat(messages[first].stored(seqs[first])))
                }
                Decision::New { .. } => Ok(Appended::New(messages[i].stored(seqs[i]))),
            })
            .collect()
    }
}

/// Whether a stored message is the same send as a new one.
fn same_send(earlier: &Message, new: &NewMessage) -> bool {
    let sent = &new.sent;
    earlier.conversation_id == sent.conversation_id
        && earlier.sender_id == new.sender_id
        && earlier.epoch == sent.epoch
        && earlier.nonce == sent.nonce
        && earlier.ciphertext == sent.ciphertext
        && earlier.signature == sent.signature
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::test_user as user;
    use crate::server::store::{UserRecord, altered, test_message as message};

    use AppendRefusal::{IdConflict, NotAMember, StaleEpoch};
    use Decision::{New, Refused, Repeat, RepeatOfBatch};

    /// Two conversations at epoch 0: `x` of ann and bob, `y` of bob and cyd.
    struct World {
        ann: UserRecord,
        bob: UserRecord,
        cyd: UserRecord,
        x: ConversationId,
        y: ConversationId,
        found: Found,
    }

    fn world() -> World {
        let (ann, bob, cyd) = (user("ann"), user("bob"), user("cyd"));
        let (x, y) = (ConversationId::new(), ConversationId::new());
        let found = Found {
            members: [(x, ann.id), (x, bob.id), (y, bob.id), (y, cyd.id)].into(),
            earlier: HashMap::new(),
            epochs: [(x, 0), (y, 0)].into(),
            pending: HashSet::new(),
        };
        World {
            ann,
            bob,
            cyd,
            x,
            y,
            found,
        }
    }

    impl World {
        /// `stored` as the transaction finds it stored before the batch.
        fn found_earlier(&mut self, stored: Message) {
            self.found.earlier.insert(stored.id, stored);
        }
    }

    fn decisions(found: &Found, batch: &[&NewMessage]) -> Vec<Decision> {
        decide(found, batch).decisions
    }

    #[test]
    fn new_messages_take_consecutive_offsets_per_conversation_in_order() {
        let w = world();
        let (x1, y1) = (message(w.x, &w.ann, 1), message(w.y, &w.cyd, 2));
        let x2 = altered(&message(w.x, &w.bob, 3), |m| {
            m.created_at = "2026-11-26T05:00:02.000Z".into()
        });
        let (y2, x3) = (message(w.y, &w.bob, 4), message(w.x, &w.ann, 5));
        let plan = decide(&w.found, &[&x1, &y1, &x2, &y2, &x3]);
        let offsets = [1, 1, 2, 2, 3].map(|offset| New { offset });
        assert_eq!(plan.decisions, offsets);
        let reserve = [
            (w.x, (3, x3.created_at.as_str())),
            (w.y, (2, y2.created_at.as_str())),
        ];
        assert_eq!(plan.reserve, reserve.into());
    }

    #[test]
    fn a_pending_departure_holds_new_sends_but_not_repeats() {
        let mut w = world();
        let stored = message(w.x, &w.ann, 1);
        w.found_earlier(stored.stored(4));
        w.found.pending.insert(w.x);
        let (fresh, other) = (message(w.x, &w.bob, 2), message(w.y, &w.cyd, 3));
        let stale = altered(&message(w.x, &w.bob, 4), |m| m.sent.epoch = 1);
        assert_eq!(
            decisions(&w.found, &[&fresh, &stored, &other, &stale]),
            [
                Refused(AppendRefusal::RekeyRequired),
                Repeat(stored.stored(4)),
                New { offset: 1 },
                Refused(StaleEpoch { current: 0 }),
            ]
        );
    }

    #[test]
    fn a_repeat_of_a_stored_message_is_the_original() {
        let mut w = world();
        let again = message(w.x, &w.ann, 1);
        let original = Message {
            created_at: "2026-11-26T04:00:00.000Z".into(),
            ..again.stored(7)
        };
        w.found_earlier(original.clone());
        let plan = decide(&w.found, &[&again]);
        assert_eq!(plan.decisions, [Repeat(original)]);
        assert!(plan.reserve.is_empty());
    }

    #[test]
    fn a_repeat_within_the_batch_points_at_its_first() {
        let w = world();
        let (first, other) = (message(w.x, &w.ann, 1), message(w.x, &w.bob, 2));
        // Only the time differs: still the same send.
        let again = altered(&first, |m| m.created_at = "2026-11-26T05:00:09.000Z".into());
        let plan = decide(&w.found, &[&first, &other, &again]);
        let expected = [New { offset: 1 }, New { offset: 2 }, RepeatOfBatch(0)];
        assert_eq!(plan.decisions, expected);
        assert_eq!(plan.reserve[&w.x].0, 2);
    }

    /// The same id as `m` with other bytes, another sender and another
    /// conversation (each still a membership, at the current epoch).
    fn forgeries(w: &World, m: &NewMessage) -> [NewMessage; 5] {
        [
            altered(m, |m| m.sent.nonce = [8; 12].into()),
            altered(m, |m| m.sent.ciphertext = [8; 40].into()),
            altered(m, |m| m.sent.signature = [8; 64].into()),
            altered(m, |m| {
                m.sender_id = w.bob.id;
                m.sender = w.bob.username.clone();
            }),
            altered(m, |m| {
                m.sent.conversation_id = w.y;
                m.sender_id = w.bob.id;
            }),
        ]
    }

    #[test]
    fn the_same_id_with_other_bytes_sender_or_conversation_conflicts_with_a_stored_one() {
        let mut w = world();
        let original = message(w.x, &w.ann, 1);
        w.found_earlier(original.stored(1));
        for forged in forgeries(&w, &original) {
            assert_eq!(decisions(&w.found, &[&forged]), [Refused(IdConflict)]);
        }
    }

    #[test]
    fn the_same_id_with_other_bytes_sender_or_conversation_conflicts_within_the_batch() {
        let w = world();
        let original = message(w.x, &w.ann, 1);
        let forged = forgeries(&w, &original);
        let mut batch = vec![&original];
        batch.extend(&forged);
        let mut expected = vec![New { offset: 1 }];
        expected.extend(vec![Refused(IdConflict); 5]);
        let plan = decide(&w.found, &batch);
        assert_eq!(plan.decisions, expected);
        // The conflicting ones reserve no seq, in `y` no more than in `x`.
        assert_eq!(plan.reserve.len(), 1);
        assert_eq!(plan.reserve[&w.x].0, 1);
    }

    #[test]
    fn outsiders_and_unknown_conversations_are_not_members() {
        let mut w = world();
        let outsider = message(w.x, &w.cyd, 1);
        let nowhere = message(ConversationId::new(), &w.ann, 2);
        let got = decisions(&w.found, &[&outsider, &nowhere]);
        assert_eq!(got, [Refused(NotAMember), Refused(NotAMember)]);
        // Membership is checked first, even before a stored id.
        w.found_earlier(outsider.stored(1));
        assert_eq!(decisions(&w.found, &[&outsider]), [Refused(NotAMember)]);
    }

    #[test]
    fn a_stale_epoch_is_refused_with_the_current_one_and_reserves_nothing() {
        let mut w = world();
        w.found.epochs.insert(w.y, 2);
        let old = altered(&message(w.y, &w.bob, 1), |m| m.sent.epoch = 1);
        let ahead = altered(&message(w.x, &w.bob, 2), |m| m.sent.epoch = 1);
        let current = altered(&message(w.y, &w.cyd, 3), |m| m.sent.epoch = 2);
        let plan = decide(&w.found, &[&old, &ahead, &current]);
        let expected = [
            Refused(StaleEpoch { current: 2 }),
            Refused(StaleEpoch { current: 0 }),
            New { offset: 1 },
        ];
        assert_eq!(plan.decisions, expected);
        assert_eq!(plan.reserve.keys().collect::<Vec<_>>(), [&w.y]);
    }

    #[test]
    fn a_refused_message_leaves_its_id_free_for_a_later_one() {
        let w = world();
        let stale = altered(&message(w.x, &w.ann, 1), |m| m.sent.epoch = 1);
        // The same id, now at the current epoch: a lone append of it after
        // the refused one would be stored.
        let fixed = altered(&stale, |m| m.sent.epoch = 0);
        let got = decisions(&w.found, &[&stale, &fixed]);
        assert_eq!(got, [Refused(StaleEpoch { current: 0 }), New { offset: 1 }]);
    }

    #[test]
    fn one_batch_across_conversations_decides_each_as_alone() {
        let mut w = world();
        let before = message(w.x, &w.ann, 1);
        w.found_earlier(before.stored(1));
        let x2 = message(w.x, &w.bob, 2);
        let y1 = message(w.y, &w.cyd, 3);
        let before_other = altered(&before, |m| m.sent.nonce = [8; 12].into());
        let outsider = message(w.x, &w.cyd, 4);
        let x3 = message(w.x, &w.ann, 6);
        let y2 = message(w.y, &w.bob, 7);
        let batch = [&x2, &y1, &x2, &before, &before_other, &outsider, &x3, &y2];
        let expected = [
            New { offset: 1 },
            New { offset: 1 },
            RepeatOfBatch(0),
            Repeat(before.stored(1)),
            Refused(IdConflict),
            Refused(NotAMember),
            New { offset: 2 },
            New { offset: 2 },
        ];
        assert_eq!(decisions(&w.found, &batch), expected);
    }
}
