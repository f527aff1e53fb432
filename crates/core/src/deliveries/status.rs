//! Where a delivery stands, and what one attempt came to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Queued,
    /// Claimed by a worker under a lease.
    Sending,
    /// The provider accepted it.
    Sent,
    /// The provider reported it delivered.
    Delivered,
    /// The receiving server refused it for good.
    Bounced,
    /// Given up: a permanent error, or too many transient ones.
    Failed,
    /// Not sent: consent or a suppression said no at send time.
    Suppressed,
    /// The connection broke after the message was handed over and before the answer:
    /// it may or may not have arrived. Retried with the same Message-ID.
    Unknown,
}

impl DeliveryStatus {
    pub const ALL: [Self; 8] = [
        Self::Queued,
        Self::Sending,
        Self::Sent,
        Self::Delivered,
        Self::Bounced,
        Self::Failed,
        Self::Suppressed,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a worker still has something to do with it.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Queued | Self::Sending | Self::Unknown)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a delivery status")]
pub struct DeliveryStatusError(String);

impl FromStr for DeliveryStatus {
    type Err = DeliveryStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| DeliveryStatusError(s.to_owned()))
    }
}

/// What one attempt came to, as the channel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted, with the provider's id when it gives one.
    Sent { provider_id: Option<String> },
    /// Worth trying again later (a 4xx answer, a refused connection, a timeout before sending).
    Transient(String),
    /// Worth trying again, not before the provider said (an HTTP 429 or 503 with
    /// `Retry-After`): the backoff waits at least this long.
    RetryAfter { reason: String, after_ms: u64 },
    /// Never worth trying again (a 5xx answer for the recipient).
    Permanent(String),
    /// Handed over, but the answer never came.
    Unknown(String),
    /// The provider itself could not be reached (its server refuses connections or never
    /// greets): the provider's outage, not the recipient's failure, so the attempt is not
    /// counted against the delivery. Tried again no sooner than `retry_after_ms`.
    ProviderDown { reason: String, retry_after_ms: u64 },
    /// Not attempted: the member may no longer be reached on this channel.
    Suppressed(String),
}

impl Outcome {
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Sent { .. } => None,
            Self::Transient(r) | Self::Permanent(r) | Self::Unknown(r) | Self::Suppressed(r) => Some(r),
            Self::RetryAfter { reason, .. } | Self::ProviderDown { reason, .. } => Some(reason),
        }
    }
}
