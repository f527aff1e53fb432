//! Why a delivery is sent. A member can get one message more than once on one channel,
//! on purpose: the first send, then reminders, escalation steps or a sequence's steps.
//! Each is its own delivery (the purpose is part of its key) with its own Message-ID.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Purpose {
    /// The message's release.
    #[default]
    Initial,
    /// The n-th reminder to a member who has not acted (from 1).
    Reminder(u16),
    /// The n-th step of an escalation ladder (from 1).
    Escalation(u16),
    /// The n-th step of a lifecycle sequence (from 1).
    Sequence(u16),
    /// The notice that the message was corrected materially, as version n.
    Correction(u16),
    /// A nice-to-know message held for the member's digest email, sent with the others
    /// due for them at once.
    Digest,
}

impl Purpose {
    /// As stored and shown: `initial`, `reminder-2`, `escalation-1`, `sequence-3`. The
    /// form is also the Message-ID's last part, so it holds only letters, digits and `-`.
    pub fn as_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Initial => f.write_str("initial"),
            Self::Reminder(n) => write!(f, "reminder-{n}"),
            Self::Escalation(n) => write!(f, "escalation-{n}"),
            Self::Sequence(n) => write!(f, "sequence-{n}"),
            Self::Correction(n) => write!(f, "correction-{n}"),
            Self::Digest => f.write_str("digest"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a delivery purpose (initial, digest, reminder-N, escalation-N, sequence-N or correction-N, N from 1)"
)]
pub struct PurposeError(String);

impl FromStr for Purpose {
    type Err = PurposeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "initial" => return Ok(Self::Initial),
            "digest" => return Ok(Self::Digest),
            _ => {}
        }
        let bad = || PurposeError(s.to_owned());
        let (kind, n) = s.split_once('-').ok_or_else(bad)?;
        // Digits only: `u16::from_str` would take a leading `+`, and two spellings of one
        // purpose would be two keys.
        if n.is_empty() || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u16 = n.parse().map_err(|_| bad())?;
        match kind {
            "reminder" => Ok(Self::Reminder(n)),
            "escalation" => Ok(Self::Escalation(n)),
            "sequence" => Ok(Self::Sequence(n)),
            "correction" => Ok(Self::Correction(n)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Purpose {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Purpose {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Purpose {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some("^(initial|digest|(reminder|escalation|sequence|correction)-[1-9][0-9]{0,4})$"))
            .description(Some(
                "Why the delivery was sent: the release, the member's digest, a reminder, an escalation or sequence step, or a correction's notice",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Purpose {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_reads_back_as_written() {
        for p in [
            Purpose::Initial,
            Purpose::Digest,
            Purpose::Reminder(1),
            Purpose::Escalation(12),
            Purpose::Sequence(u16::MAX),
        ] {
            assert_eq!(p.to_string().parse::<Purpose>(), Ok(p));
        }
    }

    #[test]
    fn other_spellings_are_refused() {
        for bad in ["", "Initial", "reminder", "reminder-", "reminder-0", "reminder-01", "reminder-+1", "nudge-1"] {
            assert!(bad.parse::<Purpose>().is_err(), "{bad:?}");
        }
    }
}
