//! The users behind recently checked sessions, kept for a few seconds so
//! that a burst of requests (every send, every socket handshake, a storm of
//! reconnects) does not read the same user row each time.
//!
//! A logout on this node takes effect at once: it revokes the user's
//! cached row and refuses any older row a request still in flight tries to
//! put back. When several nodes share a database, a logout on another node
//! takes effect here as soon as Redis tells it (`fanout`), and within
//! [`TTL`] when it cannot.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::model::ids::UserId;
use crate::server::store::UserRecord;

/// How long a checked user row is trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// Most rows kept; beyond it, expired ones go, then all.
const MAX: usize = 100_000;

#[derive(Default)]
struct Inner {
    users: HashMap<UserId, (UserRecord, Instant)>,
    /// The lowest token version still valid, per user revoked lately.
    revoked: HashMap<UserId, (u32, Instant)>,
}

/// Recently read user rows, by id.
#[derive(Default)]
pub struct RecentUsers {
    inner: Mutex<Inner>,
}

impl RecentUsers {
    /// The user's row if read within [`TTL`] of `now`.
    pub fn get(&self, id: UserId, now: Instant) -> Option<UserRecord> {
        let inner = self.inner.lock().expect("recent users lock");
        inner
            .users
            .get(&id)
            .filter(|(_, at)| now.saturating_duration_since(*at) < TTL)
            .map(|(user, _)| user.clone())
    }

    /// Keeps a row just read from the store (unless a revocation since
    /// makes it stale).
    pub fn put(&self, user: &UserRecord, now: Instant) {
        let mut inner = self.inner.lock().expect("recent users lock");
        if inner.revoked.get(&user.id).is_some_and(|(min, at)| {
            user.token_version < *min && now.saturating_duration_since(*at) < TTL
        }) {
            return;
        }
        if inner.users.len() >= MAX {
            inner
                .users
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
            inner
                .revoked
                .retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
            if inner.users.len() >= MAX {
                inner.users.clear();
            }
        }
        inner.users.insert(user.id, (user.clone(), now));
    }

    /// Forgets `id`'s row, which changed (what they share): the next
    /// request reads it again. A request that read the row before the
    /// change may still put the old one back, for at most [`TTL`].
    pub fn forget(&self, id: UserId) {
        self.inner
            .lock()
            .expect("recent users lock")
            .users
            .remove(&id);
    }

    /// Forgets `id`'s row: its tokens below `version` are no longer valid.
    pub fn revoke(&self, id: UserId, version: u32, now: Instant) {
        let mut inner = self.inner.lock().expect("recent users lock");
        inner.users.remove(&id);
        // Told twice (this node's own logout comes back from Redis), or out
        // of order: the highest version stands.
        let floor = inner
            .revoked
            .get(&id)
            .map_or(version, |(min, _)| version.max(*min));
        inner.revoked.insert(id, (floor, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::test_user as user;

    #[test]
    fn rows_are_kept_for_the_ttl_only() {
        let recent = RecentUsers::default();
        let alice = user("alice");
        let t = Instant::now();
        assert_eq!(recent.get(alice.id, t), None);
        recent.put(&alice, t);
        assert_eq!(recent.get(alice.id, t + TTL / 2), Some(alice.clone()));
        assert_eq!(recent.get(alice.id, t + TTL), None);
    }

    #[test]
    fn a_revocation_forgets_and_refuses_a_stale_row() {
        let recent = RecentUsers::default();
        let alice = user("alice");
        let t = Instant::now();
        recent.put(&alice, t);
        recent.revoke(alice.id, 1, t);
        assert_eq!(recent.get(alice.id, t), None);
        // A request that read the row before the logout puts it back late.
        recent.put(&alice, t + Duration::from_millis(1));
        assert_eq!(recent.get(alice.id, t + Duration::from_millis(2)), None);
        // The row as it is after the logout is kept.
        let after = UserRecord {
            token_version: 1,
            ..alice.clone()
        };
        recent.put(&after, t + Duration::from_millis(3));
        assert_eq!(
            recent.get(alice.id, t + Duration::from_millis(4)),
            Some(after)
        );
    }
}
