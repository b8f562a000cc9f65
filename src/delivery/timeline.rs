//! One conversation's messages as a client holds them: stored ones in `seq`
//! order, then its own pending ones in writing order; each message once, by
//! id. A copy of a message held already replaces it only when it is worth
//! more ([`Rank`]): a stored copy beats a pending one, a verified copy beats
//! one that failed verification, and never the reverse, so a forged copy
//! sent first cannot spoil a genuine one for good.
//!
//! It also answers where the holes are: the `seq`s missing between what is
//! held and what the server is known to hold. It decides nothing about
//! fetching: that is [`super::Core`]'s.

use crate::model::conversation::Message;
use crate::model::ids::MessageId;

/// What a copy of a message is worth; a held copy is replaced only by one
/// that ranks higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// Written here, not yet answered by the server.
    Pending,
    /// Written here and refused for good.
    Failed,
    /// Stored, but its tag or signature did not check out.
    Unverified,
    /// Stored and checked.
    Verified,
}

/// How the server settled one of this client's own messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored at `seq`, at the server's time.
    Stored { seq: u64, at: String },
    /// Refused for good, with the reason in words for its sender.
    Failed(String),
}

/// A message as a client holds it.
pub trait Entry: Clone {
    fn id(&self) -> MessageId;
    /// `None` while pending (or failed).
    fn seq(&self) -> Option<u64>;
    fn rank(&self) -> Rank;
    /// The copy after the server settled it (own messages only).
    fn settled(self, outcome: Outcome) -> Self;
}

/// A stored message as the wire carries it, held unopened (the integration
/// tests' reader and the benchmark's clients hold these).
impl Entry for Message {
    fn id(&self) -> MessageId {
        self.id
    }

    fn seq(&self) -> Option<u64> {
        Some(self.seq)
    }

    fn rank(&self) -> Rank {
        Rank::Verified
    }

    /// A wire message is stored by construction: its outcome is the one it
    /// carries already, so it stays as it is.
    fn settled(self, _: Outcome) -> Self {
        self
    }
}

/// One conversation's messages, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline<E> {
    lines: Vec<E>,
    /// Whether the oldest message is held (nothing older to load), so that
    /// any `seq` missing from 1 up is a hole.
    pub complete: bool,
}

impl<E> Default for Timeline<E> {
    fn default() -> Self {
        Timeline {
            lines: Vec::new(),
            complete: false,
        }
    }
}

impl<E: Entry> Timeline<E> {
    pub fn lines(&self) -> &[E] {
        &self.lines
    }

    /// Adds a message, or replaces the held copy if this one ranks higher,
    /// keeping `seq` order with pending ones last. Returns whether anything
    /// changed.
    pub fn upsert(&mut self, entry: E) -> bool {
        if let Some(at) = self.lines.iter().position(|l| l.id() == entry.id()) {
            if entry.rank() <= self.lines[at].rank() {
                return false;
            }
            self.lines.remove(at);
        }
        match entry.seq() {
            None => self.lines.push(entry),
            Some(seq) => {
                // From the end: new messages mostly arrive newest.
                let at = self
                    .lines
                    .iter()
                    .rposition(|l| l.seq().is_some_and(|s| s < seq))
                    .map_or(0, |i| i + 1);
                self.lines.insert(at, entry);
            }
        }
        true
    }

    /// The held copy of a message.
    pub fn get(&self, id: MessageId) -> Option<&E> {
        self.lines.iter().find(|l| l.id() == id)
    }

    /// Removes a message (a failed one the user discards).
    pub fn remove(&mut self, id: MessageId) -> bool {
        let before = self.lines.len();
        self.lines.retain(|l| l.id() != id);
        self.lines.len() != before
    }

