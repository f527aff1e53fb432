//! What a webhook endpoint can subscribe to, and when a failing endpoint is tried again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// A message went out (once its audience is fanned out).
    #[serde(rename = "message.released")]
    MessageReleased,
    /// A delivery on an outside channel failed for good or bounced.
    #[serde(rename = "delivery.failed")]
    DeliveryFailed,
    /// A member acknowledged a must-know message.
    #[serde(rename = "acknowledgment.recorded")]
    AcknowledgmentRecorded,
    /// Every recipient of a message at one partner has acknowledged it.
    #[serde(rename = "obligation.met")]
    ObligationMet,
    /// A test event, sent on request to one endpoint.
    #[serde(rename = "webhook.test")]
    Test,
}

impl EventType {
    /// The events an endpoint subscribes to.
    pub const SUBSCRIBABLE: [Self; 4] =
        [Self::MessageReleased, Self::DeliveryFailed, Self::AcknowledgmentRecorded, Self::ObligationMet];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageReleased => "message.released",
            Self::DeliveryFailed => "delivery.failed",
            Self::AcknowledgmentRecorded => "acknowledgment.recorded",
            Self::ObligationMet => "obligation.met",
            Self::Test => "webhook.test",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an event type; known: message.released, delivery.failed, acknowledgment.recorded, obligation.met"
)]
pub struct EventTypeError(String);

impl FromStr for EventType {
    type Err = EventTypeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        [Self::MessageReleased, Self::DeliveryFailed, Self::AcknowledgmentRecorded, Self::ObligationMet, Self::Test]
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| EventTypeError(wanted.to_owned()))
    }
}

/// Waits before each retry of a failed webhook request, after the first attempt: 5 s,
/// 5 min, 30 min, 2 h, 5 h, 10 h (the Standard Webhooks reference schedule); after the
/// last, the request has failed.
pub const RETRY_SCHEDULE_MS: [i64; 6] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000];

/// An endpoint failing this long without one success is disabled.
pub const DISABLE_AFTER_MS: i64 = 5 * 86_400_000;

/// The wait before attempt `attempts + 1`, after `attempts` failed ones; `None` when the
/// schedule is spent.
pub fn retry_after_ms(attempts: u32) -> Option<i64> {
    let i = usize::try_from(attempts).ok()?.checked_sub(1)?;
    RETRY_SCHEDULE_MS.get(i).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_requests_are_retried_on_the_schedule_then_given_up() {
        let waits: Vec<Option<i64>> = (1..=7).map(retry_after_ms).collect();
        assert_eq!(
            waits,
            [Some(5_000), Some(300_000), Some(1_800_000), Some(7_200_000), Some(18_000_000), Some(36_000_000), None]
        );
        assert_eq!(retry_after_ms(0), None);
    }

    #[test]
    fn event_types_read_as_written() {
        for t in EventType::SUBSCRIBABLE {
            assert_eq!(t.as_str().parse::<EventType>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap_or_default(), t.as_str());
        }
        assert!("message.sent".parse::<EventType>().is_err());
    }
}
