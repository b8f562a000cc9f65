//! Rate limits on what signed-in users and their sockets do: sends,
//! lookups, reads and creates per user, events per socket.
//!
//! Each limit is a rate per minute with a burst of a quarter minute's worth,
//! kept as GCRA (the generic cell rate algorithm): one "theoretical arrival
//! time" per key, no list of past events, so a limit of thousands a minute
//! costs eight bytes a key. An action is allowed while that time is at most
//! the burst ahead of now, and each allowed action moves it on by one
//! interval. A refusal says when the next action would pass.
//!
//! Per-user state lives in a sharded map bounded like the login throttle's:
//! a key whose time has fallen behind now holds nothing a fresh key would
//! not, so it is forgotten when its shard fills. Per-socket state is a
//! [`Bucket`] in the socket's session, gone with the socket.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::model::error::{ApiError, ErrorCode};
use crate::model::ids::UserId;

/// A rate: `per_minute` actions a minute, a quarter of them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
}

impl Rate {
    /// Time between two actions at the steady rate, in nanoseconds.
    fn interval(self) -> u64 {
        60_000_000_000 / u64::from(self.per_minute.max(1))
    }

    /// How far ahead of now the arrival time may run: the burst, less one
    /// interval (the action being allowed).
    fn tolerance(self) -> u64 {
        let burst = u64::from((self.per_minute / 4).max(1));
        self.interval() * (burst - 1)
    }

    /// GCRA on one arrival time `tat` (nanoseconds from the limiter's
    /// start): the new time if `now` may act, else how long to wait.
    fn step(self, tat: u64, now: u64) -> Result<u64, Duration> {
        let from = tat.max(now);
        if from - now > self.tolerance() {
            return Err(Duration::from_nanos(from - now - self.tolerance()));
        }
        Ok(from + self.interval())
    }
}

/// What a limit is on: each has its own rate and key space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Send,
    Lookup,
    /// Storing a read position or what one shares.
    Read,
    Create,
}

impl Action {
    fn noun(self) -> &'static str {
        match self {
            Action::Send => "messages",
            Action::Lookup => "lookups",
            Action::Read => "read positions",
            Action::Create => "new conversations",
        }
    }
}

/// The 429 a refused action answers, with `Retry-After` in whole seconds.
pub fn refused(action: Action, wait: Duration) -> ApiError {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    ApiError::new(
        ErrorCode::RateLimited,
        format!("Too many {} at once; try again in {secs} s.", action.noun()),
    )
    .with_retry_after(secs)
}

/// Keys tracked at most over all shards before idle ones are forgotten.
const MAX_KEYS: usize = 100_000;
const SHARDS: usize = 16;

/// One shard of a [`Limiter`]: arrival times, and the size at which the
/// next sweep for forgettable keys runs.
#[derive(Debug)]
struct Shard {
    times: HashMap<(Action, UserId), u64>,
    sweep_at: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            times: HashMap::new(),
            sweep_at: MAX_KEYS / SHARDS,
        }
    }
}

/// Per-user arrival times for every [`Action`].
#[derive(Debug)]
pub struct Limiter {
    start: Instant,
    shards: [Mutex<Shard>; SHARDS],
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter {
            start: Instant::now(),
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }
}

impl Limiter {
    fn now(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Counts one `action` by `user` at `rate`, or says how long to wait.
    pub fn take(&self, user: UserId, action: Action, rate: Rate) -> Result<(), Duration> {
        self.take_at(user, action, rate, self.now())
    }

    fn take_at(&self, user: UserId, action: Action, rate: Rate, now: u64) -> Result<(), Duration> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let key = (action, user);
        let shard = BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % SHARDS;
        let mut shard = self.shards[shard].lock().expect("rate shard lock");
        if shard.times.len() >= shard.sweep_at {
            // Behind now, a time limits nothing: forgetting it is exact.
            // Keys still ahead stay, and the next sweep waits until the
            // shard has grown by a tenth, so a flood costs no scan each.
            shard.times.retain(|_, tat| *tat > now);
            let bound = MAX_KEYS / SHARDS;
            shard.sweep_at = shard.times.len().max(bound) + bound / 10;
        }
        let tat = shard.times.get(&key).copied().unwrap_or(0);
        let next = rate.step(tat, now)?;
        shard.times.insert(key, next);
        Ok(())
    }

    /// Keys held now, over all shards.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap().times.len())
            .sum()
    }
}