    /// The `seq`s held, ascending.
    fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.lines.iter().filter_map(Entry::seq)
    }

    /// The highest `seq` held (0 if none).
    pub fn last_seq(&self) -> u64 {
        self.seqs().last().unwrap_or(0)
    }

    /// The lowest `seq` held.
    pub fn first_seq(&self) -> Option<u64> {
        self.seqs().next()
    }

    /// Whether any stored message is held.
    pub fn has_stored(&self) -> bool {
        self.first_seq().is_some()
    }

    /// The highest `seq` up to which nothing is missing, counted from the
    /// oldest held (from 0 when the timeline is complete).
    pub fn contiguous(&self) -> u64 {
        let mut upto = self.floor();
        for seq in self.seqs() {
            if seq > upto + 1 {
                break;
            }
            upto = seq;
        }
        upto
    }

    /// Where holes may start: 0 if the oldest message is held, else just
    /// below the oldest `seq` held (what lies below it is older history,
    /// loaded on demand, not a hole).
    fn floor(&self) -> u64 {
        match self.first_seq() {
            Some(first) if !self.complete => first - 1,
            _ => 0,
        }
    }

    /// The first run of missing `seq`s up to `top` (the highest the server
    /// is known to hold), as exclusive bounds `(after, before)`; `before` is
    /// `None` when the run reaches `top`.
    pub fn first_hole(&self, top: u64) -> Option<(u64, Option<u64>)> {
        let upto = self.contiguous();
        if upto >= top {
            return None;
        }
        let next = self.seqs().find(|&s| s > upto);
        Some((upto, next))
    }

    /// The newest line, for the conversation list's preview.
    pub fn newest(&self) -> Option<&E> {
        self.lines.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bare entry: an id, a `seq` and a rank.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Bare(MessageId, Option<u64>, Rank);

    impl Entry for Bare {
        fn id(&self) -> MessageId {
            self.0
        }
        fn seq(&self) -> Option<u64> {
            self.1
        }
        fn rank(&self) -> Rank {
            self.2
        }
        fn settled(self, outcome: Outcome) -> Self {
            match outcome {
                Outcome::Stored { seq, .. } => Bare(self.0, Some(seq), Rank::Verified),
                Outcome::Failed(_) => Bare(self.0, None, Rank::Failed),
            }
        }
    }

    fn seqs(t: &Timeline<Bare>) -> Vec<Option<u64>> {
        t.lines().iter().map(|l| l.1).collect()
    }

    fn ids(n: usize) -> Vec<MessageId> {
        (0..n).map(|_| MessageId::new()).collect()
    }

    #[test]
    fn lines_stay_in_seq_order_once_each_whatever_order_they_arrive_in() {
        let mut t = Timeline::default();
        let ids = ids(5);
        for (seq, i) in [(3, 2), (1, 0), (5, 4), (2, 1), (3, 2), (4, 3), (1, 0)] {
            t.upsert(Bare(ids[i], Some(seq), Rank::Verified));
        }
        assert_eq!(seqs(&t), [1, 2, 3, 4, 5].map(Some));
        assert_eq!((t.first_seq(), t.last_seq()), (Some(1), 5));
    }

    #[test]
    fn a_stored_copy_replaces_the_pending_line_and_pending_stay_last() {
        let mut t = Timeline::default();
        let [a, b, c] = ids(3)[..] else { panic!() };
        assert!(t.upsert(Bare(a, Some(1), Rank::Verified)));
        assert!(t.upsert(Bare(b, None, Rank::Pending)));
        assert!(t.upsert(Bare(c, Some(2), Rank::Verified)));
        assert_eq!(seqs(&t), [Some(1), Some(2), None]);
        assert!(t.upsert(Bare(b, Some(3), Rank::Verified)));
        assert_eq!(seqs(&t), [Some(1), Some(2), Some(3)]);
        assert!(
            !t.upsert(Bare(b, None, Rank::Pending)),
            "stale pending copy"
        );
        assert_eq!(t.lines().len(), 3);
    }

    #[test]
    fn a_verified_copy_replaces_an_unverified_one_and_never_the_reverse() {
        let mut t = Timeline::default();
        let a = MessageId::new();
        assert!(t.upsert(Bare(a, Some(1), Rank::Unverified)));
        assert!(t.upsert(Bare(a, Some(1), Rank::Verified)));
        assert!(!t.upsert(Bare(a, Some(1), Rank::Unverified)));
        assert_eq!(t.lines(), [Bare(a, Some(1), Rank::Verified)]);
    }

    #[test]
    fn a_pending_line_can_fail_and_a_failed_one_does_not_go_back() {
        let mut t = Timeline::default();
        let a = MessageId::new();
        t.upsert(Bare(a, None, Rank::Pending));
        assert!(t.upsert(Bare(a, None, Rank::Failed)));
        assert!(!t.upsert(Bare(a, None, Rank::Pending)));
        assert!(t.remove(a));
        assert!(t.lines().is_empty());
    }

    #[test]
    fn holes_count_from_the_oldest_held_unless_the_timeline_is_complete() {
        let mut t = Timeline::default();
        let ids = ids(9);
        for seq in [5, 6, 9] {
            t.upsert(Bare(ids[seq as usize - 1], Some(seq), Rank::Verified));
        }
        assert_eq!(t.contiguous(), 6);
        assert_eq!(t.first_hole(9), Some((6, Some(9))));
        assert_eq!(t.first_hole(12), Some((6, Some(9))));
        t.upsert(Bare(ids[6], Some(7), Rank::Verified));
        t.upsert(Bare(ids[7], Some(8), Rank::Verified));
        assert_eq!(t.first_hole(9), None);
        assert_eq!(t.first_hole(11), Some((9, None)));
        t.complete = true;
        assert_eq!(t.contiguous(), 0, "1 to 4 are missing");
        assert_eq!(t.first_hole(9), Some((0, Some(5))));
    }

    #[test]
    fn an_empty_complete_timeline_has_a_hole_once_the_server_holds_more() {
        let mut t = Timeline::<Bare>::default();
        assert_eq!(t.first_hole(0), None);
        t.complete = true;
        assert_eq!(t.first_hole(3), Some((0, None)));
    }
}
