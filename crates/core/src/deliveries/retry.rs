//! When to try a delivery again: exponential backoff with jitter, up to a limit.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt, in milliseconds.
    pub base_ms: u64,
    /// No wait is longer than this.
    pub max_ms: u64,
    /// Attempts in all, the first included; after the last, the delivery fails.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 1 min, 2, 4, ... capped at 1 h: eight attempts span about four hours.
        Self { base_ms: 60_000, max_ms: 3_600_000, max_attempts: 8 }
    }
}

impl RetryPolicy {
    /// How long to wait after `attempts` failed attempts, or `None` when none are left.
    /// `jitter` in [0, 1) spreads the retries of many deliveries that failed together
    /// ("equal jitter": between half the backoff and all of it).
    pub fn delay_ms(&self, attempts: u32, jitter: f64) -> Option<u64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let exponent = attempts.saturating_sub(1).min(32);
        let backoff = self.base_ms.saturating_mul(1u64 << exponent).min(self.max_ms);
        let half = backoff / 2;
        Some(half + (half as f64 * jitter.clamp(0.0, 1.0)) as u64)
    }
}

impl RetryPolicy {
    /// As [`RetryPolicy::delay_ms`], but never sooner than `at_least_ms` (a provider's
    /// `Retry-After`), which may exceed `max_ms`: the provider knows when it is ready.
    pub fn delay_at_least_ms(&self, attempts: u32, jitter: f64, at_least_ms: u64) -> Option<u64> {
        self.delay_ms(attempts, jitter).map(|wait| wait.max(at_least_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_stops_at_the_limit() {
        let p = RetryPolicy { base_ms: 1_000, max_ms: 10_000, max_attempts: 5 };
        assert_eq!(p.delay_ms(1, 0.0), Some(500));
        assert_eq!(p.delay_ms(1, 0.999), Some(999));
        assert_eq!(p.delay_ms(2, 0.0), Some(1_000));
        assert_eq!(p.delay_ms(3, 1.0), Some(4_000));
        assert_eq!(p.delay_ms(4, 1.0), Some(8_000));
        assert_eq!(p.delay_ms(5, 0.5), None, "five attempts made: give up");
        let capped = RetryPolicy { max_attempts: 100, ..p };
        assert_eq!(capped.delay_ms(60, 1.0), Some(10_000));
    }

    #[test]
    fn a_providers_retry_after_is_waited_for_but_not_past_the_last_attempt() {
        let p = RetryPolicy { base_ms: 1_000, max_ms: 10_000, max_attempts: 5 };
        assert_eq!(p.delay_at_least_ms(1, 0.0, 30_000), Some(30_000), "longer than the backoff and its cap");
        assert_eq!(p.delay_at_least_ms(3, 1.0, 100), Some(4_000), "shorter than the backoff");
        assert_eq!(p.delay_at_least_ms(5, 0.0, 100), None);
    }
}
