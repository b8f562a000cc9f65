//! Typing relays, coalesced per conversation. The first `typing` a
//! conversation's room has had for [`WINDOW`] goes out at once, as it came;
//! those within the window after it wait for the window's end and go out
//! together, in one event naming every typist. A `typing` goes to every
//! member of the room, so fifty people typing in a room of 1,000 were
//! twenty-five pushes to each member a second, and slowed the room's
//! messages (benchmark (d), #19); coalesced, they are one or two. A
//! conversation where one person types at a time hears each `typing` at
//! once, as before.
//!
//! This module decides; `realtime` emits, and schedules the flushes it is
//! told to.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::ids::{ConversationId, UserId};

/// The least time between two relays into one conversation's room.
pub const WINDOW: Duration = Duration::from_secs(1);

/// Conversations tracked before the quiet ones are forgotten.
const TRACKED: usize = 4096;

/// Where each conversation's relays stand.
#[derive(Debug, Default)]
pub struct TypingRelay {
    rooms: Mutex<Rooms>,
}

#[derive(Debug, Default)]
struct Rooms {
    by_id: HashMap<ConversationId, Room>,
    /// The count at which quiet rooms are next forgotten: [`TRACKED`], or
    /// twice the rooms still busy at the last sweep.
    sweep_at: usize,
}

#[derive(Debug)]
struct Room {
    /// When the room last heard a relay.
    relayed: Instant,
    /// Who typed since, waiting for the flush (each once, in order).
    waiting: Vec<UserId>,
}

/// What to do with one `typing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// Relay it now, as it came.
    Now,
    /// Kept for the flush at this instant, which the caller schedules: the
    /// first to wait in this window.
    FlushAt(Instant),
    /// Kept for the flush already scheduled.
    Kept,
}

impl TypingRelay {
    /// `user` is typing in `conversation` at `now`.
    pub fn heard(&self, conversation: ConversationId, user: UserId, now: Instant) -> Heard {
        let mut guard = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let rooms = &mut *guard;
        if rooms.by_id.len() >= rooms.sweep_at.max(TRACKED) {
            rooms.by_id.retain(|_, room| !quiet(room, now));
            rooms.sweep_at = 2 * rooms.by_id.len();
        }
        let rooms = &mut rooms.by_id;
        match rooms.get_mut(&conversation) {
            Some(room) if !quiet(room, now) => {
                let first = room.waiting.is_empty();
                if !room.waiting.contains(&user) {
                    room.waiting.push(user);
                }
                if first {
                    Heard::FlushAt(room.relayed + WINDOW)
                } else if now.saturating_duration_since(room.relayed) >= 2 * WINDOW {
                    // The flush is long overdue (its task never ran):
                    // schedule another rather than keep them for ever.
                    Heard::FlushAt(now)
                } else {
                    Heard::Kept
                }
            }
            _ => {
                rooms.insert(
                    conversation,
                    Room {
                        relayed: now,
                        waiting: Vec::new(),
                    },
                );
                Heard::Now
            }
        }
    }

    /// The typists kept for `conversation`, taken at its flush at `now`,
    /// which starts the next window.
    pub fn flush(&self, conversation: ConversationId, now: Instant) -> Vec<UserId> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        match rooms.by_id.get_mut(&conversation) {
            Some(room) if !room.waiting.is_empty() => {
                room.relayed = now;
                std::mem::take(&mut room.waiting)
            }
            _ => Vec::new(),
        }
    }
}

impl TypingRelay {
    /// `user`'s message in `conversation` was stored: they are no longer
    /// typing it, and a flush still to come does not say they are.
    pub fn sent(&self, conversation: ConversationId, user: UserId) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(room) = rooms.by_id.get_mut(&conversation) {
            room.waiting.retain(|u| *u != user);
        }
    }
}