/// The instant bucket times count from: one for the process, so a bucket
/// is eight bytes.
static BUCKET_START: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

/// One socket's arrival time for its events, lock-free.
#[derive(Debug, Default)]
pub struct Bucket {
    tat: AtomicU64,
}

impl Bucket {
    /// Counts one event at `rate`, or says how long to wait.
    pub fn take(&self, rate: Rate) -> Result<(), Duration> {
        let now = BUCKET_START.elapsed().as_nanos() as u64;
        let mut tat = self.tat.load(Ordering::Relaxed);
        loop {
            let next = rate.step(tat, now)?;
            match self
                .tat
                .compare_exchange_weak(tat, next, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(seen) => tat = seen,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    fn user(n: u128) -> UserId {
        uuid::Uuid::from_u128(n)
            .hyphenated()
            .to_string()
            .parse()
            .expect("a canonical id")
    }

    #[test]
    fn a_burst_of_a_quarter_minute_then_the_steady_rate() {
        let limiter = Limiter::default();
        let rate = Rate { per_minute: 120 }; // a burst of 30, then one per 0.5 s
        let ana = user(1);
        for i in 0..30 {
            assert!(
                limiter.take_at(ana, Action::Send, rate, 0).is_ok(),
                "burst action {i}"
            );
        }
        let wait = limiter
            .take_at(ana, Action::Send, rate, 0)
            .expect_err("the 31st at once is refused");
        assert_eq!(wait, Duration::from_millis(500));
        assert!(limiter.take_at(ana, Action::Send, rate, SECOND / 2).is_ok());
        assert!(
            limiter
                .take_at(ana, Action::Send, rate, SECOND / 2)
                .is_err()
        );
        // Another user and another action have their own allowance.
        assert!(limiter.take_at(user(2), Action::Send, rate, 0).is_ok());
        assert!(limiter.take_at(ana, Action::Lookup, rate, 0).is_ok());
        // A minute later the whole burst is back.
        for _ in 0..30 {
            assert!(
                limiter
                    .take_at(ana, Action::Send, rate, 61 * SECOND)
                    .is_ok()
            );
        }
    }

    #[test]
    fn a_steady_client_at_the_rate_is_never_refused() {
        let limiter = Limiter::default();
        let rate = Rate { per_minute: 600 };
        for i in 0..10_000u64 {
            assert!(
                limiter
                    .take_at(user(1), Action::Send, rate, i * SECOND / 10)
                    .is_ok(),
                "send {i}"
            );
        }
    }

    #[test]
    fn a_rate_of_one_allows_one() {
        let rate = Rate { per_minute: 1 };
        let limiter = Limiter::default();
        assert!(limiter.take_at(user(1), Action::Create, rate, 0).is_ok());
        assert_eq!(
            limiter.take_at(user(1), Action::Create, rate, SECOND),
            Err(Duration::from_secs(59))
        );
    }

    #[test]
    fn a_full_shard_forgets_only_keys_that_limit_nothing() {
        let limiter = Limiter::default();
        let rate = Rate { per_minute: 60 };
        for n in 0..(MAX_KEYS as u128 * 2) {
            limiter.take_at(user(n), Action::Lookup, rate, 0).unwrap();
        }
        // All still limit at time 0 (each is one second ahead): none forgotten.
        assert_eq!(limiter.len(), MAX_KEYS * 2);
        // Two seconds on, every old key is behind: a shard's next sweep
        // forgets them all.
        for n in 0..(MAX_KEYS as u128) {
            limiter
                .take_at(user(u128::MAX - n), Action::Lookup, rate, 2 * SECOND)
                .unwrap();
        }
        assert!(limiter.len() < MAX_KEYS * 2, "{}", limiter.len());
    }

    #[test]
    fn a_socket_bucket_refuses_past_its_burst() {
        let bucket = Bucket::default();
        let rate = Rate { per_minute: 8 }; // a burst of 2
        assert!(bucket.take(rate).is_ok());
        assert!(bucket.take(rate).is_ok());
        let wait = bucket.take(rate).expect_err("the third at once");
        assert!(wait > Duration::from_secs(6) && wait <= Duration::from_secs(15));
    }

    #[test]
    fn the_refusal_is_429_with_retry_after() {
        let e = refused(Action::Send, Duration::from_millis(1200));
        assert_eq!(e.error, ErrorCode::RateLimited);
        assert_eq!(e.retry_after, Some(2));
    }
}
