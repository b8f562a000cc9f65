//! The sign-up, prelogin and login throttles of a cluster: the same
//! sliding windows as [`Throttle`], kept in Redis when the node fans out
//! through it, so that guesses spread over n nodes get no further than on
//! one. One Lua script checks every key of an attempt and, if none is used
//! up, counts it under all of them, atomically (the check and the count are
//! one step, as in [`Throttle::take_all`]); an attempt that succeeded is
//! taken out again. Without Redis, or while it does not answer, the node
//! counts alone ([`Throttle`]), as one node does.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use fred::prelude::ClientLike;

use super::fanout::Bus;
use super::state::AppState;
use super::throttle::Limit;
#[cfg(doc)]
use super::throttle::Throttle;

/// Checks every key; counts one event under each unless one of them is
/// used up, then answers the longest wait in milliseconds (0: counted).
/// Entries are scored by time (ms) and named by the attempt, so that the
/// attempt can be taken out again.
const TAKE: &str = r#"
local now = tonumber(ARGV[1])
local longest = 0
for i, key in ipairs(KEYS) do
  local max = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= max then
    local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
    longest = math.max(longest, oldest + window - now)
  end
end
if longest > 0 then return longest end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, tonumber(ARGV[2 + 2 * i]))
end
return 0
"#;

/// One counted attempt, to hand back to [`succeeded`].
pub struct Attempt {
    keys: Vec<(String, Limit)>,
    at: Instant,
    /// Its name in Redis, if it was counted there.
    member: Option<String>,
}

/// The Redis key of a throttle key; the prefix in braces keeps every key
/// of one deployment in one hash slot (a script's keys must share one on a
/// Redis Cluster).
fn redis_key(prefix: &str, key: &str) -> String {
    format!("{{{prefix}}}-throttle|{key}")
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Counts one attempt under every key of `keys`, cluster-wide when the node
/// has Redis, or answers how long until one may pass.
pub async fn take_all(state: &AppState, keys: &[(String, Limit)]) -> Result<Attempt, Duration> {
    let at = Instant::now();
    let attempt = |member| Attempt {
        keys: keys.to_vec(),
        at,
        member,
    };
    if let Bus::Redis(redis) = &state.bus {
        let mut name = [0u8; 12];
        getrandom::fill(&mut name).expect("the operating system's random source works");
        let member = crate::model::encoding::b64(&name);
        let prefix = &state.settings.redis_prefix;
        let mut args = vec![TAKE.to_owned(), keys.len().to_string()];
        args.extend(keys.iter().map(|(key, _)| redis_key(prefix, key)));
        args.push(unix_ms().to_string());
        args.push(member.clone());
        for (_, limit) in keys {
            args.push(limit.max.to_string());
            args.push(limit.window.as_millis().to_string());
        }
        let answer: Result<i64, _> = redis.client().custom(fred::cmd!("EVAL"), args).await;
        match answer {
            Ok(0) => return Ok(attempt(Some(member))),
            Ok(wait) => {
                return Err(Duration::from_millis(wait.max(0) as u64).max(Duration::from_secs(1)));
            }
            Err(e) => {
                tracing::warn!(error = %e, "Redis did not count an attempt; counted on this node")
            }
        }
    }
    state.throttle.take_all(keys, at).map(|()| attempt(None))
}

/// The attempt succeeded (a login that checked out): it no longer counts,
/// and its first key (the account and address) starts afresh.
pub async fn succeeded(state: &AppState, attempt: Attempt) {
    let first = attempt.keys[0].0.clone();
    match (&state.bus, &attempt.member) {
        (Bus::Redis(redis), Some(_)) => {
            let prefix = &state.settings.redis_prefix;
            let mut args = vec![REPAY.to_owned(), attempt.keys.len().to_string()];
            args.extend(attempt.keys.iter().map(|(key, _)| redis_key(prefix, key)));
            args.push(attempt.member.clone().unwrap_or_default());
            let done: Result<i64, _> = redis.client().custom(fred::cmd!("EVAL"), args).await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "Redis did not take back a successful attempt");
            }
        }
        _ => {
            state.throttle.give_back(&attempt.keys, attempt.at);
            state.throttle.clear(&first);
        }
    }
}

/// Takes the attempt `ARGV[1]` out of every key, and empties the first.
const REPAY: &str = r#"
for i, key in ipairs(KEYS) do
  redis.call('ZREM', key, ARGV[1])
end
redis.call('DEL', KEYS[1])
return 0
"#;
