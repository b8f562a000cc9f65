//! Sliding-window throttles for prelogin and login, in memory per node (in
//! a cluster, `shared_throttle` keeps the same windows in Redis, and falls
//! back on these).
//!
//! Login failures count three ways: per account and client address (10 in
//! 15 minutes), per client address (50), and per account from anywhere
//! (100). A stranger on one address can thus lock out only that address;
//! locking the account itself takes many addresses, and lasts at most the
//! window. Prelogin requests count per account and address (30) and per
//! address (300). A refusal carries how long until the next try may succeed.
//!
//! An attempt is counted when it starts, under one lock with the check
//! ([`Throttle::take_all`]), and given back if it succeeds: counted after
//! the password hash instead, concurrent wrong logins all passed the check
//! before any was counted. Beside the counts, at most
//! [`LOGINS_IN_FLIGHT`] logins per account and address are being checked at
//! any moment ([`InFlight`]), and sign-ups count per address (their limit
//! is the `signups_per_address` setting).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::address::group;

/// One limit: at most `max` events per `window` for a key.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: usize,
    pub window: Duration,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Login failures, per account and address.
pub const LOGIN_ACCOUNT_ADDRESS: Limit = Limit {
    max: 10,
    window: WINDOW,
};
/// Login failures, per address.
pub const LOGIN_ADDRESS: Limit = Limit {
    max: 50,
    window: WINDOW,
};
/// Login failures, per account.
pub const LOGIN_ACCOUNT: Limit = Limit {
    max: 100,
    window: WINDOW,
};
/// Prelogin requests, per account and address.
pub const PRELOGIN_ACCOUNT_ADDRESS: Limit = Limit {
    max: 30,
    window: WINDOW,
};
/// Prelogin requests, per address.
pub const PRELOGIN_ADDRESS: Limit = Limit {
    max: 300,
    window: WINDOW,
};

/// Logins being checked at once, per account and address.
pub const LOGINS_IN_FLIGHT: usize = 2;

/// Sign-ups per address in a window, at most `max` (a setting).
pub fn signup_limit(max: usize) -> Limit {
    Limit {
        max,
        window: WINDOW,
    }
}

/// What is in progress per key, each entry held by a [`Slot`].
#[derive(Debug, Default)]
pub struct InFlight {
    running: Mutex<HashMap<String, usize>>,
}

/// One entry of [`InFlight`], given up when dropped (the request ended,
/// however it ended).
#[derive(Debug)]
pub struct Slot<'a> {
    owner: &'a InFlight,
    key: String,
}

impl InFlight {
    /// A slot under `key` if fewer than `max` are held.
    pub fn enter(&self, key: &str, max: usize) -> Option<Slot<'_>> {
        let mut running = self.running.lock().expect("in-flight lock");
        let held = running.entry(key.to_owned()).or_default();
        if *held >= max {
            return None;
        }
        *held += 1;
        Some(Slot {
            owner: self,
            key: key.to_owned(),
        })
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut running = self.owner.running.lock().expect("in-flight lock");
        if let Some(held) = running.get_mut(&self.key) {
            *held -= 1;
            if *held == 0 {
                running.remove(&self.key);
            }
        }
    }
}

/// Keys tracked at most, over all shards: past it, a shard forgets its
/// idle keys, then its least recently used one.
pub const MAX_KEYS: usize = 100_000;
/// Shards of the map, each under its own lock: a check locks only the
/// shards of its keys, and pruning scans one shard, never the whole map.
const SHARDS: usize = 16;

type Times = HashMap<String, VecDeque<Instant>>;

/// Event times per key.
#[derive(Debug)]
pub struct Throttle {
    shards: [Mutex<Times>; SHARDS],
    /// Logins being checked now.
    pub in_flight: InFlight,
}

/// `Err(retry_after)` if `times` has used up `limit` (forgetting the times
/// that have left the window).
fn wait(times: Option<&mut VecDeque<Instant>>, limit: Limit, now: Instant) -> Result<(), Duration> {
    let Some(times) = times else {
        return Ok(());
    };
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= limit.window)
    {
        times.pop_front();
    }
    if times.len() < limit.max {
        return Ok(());
    }
    let oldest = *times.front().expect("full means non-empty");
    Err(limit
        .window
        .saturating_sub(now.duration_since(oldest))
        .max(Duration::from_secs(1)))
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle {
            shards: std::array::from_fn(|_| Mutex::default()),
            in_flight: InFlight::default(),
        }
    }
}

