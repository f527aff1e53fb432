//! What can happen to a message on its way to a member and after.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventKind {
    Queued,
    Sent,
    Delivered,
    Bounced,
    Failed,
    Suppressed,
    Opened,
    /// An open by a machine (a privacy proxy or a prefetcher), not a person: see
    /// `machine_engagement`.
    MachineOpened,
    Clicked,
    /// A click by a link scanner, not a person: see `machine_engagement`.
    ScannerClicked,
    Viewed,
    Read,
    Acknowledged,
    Unsubscribed,
}

impl EventKind {
    pub const ALL: [Self; 14] = [
        Self::Queued,
        Self::Sent,
        Self::Delivered,
        Self::Bounced,
        Self::Failed,
        Self::Suppressed,
        Self::Opened,
        Self::MachineOpened,
        Self::Clicked,
        Self::ScannerClicked,
        Self::Viewed,
        Self::Read,
        Self::Acknowledged,
        Self::Unsubscribed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Bounced => "bounced",
            Self::Failed => "failed",
            Self::Suppressed => "suppressed",
            Self::Opened => "opened",
            Self::MachineOpened => "machine_opened",
            Self::Clicked => "clicked",
            Self::ScannerClicked => "scanner_clicked",
            Self::Viewed => "viewed",
            Self::Read => "read",
            Self::Acknowledged => "acknowledged",
            Self::Unsubscribed => "unsubscribed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an event kind; known: queued, sent, delivered, bounced, failed, suppressed, opened, clicked, viewed, read, acknowledged, unsubscribed"
)]
pub struct EventKindError(String);

impl FromStr for EventKind {
    type Err = EventKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| EventKindError(s.trim().to_owned()))
    }
}
