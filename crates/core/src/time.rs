//! Time as unix milliseconds: stored as `bigint` on both engines, so leases, ordering and
//! analytics buckets are plain integer arithmetic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// In JSON a timestamp is an RFC 3339 string (`2026-05-01T10:00:00Z`); unix milliseconds
/// are accepted on input too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Millis(i64),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Millis(ms) => Ok(Self(ms)),
            Either::Text(t) => Self::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl Timestamp {
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub fn now() -> Self {
        Self(jiff::Timestamp::now().as_millisecond())
    }

    /// Accepts RFC 3339 (`2026-05-01T10:00:00Z`) or a plain date (`2026-05-01`, taken as UTC midnight).
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let text = text.trim();
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(Self(ts.as_millisecond()));
        }
        let date: jiff::civil::Date = text.parse().map_err(|_| TimestampError(text.to_owned()))?;
        let ts = date.to_zoned(jiff::tz::TimeZone::UTC).map_err(|_| TimestampError(text.to_owned()))?;
        Ok(Self(ts.timestamp().as_millisecond()))
    }

    /// Date and time on a member's wall clock, as `2026-05-01 14:30` (24-hour, the same
    /// in every language).
    pub fn local(self, zone: &crate::TimeZone) -> String {
        let tz = jiff::tz::TimeZone::get(zone.as_str()).unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::from_millisecond(self.0)
            .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| self.0.to_string())
    }

    pub fn to_rfc3339(self) -> String {
        jiff::Timestamp::from_millisecond(self.0).map(|t| t.to_string()).unwrap_or_else(|_| self.0.to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date or time: use RFC 3339 (2026-05-01T10:00:00Z) or a date (2026-05-01)")]
pub struct TimestampError(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_rfc3339_times_are_accepted() {
        assert_eq!(Timestamp::parse("1970-01-02").ok(), Some(Timestamp(86_400_000)));
        assert_eq!(Timestamp::parse("1970-01-01T00:00:01Z").ok(), Some(Timestamp(1000)));
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn a_timestamp_prints_as_rfc3339_and_parses_back() {
        let t = Timestamp::from_millis(1_780_000_000_123);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()).ok(), Some(t));
    }
}