fn shard_of(key: &str) -> usize {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key) as usize % SHARDS
}

/// Makes room in a full shard: idle keys go first, then, down to nine
/// tenths of the bound, those whose last event is oldest. Done once per
/// tenth of a shard's keys, so a flood of new keys costs no scan each.
fn make_room(times: &mut Times, now: Instant) {
    const BOUND: usize = MAX_KEYS / SHARDS;
    if times.len() < BOUND {
        return;
    }
    times.retain(|_, t| t.back().is_some_and(|at| now.duration_since(*at) < WINDOW));
    let keep = BOUND - BOUND / 10;
    if times.len() > keep {
        let mut last: Vec<(Instant, String)> = times
            .iter()
            .filter_map(|(key, t)| Some((*t.back()?, key.clone())))
            .collect();
        let cut = last.len().saturating_sub(keep);
        last.select_nth_unstable(cut);
        for (_, key) in &last[..cut] {
            times.remove(key);
        }
    }
}

impl Throttle {
    /// The shards of `keys`, locked in index order (so two checks never
    /// wait on each other the other way round), with each key's shard.
    fn lock<'a>(
        &'a self,
        keys: &[(String, Limit)],
    ) -> (Vec<usize>, HashMap<usize, std::sync::MutexGuard<'a, Times>>) {
        let of: Vec<usize> = keys.iter().map(|(key, _)| shard_of(key)).collect();
        let mut order = of.clone();
        order.sort_unstable();
        order.dedup();
        let guards = order
            .into_iter()
            .map(|i| (i, self.shards[i].lock().expect("throttle lock")))
            .collect();
        (of, guards)
    }

    /// Counts one attempt under every key, unless one of them has used up
    /// its limit (then nothing is counted and the longest wait is the
    /// answer): the check and the count are one step, so attempts made at
    /// once cannot all pass before any is counted.
    pub fn take_all(&self, keys: &[(String, Limit)], now: Instant) -> Result<(), Duration> {
        let (of, mut shards) = self.lock(keys);
        let longest = keys
            .iter()
            .zip(&of)
            .filter_map(|((key, limit), i)| {
                let times = shards.get_mut(i).expect("locked").get_mut(key);
                wait(times, *limit, now).err()
            })
            .max();
        if let Some(longest) = longest {
            return Err(longest);
        }
        for ((key, _), i) in keys.iter().zip(&of) {
            let times = shards.get_mut(i).expect("locked");
            if !times.contains_key(key) {
                make_room(times, now);
            }
            times.entry(key.clone()).or_default().push_back(now);
        }
        Ok(())
    }

    /// Un-counts an attempt [`Throttle::take_all`] counted at `at` (it
    /// succeeded).
    pub fn give_back(&self, keys: &[(String, Limit)], at: Instant) {
        let (of, mut shards) = self.lock(keys);
        for ((key, _), i) in keys.iter().zip(&of) {
            if let Some(times) = shards.get_mut(i).expect("locked").get_mut(key)
                && let Some(i) = times.iter().rposition(|t| *t == at)
            {
                times.remove(i);
            }
        }
    }

    /// Forgets a key (after a successful login for that account and address).
    pub fn clear(&self, key: &str) {
        self.shards[shard_of(key)]
            .lock()
            .expect("throttle lock")
            .remove(key);
    }
}

/// The keys a login attempt is counted under.
pub fn login_keys(username: &str, address: IpAddr) -> [(String, Limit); 3] {
    let address = group(address);
    [
        (format!("login|{username}|{address}"), LOGIN_ACCOUNT_ADDRESS),
        (format!("login-ip|{address}"), LOGIN_ADDRESS),
        (format!("login-acct|{username}"), LOGIN_ACCOUNT),
    ]
}

/// The key a sign-up is counted under.
pub fn signup_keys(address: IpAddr, max: usize) -> [(String, Limit); 1] {
    [(format!("signup-ip|{}", group(address)), signup_limit(max))]
}

