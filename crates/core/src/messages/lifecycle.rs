//! A message's life: draft -> scheduled -> sending -> sent, or cancelled. A scheduled
//! message can go back to draft; once sending starts the message is frozen (copy it to
//! change it). Every move is a method that refuses what is not allowed, with the reason.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Timestamp;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MessageState {
    Draft,
    Scheduled,
    Sending,
    Sent,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("a message that is {0} cannot change: copy it to send a new version")]
    Frozen(MessageState),
    #[error("a message that is {from} cannot be {to}")]
    Illegal { from: MessageState, to: &'static str },
    #[error("the send time must be in the future")]
    SendTimeInPast,
}

impl MessageState {
    pub const ALL: [Self; 5] = [Self::Draft, Self::Scheduled, Self::Sending, Self::Sent, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the content, audience and settings may still change.
    pub fn is_editable(self) -> bool {
        matches!(self, Self::Draft | Self::Scheduled)
    }

    pub fn check_editable(self) -> Result<(), MessageError> {
        if self.is_editable() { Ok(()) } else { Err(MessageError::Frozen(self)) }
    }

    /// Draft -> scheduled, for a time after `now`.
    pub fn schedule(self, at: Timestamp, now: Timestamp) -> Result<Self, MessageError> {
        match self {
            Self::Draft | Self::Scheduled if at > now => Ok(Self::Scheduled),
            Self::Draft | Self::Scheduled => Err(MessageError::SendTimeInPast),
            from => Err(MessageError::Illegal { from, to: "scheduled" }),
        }
    }

    /// Scheduled -> draft.
    pub fn unschedule(self) -> Result<Self, MessageError> {
        match self {
            Self::Scheduled => Ok(Self::Draft),
            from => Err(MessageError::Illegal { from, to: "returned to draft" }),
        }
    }

    /// Draft or scheduled -> sending (released now, or its time has come).
    pub fn release(self) -> Result<Self, MessageError> {
        match self {
            Self::Draft | Self::Scheduled => Ok(Self::Sending),
            from => Err(MessageError::Illegal { from, to: "released" }),
        }
    }

    /// Sending -> sent, when every delivery is queued and worked.
    pub fn finish(self) -> Result<Self, MessageError> {
        match self {
            Self::Sending => Ok(Self::Sent),
            from => Err(MessageError::Illegal { from, to: "finished" }),
        }
    }

    /// Draft or scheduled -> cancelled.
    pub fn cancel(self) -> Result<Self, MessageError> {
        match self {
            Self::Draft | Self::Scheduled => Ok(Self::Cancelled),
            from => Err(MessageError::Illegal { from, to: "cancelled" }),
        }
    }
}

impl fmt::Display for MessageState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a message state; known: draft, scheduled, sending, sent, cancelled")]
pub struct MessageStateError(String);

impl FromStr for MessageState {
    type Err = MessageStateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| MessageStateError(s.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::MessageState::*;
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);
    const LATER: Timestamp = Timestamp::from_millis(2_000_000);

    #[test]
    fn a_draft_is_scheduled_released_and_finished() {
        assert_eq!(Draft.schedule(LATER, NOW), Ok(Scheduled));
        assert_eq!(Scheduled.unschedule(), Ok(Draft));
        assert_eq!(Scheduled.release(), Ok(Sending));
        assert_eq!(Draft.release(), Ok(Sending));
        assert_eq!(Sending.finish(), Ok(Sent));
        assert_eq!(Scheduled.cancel(), Ok(Cancelled));
    }

    #[test]
    fn a_sending_or_sent_message_is_frozen() {
        for state in [Sending, Sent, Cancelled] {
            assert!(state.check_editable().is_err());
            assert!(state.cancel().is_err());
            assert!(state.schedule(LATER, NOW).is_err());
        }
        assert_eq!(
            Sending.check_editable().map_err(|e| e.to_string()),
            Err("a message that is sending cannot change: copy it to send a new version".into())
        );
        assert_eq!(Sent.release().map_err(|e| e.to_string()), Err("a message that is sent cannot be released".into()));
    }

    #[test]
    fn a_send_time_in_the_past_is_refused() {
        assert_eq!(Draft.schedule(NOW, NOW), Err(MessageError::SendTimeInPast));
        assert_eq!(Draft.unschedule(), Err(MessageError::Illegal { from: Draft, to: "returned to draft" }));
    }
}
