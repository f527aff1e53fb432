//! A circuit breaker per channel. When a provider cannot be reached at all (its server
//! refuses connections or never greets), trying every delivery in turn only wastes time
//! and tells the recipients nothing: the channel pauses, first for a second, doubling up
//! to five minutes while the outage lasts, and sends are answered at once with the time
//! to try again. The first answer from the provider (accepted or refused) closes it.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tidings_core::deliveries::Outcome;

const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(300);

/// What is known of a provider's outage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outage {
    /// When the provider was first found unreachable (unix milliseconds).
    pub since_ms: i64,
    /// Why, as the last attempt found it.
    pub reason: String,
    /// Sends wait this long from now before the next try.
    pub retry_in: Duration,
}

#[derive(Debug, Default)]
pub struct Breaker {
    state: Mutex<Option<Open>>,
}

#[derive(Debug)]
struct Open {
    since_ms: i64,
    reason: String,
    until: Instant,
    pause: Duration,
}

impl Breaker {
    /// `Some(outcome)` to answer with instead of sending, while the channel is paused.
    pub fn check(&self) -> Option<Outcome> {
        let state = self.state.lock().ok()?;
        let open = state.as_ref()?;
        let left = open.until.checked_duration_since(Instant::now())?;
        Some(Outcome::ProviderDown {
            reason: format!("paused after the provider could not be reached: {}", open.reason),
            retry_after_ms: millis(left),
        })
    }

    /// Learns from an attempt's outcome; returns it, with the pause to wait when the
    /// provider was unreachable.
    pub fn record(&self, outcome: Outcome) -> Outcome {
        let Ok(mut state) = self.state.lock() else { return outcome };
        match outcome {
            Outcome::ProviderDown { reason, .. } => {
                let now = Instant::now();
                // Sends that were in flight when it opened find what opened it: the pause
                // is already running. Only a try after the pause makes it longer.
                if let Some(open) = state.as_ref().filter(|o| o.until > now) {
                    let left = open.until - now;
                    return Outcome::ProviderDown { reason, retry_after_ms: millis(left) };
                }
                let pause = state.as_ref().map_or(FIRST_PAUSE, |o| (o.pause * 2).min(LONGEST_PAUSE));
                let since_ms = state.as_ref().map_or_else(now_ms, |o| o.since_ms);
                *state = Some(Open { since_ms, reason: reason.clone(), until: now + pause, pause });
                Outcome::ProviderDown { reason, retry_after_ms: millis(pause) }
            }
            // Anything else is the provider answering: it is up.
            other => {
                *state = None;
                other
            }
        }
    }

    pub fn outage(&self) -> Option<Outage> {
        let state = self.state.lock().ok()?;
        let open = state.as_ref()?;
        Some(Outage {
            since_ms: open.since_ms,
            reason: open.reason.clone(),
            retry_in: open.until.saturating_duration_since(Instant::now()),
        })
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Outcome {
        Outcome::ProviderDown { reason: "cannot connect".into(), retry_after_ms: 0 }
    }

    #[test]
    fn an_unreachable_provider_pauses_the_channel_longer_each_time_until_it_answers() {
        let breaker = Breaker::default();
        assert_eq!(breaker.check(), None);
        assert!(matches!(breaker.record(down()), Outcome::ProviderDown { retry_after_ms: 1_000, .. }));
        assert!(matches!(breaker.check(), Some(Outcome::ProviderDown { .. })), "paused: answered at once");
        // Another send that was in flight fails too: the same pause, not a longer one.
        assert!(matches!(breaker.record(down()), Outcome::ProviderDown { retry_after_ms: 1..=1_000, .. }));
        std::thread::sleep(Duration::from_millis(1_050));
        assert_eq!(breaker.check(), None, "after the pause, a try");
        assert!(matches!(breaker.record(down()), Outcome::ProviderDown { retry_after_ms: 2_000, .. }), "and longer");
        assert!(breaker.outage().is_some_and(|o| o.reason == "cannot connect"));
        let sent = Outcome::Sent { provider_id: None };
        assert_eq!(breaker.record(sent.clone()), sent);
        assert_eq!(breaker.check(), None, "an answer closes it");
        assert_eq!(breaker.outage(), None);
    }
}