/// The keys a prelogin is counted under. Every request counts (a prelogin
/// cannot fail), so the per-account limit is per address too: a stranger
/// cannot stop the real user from logging in.
pub fn prelogin_keys(username: &str, address: IpAddr) -> [(String, Limit); 2] {
    let address = group(address);
    [
        (
            format!("prelogin|{username}|{address}"),
            PRELOGIN_ACCOUNT_ADDRESS,
        ),
        (format!("prelogin-ip|{address}"), PRELOGIN_ADDRESS),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_stays_bounded_and_a_busy_key_outlives_idle_ones() {
        let throttle = Throttle::default();
        let limit = Limit {
            max: 1_000,
            window: WINDOW,
        };
        let start = Instant::now();
        let busy = [("busy".to_owned(), limit)];
        for i in 0..(MAX_KEYS + 5_000) {
            let at = start + Duration::from_micros(i as u64 + 1);
            throttle.take_all(&[(format!("k{i}"), limit)], at).unwrap();
            if i % 1_000 == 0 {
                throttle.take_all(&busy, at).unwrap();
            }
        }
        let held: usize = throttle
            .shards
            .iter()
            .map(|s| s.lock().unwrap().len())
            .sum();
        assert!(held <= MAX_KEYS, "{held} keys held");
        let holds = |key: &str| {
            throttle.shards[shard_of(key)]
                .lock()
                .unwrap()
                .contains_key(key)
        };
        assert!(holds("busy"), "a key in use is kept");
        assert!(!holds("k0"), "the least recently used went");
    }

    #[test]
    fn in_flight_holds_at_most_max_per_key_until_slots_drop() {
        let running = InFlight::default();
        let first = running.enter("a", 2).unwrap();
        let second = running.enter("a", 2).unwrap();
        assert!(running.enter("a", 2).is_none(), "a third is refused");
        assert!(running.enter("b", 2).is_some(), "keys are separate");
        drop(first);
        let third = running.enter("a", 2).expect("a slot came free");
        drop((second, third));
        assert!(
            running.running.lock().unwrap().is_empty(),
            "nothing is kept for keys no longer in flight"
        );
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let throttle = Throttle::default();
        let limit = Limit {
            max: 3,
            window: Duration::from_secs(60),
        };
        let start = Instant::now();
        let keys = [("k".to_owned(), limit)];
        for i in 0..3 {
            let at = start + Duration::from_secs(i);
            assert!(throttle.take_all(&keys, at).is_ok(), "attempt {i}");
        }
        let retry = throttle
            .take_all(&keys, start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(retry, Duration::from_secs(50));
        let other = [("other".to_owned(), limit)];
        assert!(
            throttle.take_all(&other, start).is_ok(),
            "keys are separate"
        );
        let later = start + Duration::from_secs(60);
        assert!(
            throttle.take_all(&keys, later).is_ok(),
            "the first left the window"
        );
        throttle.clear("k");
        for i in 0..3 {
            assert!(
                throttle.take_all(&keys, later).is_ok(),
                "cleared: attempt {i}"
            );
        }
        assert!(throttle.take_all(&keys, later).is_err());
    }

    #[test]
    fn a_refused_attempt_counts_nowhere_and_a_given_back_one_is_gone() {
        let throttle = Throttle::default();
        let small = Limit {
            max: 1,
            window: Duration::from_secs(60),
        };
        let large = Limit { max: 5, ..small };
        let now = Instant::now();
        let keys = [("a".to_owned(), small), ("b".to_owned(), large)];
        assert!(throttle.take_all(&keys, now).is_ok());
        assert!(throttle.take_all(&keys, now).is_err(), "a is used up");
        // Under b only the first attempt counted: room for exactly one more
        // of two.
        let b = [("b".to_owned(), Limit { max: 2, ..large })];
        assert!(throttle.take_all(&b, now).is_ok());
        assert!(throttle.take_all(&b, now).is_err());
        throttle.give_back(&b, now);
        throttle.give_back(&keys, now);
        assert!(throttle.take_all(&keys, now).is_ok(), "a is free again");
    }
}