/// Whether a room may hear a relay at once: its window is over and
/// nobody waits for a flush.
fn quiet(room: &Room, now: Instant) -> bool {
    room.waiting.is_empty() && now.saturating_duration_since(room.relayed) >= WINDOW
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_goes_at_once_the_rest_of_the_window_together_at_its_end() {
        let relay = TypingRelay::default();
        let (c, other) = (ConversationId::new(), ConversationId::new());
        let (ana, ben, cyd) = (UserId::new(), UserId::new(), UserId::new());
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(relay.heard(c, ana, t0), Heard::Now);
        // Another conversation has its own window.
        assert_eq!(relay.heard(other, ben, at(10)), Heard::Now);
        // Within the window: kept, the first of them schedules the flush
        // at the window's end, the others join it, each typist once.
        assert_eq!(relay.heard(c, ben, at(200)), Heard::FlushAt(at(1000)));
        assert_eq!(relay.heard(c, cyd, at(300)), Heard::Kept);
        assert_eq!(relay.heard(c, ben, at(400)), Heard::Kept);
        // Past the window but before the flush ran: still kept.
        assert_eq!(relay.heard(c, ana, at(1001)), Heard::Kept);
        assert_eq!(relay.flush(c, at(1002)), vec![ben, cyd, ana]);
        // Nothing left: a second flush names nobody.
        assert_eq!(relay.flush(c, at(1003)), Vec::<UserId>::new());
        // The flush started the next window.
        assert_eq!(relay.heard(c, ben, at(1500)), Heard::FlushAt(at(2002)));
        assert_eq!(relay.flush(c, at(2002)), vec![ben]);
        // A quiet window later, at once again.
        assert_eq!(relay.heard(c, cyd, at(3100)), Heard::Now);
        // A flush that never ran is scheduled again once overdue.
        assert_eq!(relay.heard(c, ana, at(3200)), Heard::FlushAt(at(4100)));
        assert_eq!(relay.heard(c, ben, at(4000)), Heard::Kept);
        assert_eq!(relay.heard(c, cyd, at(5100)), Heard::FlushAt(at(5100)));
        assert_eq!(relay.flush(c, at(5100)), vec![ana, ben, cyd]);
    }

    #[test]
    fn fifty_typing_in_one_room_are_at_most_two_relays_a_second() {
        let relay = TypingRelay::default();
        let c = ConversationId::new();
        let typists: Vec<UserId> = (0..50).map(|_| UserId::new()).collect();
        let t0 = Instant::now();
        let (mut relays, mut flush_at) = (0, None);
        // Each types every two seconds, spread evenly: 25 a second, for 10 s.
        for step in 0..250u64 {
            let now = t0 + Duration::from_millis(step * 40);
            if let Some(at) = flush_at.filter(|at| *at <= now) {
                assert!(!relay.flush(c, at).is_empty());
                relays += 1;
                flush_at = None;
            }
            match relay.heard(c, typists[(step % 50) as usize], now) {
                Heard::Now => relays += 1,
                Heard::FlushAt(at) => flush_at = Some(at),
                Heard::Kept => {}
            }
        }
        assert!(relays <= 11, "{relays} relays in 10 s");
        assert!(relays >= 9, "{relays} relays in 10 s: typing still flows");
    }

    #[test]
    fn quiet_rooms_are_forgotten_once_many_are_tracked() {
        let relay = TypingRelay::default();
        let t0 = Instant::now();
        let user = UserId::new();
        for _ in 0..TRACKED {
            relay.heard(ConversationId::new(), user, t0);
        }
        let later = t0 + WINDOW;
        relay.heard(ConversationId::new(), user, later);
        assert_eq!(relay.rooms.lock().unwrap().by_id.len(), 1);
    }

    #[test]
    fn a_typist_whose_message_was_stored_is_not_named_by_the_flush() {
        let relay = TypingRelay::default();
        let c = ConversationId::new();
        let (ana, ben, cyd) = (UserId::new(), UserId::new(), UserId::new());
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        assert_eq!(relay.heard(c, ana, t0), Heard::Now);
        assert_eq!(relay.heard(c, ben, at(100)), Heard::FlushAt(at(1000)));
        assert_eq!(relay.heard(c, cyd, at(200)), Heard::Kept);
        relay.sent(c, ben);
        assert_eq!(relay.flush(c, at(1000)), vec![cyd]);
        // With nobody left, the flush names nobody and the room is quiet
        // again a window after the last relay.
        assert_eq!(relay.heard(c, ben, at(1100)), Heard::FlushAt(at(2000)));
        relay.sent(c, ben);
        assert_eq!(relay.flush(c, at(2000)), Vec::<UserId>::new());
        assert_eq!(relay.heard(c, ana, at(2100)), Heard::Now);
    }

    #[test]
    fn many_busy_rooms_are_not_swept_at_every_typing() {
        let relay = TypingRelay::default();
        let t0 = Instant::now();
        let user = UserId::new();
        for _ in 0..TRACKED {
            relay.heard(ConversationId::new(), user, t0);
        }
        // All busy: the sweep keeps them and waits for twice as many.
        relay.heard(ConversationId::new(), user, t0);
        assert_eq!(relay.rooms.lock().unwrap().sweep_at, 2 * TRACKED);
    }
}
