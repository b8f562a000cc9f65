//! How long a client waits before trying again: "full jitter", a random
//! share of a ceiling that doubles with each failed attempt up to a cap, so
//! that thousands of clients cut off together do not come back together.
//! Used by the socket's reconnects and by the core's sends and fetches.

/// A ceiling that starts at `first` ms and doubles per attempt up to `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: u32,
    pub cap: u32,
}

impl Backoff {
    /// The socket's reconnects: 0.5 s doubling to 10 s.
    pub const RECONNECT: Backoff = Backoff {
        first: 500,
        cap: 10_000,
    };
    /// Sends and fetches the server did not answer: 1 s doubling to 15 s.
    pub const RETRY: Backoff = Backoff {
        first: 1_000,
        cap: 15_000,
    };

    /// The delay before retry number `attempt` (from 1): a `random` share
    /// (0..1) of the ceiling; a `random` out of range counts as its nearest
    /// bound, NaN as 0.
    pub fn delay_ms(self, attempt: u32, random: f64) -> u32 {
        let doublings = attempt.saturating_sub(1).min(16);
        let ceiling = self.first.saturating_mul(1 << doublings).min(self.cap);
        (f64::from(ceiling) * random.clamp(0.0, 1.0)) as u32
    }
}

/// A small deterministic source of jitter (xorshift64*), seeded by the
/// client from real randomness and by tests with a fixed value.
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Self {
        // Xorshift must not start at 0.
        Jitter(seed | 1)
    }

    /// The next share, in `0..1`.
    pub fn share(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_is_jittered() {
        let b = Backoff::RECONNECT;
        let ceilings: Vec<u32> = (1..=8).map(|n| b.delay_ms(n, 1.0)).collect();
        assert_eq!(
            ceilings,
            [500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]
        );
        assert_eq!(b.delay_ms(u32::MAX, 1.0), 10_000);
        assert_eq!(b.delay_ms(3, 0.5), 1000);
        assert_eq!(b.delay_ms(3, 0.0), 0);
        assert_eq!(b.delay_ms(3, f64::NAN), 0);
        assert_eq!(b.delay_ms(3, 7.0), 2000);
        assert_eq!(b.delay_ms(0, 1.0), 500);
        assert_eq!(Backoff::RETRY.delay_ms(9, 1.0), 15_000);
    }

    #[test]
    fn jitter_stays_in_range_and_spreads() {
        let mut j = Jitter::new(0);
        let draws: Vec<f64> = (0..1000).map(|_| j.share()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((400..600).contains(&low), "{low} of 1000 below one half");
        let mut again = Jitter::new(0);
        assert_eq!(again.share(), draws[0], "a seed gives one sequence");
    }
}
