//! Who is online on this node (DESIGN.md, "Live conversation (wire)"): a
//! user is online while any of their sockets is connected, and for
//! [`PRESENCE_GRACE`] after the last one closed, so that a reload or a
//! moment without network does not flicker. This only counts; `live`
//! decides whom to tell.
//!
//! [`PRESENCE_GRACE`]: crate::protocol::PRESENCE_GRACE

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::ids::UserId;

/// A user held online: their open sockets on this node, and which of
/// their departures a pending grace period belongs to.
#[derive(Debug, Clone, Copy)]
struct Held {
    sockets: usize,
    /// Moves on at every last socket closed; a grace period ends the user's
    /// presence only if none moved it since.
    generation: u64,
}

/// The users online on this node.
#[derive(Debug, Default)]
pub struct Presence {
    online: Mutex<HashMap<UserId, Held>>,
}

/// What a socket's connect is to its user's presence on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// They came online (neither online nor within their grace).
    Came,
    /// Their first socket again, within the grace after their last: no news
    /// on one node, but another node may have told them gone meanwhile.
    Back,
    /// Another socket beside those they hold.
    Another,
}

impl Presence {
    /// A socket of `user` connected.
    pub fn connected(&self, user: UserId) -> Arrival {
        let mut online = self.online.lock().expect("presence lock");
        match online.get_mut(&user) {
            Some(held) => {
                held.sockets += 1;
                if held.sockets == 1 {
                    Arrival::Back
                } else {
                    Arrival::Another
                }
            }
            None => {
                online.insert(
                    user,
                    Held {
                        sockets: 1,
                        generation: 0,
                    },
                );
                Arrival::Came
            }
        }
    }

    /// A socket of `user` closed: if it was their last, the generation to
    /// hand [`Presence::expire`] once the grace period is over.
    pub fn disconnected(&self, user: UserId) -> Option<u64> {
        let mut online = self.online.lock().expect("presence lock");
        let held = online.get_mut(&user)?;
        held.sockets = held.sockets.saturating_sub(1);
        if held.sockets > 0 {
            return None;
        }
        held.generation += 1;
        Some(held.generation)
    }

    /// The grace period after the departure `generation` is over: true
    /// (and the user is offline) if no socket of theirs came since.
    pub fn expire(&self, user: UserId, generation: u64) -> bool {
        let mut online = self.online.lock().expect("presence lock");
        let gone = online
            .get(&user)
            .is_some_and(|h| h.sockets == 0 && h.generation == generation);
        if gone {
            online.remove(&user);
        }
        gone
    }

    /// Whether `user` is online (within their grace included).
    pub fn is_online(&self, user: UserId) -> bool {
        self.online
            .lock()
            .expect("presence lock")
            .contains_key(&user)
    }

    /// Those of `users` who are online (within their grace included).
    pub fn online_among(&self, users: &[UserId]) -> Vec<UserId> {
        let online = self.online.lock().expect("presence lock");
        users
            .iter()
            .filter(|u| online.contains_key(u))
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn online_from_the_first_socket_to_the_grace_after_the_last() {
        let presence = Presence::default();
        let ana = UserId::new();
        assert_eq!(
            presence.connected(ana),
            Arrival::Came,
            "the first socket brings her online"
        );
        assert_eq!(
            presence.connected(ana),
            Arrival::Another,
            "a second tab changes nothing"
        );
        assert_eq!(presence.disconnected(ana), None, "one tab is still open");
        let last = presence.disconnected(ana).expect("her last socket closed");
        assert_eq!(presence.online_among(&[ana]), vec![ana], "within the grace");
        assert!(presence.expire(ana, last));
        assert!(presence.online_among(&[ana]).is_empty());
        assert!(!presence.expire(ana, last), "offline once only");
    }

    #[test]
    fn coming_back_within_the_grace_is_no_change() {
        let presence = Presence::default();
        let ana = UserId::new();
        presence.connected(ana);
        let first = presence.disconnected(ana).unwrap();
        assert_eq!(
            presence.connected(ana),
            Arrival::Back,
            "back within the grace: no news on one node"
        );
        assert!(!presence.expire(ana, first), "the old grace ends nothing");
        let second = presence.disconnected(ana).unwrap();
        assert_ne!(first, second);
        assert!(!presence.expire(ana, first));
        assert!(presence.expire(ana, second));
    }

    #[test]
    fn a_close_without_a_connect_is_ignored() {
        let presence = Presence::default();
        assert_eq!(presence.disconnected(UserId::new()), None);
    }
}
