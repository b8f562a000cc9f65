//! Read positions as the client keeps them (DESIGN.md, "Live conversation
//! (wire)"): this user's own and the others' per conversation, each only
//! ever raised; what they make of a timeline (the unread count, ticks on
//! one's own messages, "Seen by" under the last one); and when to tell the
//! server one has read further, one request at a time per conversation.
//! No I/O: the browser's engine and the tests drive it alike.

use std::collections::BTreeMap;

use super::line::{Body, Line};
use crate::model::ids::UserId;

/// The read positions of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    /// How far this user has read (as the server last said, or further,
    /// as this page saw).
    pub mine: u64,
    /// How far each other member has read, of those who share it.
    pub others: BTreeMap<UserId, u64>,
}

impl Reads {
    /// Takes a position of `user` (this user's if `me`): true if it
    /// raised one.
    pub fn raise(&mut self, user: UserId, me: UserId, seq: u64) -> bool {
        let held = if user == me {
            &mut self.mine
        } else {
            self.others.entry(user).or_default()
        };
        let raised = seq > *held;
        *held = (*held).max(seq);
        raised
    }

    /// Messages from others after this user's position, of those held
    /// (reactions and departures are not messages to read); `more` when
    /// the held ones do not reach down to the position, so there may be
    /// more than counted.
    pub fn unread(&self, lines: &[Line], complete: bool) -> Unread {
        let count = lines
            .iter()
            .filter(|l| !l.mine && l.seq.is_some_and(|s| s > self.mine))
            .filter(|l| !matches!(l.body, Body::Reaction { .. } | Body::Left))
            .count();
        let oldest = lines.iter().find_map(|l| l.seq);
        let more = !complete && oldest.is_some_and(|o| o > self.mine + 1);
        Unread { count, more }
    }

    /// Whether the message at `seq` has been read by every one of
    /// `others` (the members but this user).
    pub fn read_by_all(&self, seq: u64, others: &[UserId]) -> bool {
        !others.is_empty()
            && others
                .iter()
                .all(|o| self.others.get(o).is_some_and(|s| *s >= seq))
    }

    /// The members (but `sender`) who have read up to `seq`, in id order.
    pub fn seen_by(&self, seq: u64, sender: UserId) -> Vec<UserId> {
        self.others
            .iter()
            .filter(|(who, at)| **who != sender && **at >= seq)
            .map(|(who, _)| *who)
            .collect()
    }
}

/// A conversation's unread count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unread {
    pub count: usize,
    /// More may be unread than the messages held show.
    pub more: bool,
}

impl Unread {
    /// As the list shows it: "3", "50+"; nothing when 0.
    pub fn label(&self) -> Option<String> {
        match (self.count, self.more) {
            (0, _) => None,
            (n, false) if n < 100 => Some(n.to_string()),
            (n, _) => Some(format!("{}+", n.min(99))),
        }
    }
}

/// Telling the server how far one has read: at most one request at a
/// time per conversation, the highest position wanted sent next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Marker {
    /// The highest position the server has answered.
    stored: u64,
    /// The position on its way, if any.
    sending: Option<u64>,
    /// The highest position wanted.
    wanted: u64,
}

impl Marker {
    /// The user has read up to `seq`: the position to send now, if any.
    pub fn want(&mut self, seq: u64) -> Option<u64> {
        self.wanted = self.wanted.max(seq);
        self.next()
    }

    /// The server stored `seq` (`None`: the request failed and is dropped;
    /// the next read sends again): the position to send now, if any.
    pub fn answered(&mut self, stored: Option<u64>) -> Option<u64> {
        self.sending = None;
        let seq = stored?;
        self.stored = self.stored.max(seq);
        self.next()
    }

    fn next(&mut self) -> Option<u64> {
        if self.sending.is_some() || self.wanted <= self.stored {
            return None;
        }
        self.sending = Some(self.wanted);
        self.sending
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::delivery::line::Delivery;
    use crate::model::ids::MessageId;

    fn line(seq: u64, mine: bool, body: Body) -> Line {
        Line {
            id: MessageId::new(),
            seq: Some(seq),
            sender_id: UserId::new(),
            sender: "someone".into(),
            mine,
            body,
            at: "2026-12-01T00:00:00Z".into(),
            delivery: Delivery::Sent,
            epoch: 0,
        }
    }

    fn text(seq: u64, mine: bool) -> Line {
        line(seq, mine, Body::Text("hi".into()))
    }

    #[test]
    fn unread_counts_others_messages_after_my_position_only() {
        let reaction = Body::Reaction {
            target: MessageId::new(),
            emoji: "👍".into(),
            remove: false,
        };
        let lines = vec![
            text(1, false),
            text(2, true),
            text(3, false),
            line(4, false, reaction),
            text(5, false),
        ];
        let reads = Reads {
            mine: 2,
            ..Reads::default()
        };
        let unread = reads.unread(&lines, true);
        assert_eq!(
            unread,
            Unread {
                count: 2,
                more: false
            }
        );
        assert_eq!(unread.label().as_deref(), Some("2"));
        // Only the newest page held, and a gap below it down to my
        // position: maybe more.
        assert!(!reads.unread(&lines[2..], false).more, "no gap");
        let behind = Reads {
            mine: 1,
            ..Reads::default()
        };
        let held = behind.unread(&lines[2..], false);
        assert_eq!(
            held,
            Unread {
                count: 2,
                more: true
            }
        );
        assert_eq!(held.label().as_deref(), Some("2+"));
        let none = Reads {
            mine: 5,
            ..Reads::default()
        };
        assert_eq!(none.unread(&lines, false).label(), None);
    }

    #[test]
    fn ticks_and_seen_by_follow_the_others_positions() {
        let (me, ana, ben) = (UserId::new(), UserId::new(), UserId::new());
        let mut reads = Reads::default();
        assert!(reads.raise(ana, me, 4));
        assert!(!reads.raise(ana, me, 3), "never lowered");
        assert_eq!(reads.others[&ana], 4);
        assert!(reads.read_by_all(4, &[ana]));
        assert!(!reads.read_by_all(4, &[ana, ben]), "ben has read nothing");
        assert!(!reads.read_by_all(4, &[]), "nobody to read it");
        reads.raise(ben, me, 9);
        assert!(reads.read_by_all(4, &[ana, ben]));
        assert_eq!(reads.seen_by(4, me), vec![ana.min(ben), ana.max(ben)]);
        assert_eq!(reads.seen_by(5, me), vec![ben]);
        assert_eq!(
            reads.seen_by(5, ben),
            Vec::<UserId>::new(),
            "not its sender"
        );
        assert!(reads.raise(me, me, 7));
        assert_eq!(reads.mine, 7);
    }

    #[test]
    fn one_read_request_at_a_time_the_highest_wanted_next() {
        let mut marker = Marker::default();
        assert_eq!(marker.want(3), Some(3));
        assert_eq!(marker.want(5), None, "one at a time");
        assert_eq!(marker.want(4), None);
        assert_eq!(marker.answered(Some(3)), Some(5), "the highest wanted");
        assert_eq!(marker.answered(Some(5)), None, "nothing more wanted");
        assert_eq!(marker.want(5), None, "stored already");
        assert_eq!(marker.want(6), Some(6));
        assert_eq!(
            marker.answered(None),
            None,
            "a failure waits for the next read"
        );
        assert_eq!(marker.want(6), Some(6), "and that one sends it again");
    }

    proptest! {
        /// Whatever the order of wants and answers, the marker never
        /// sends two at once, never sends a position at or below what is
        /// stored, and the highest wanted is sent once all is answered.
        #[test]
        fn the_marker_sends_the_highest_once_and_never_twice_at_once(
            steps in proptest::collection::vec((any::<bool>(), 0u64..50), 1..60)
        ) {
            let mut marker = Marker::default();
            let mut flight: Option<u64> = None;
            let mut stored = 0;
            let mut wanted = 0;
            for (answer, seq) in steps {
                let sent = if answer && flight.is_some() {
                    stored = stored.max(flight.take().unwrap());
                    marker.answered(Some(stored))
                } else {
                    wanted = wanted.max(seq);
                    marker.want(seq)
                };
                if let Some(s) = sent {
                    prop_assert!(flight.is_none(), "two requests at once");
                    prop_assert!(s > stored);
                    flight = Some(s);
                }
            }
            while let Some(s) = flight.take() {
                stored = stored.max(s);
                flight = marker.answered(Some(stored));
            }
            prop_assert_eq!(stored, wanted);
        }
    }
}
