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

    /// Accepts RFC 3339 (`2026-05-01T10:00:00Z`), or a wall-clock time or a plain date taken
    /// as UTC: see [`Timestamp::parse_in`].
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        Self::parse_in(text, &crate::TimeZone::utc())
    }

    /// An instant with its offset (RFC 3339: `2026-12-24T09:00:00+01:00`, `...Z`), else a
    /// wall-clock time in `zone` as a browser's `datetime-local` field sends it
    /// (`2026-12-24T09:00`, with or without seconds, or with a space for the `T`), else a
    /// plain date (`2026-12-24`: its midnight in `zone`). A time of day is never dropped.
    pub fn parse_in(text: &str, zone: &crate::TimeZone) -> Result<Self, TimestampError> {
        let text = text.trim();
        if let Some(instant) = Self::parse_instant(text) {
            return Ok(instant);
        }
        let bad = || TimestampError(text.to_owned());
        let tz = jiff::tz::TimeZone::get(zone.as_str()).map_err(|_| bad())?;
        // A date alone parses as a civil datetime at midnight; jiff's `Date` would also take
        // a datetime and silently drop its time, so it is never asked.
        let civil: jiff::civil::DateTime = text.parse().map_err(|_| bad())?;
        let zoned = civil.to_zoned(tz).map_err(|_| bad())?;
        Ok(Self(zoned.timestamp().as_millisecond()))
    }

    /// An instant only if `text` states its offset (RFC 3339), else `None`.
    pub fn parse_instant(text: &str) -> Option<Self> {
        text.trim().parse::<jiff::Timestamp>().ok().map(|ts| Self(ts.as_millisecond()))
    }

    /// Date and time on a member's wall clock, as `2026-05-01 14:30` (24-hour, the same
    /// in every language).
    pub fn local(self, zone: &crate::TimeZone) -> String {
        let tz = jiff::tz::TimeZone::get(zone.as_str()).unwrap_or(jiff::tz::TimeZone::UTC);
        jiff::Timestamp::from_millisecond(self.0)
            .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| self.0.to_string())
    }

    /// Date, time and zone, as Tidings states a time to a person: `2026-12-24 09:00
    /// Europe/Berlin` (24-hour, the same in every language).
    pub fn stated(self, zone: &crate::TimeZone) -> String {
        format!("{} {}", self.local(zone), zone.as_str())
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_and_rfc3339_times_are_accepted() {
        assert_eq!(Timestamp::parse("1970-01-02").ok(), Some(Timestamp(86_400_000)));
        assert_eq!(Timestamp::parse("1970-01-01T00:00:01Z").ok(), Some(Timestamp(1000)));
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn a_time_of_day_is_never_dropped() {
        let berlin = crate::TimeZone::parse("Europe/Berlin").unwrap();
        let nine_utc = Timestamp::parse("2026-12-24T09:00:00Z").unwrap();
        // As a browser's datetime-local field posts it: no seconds, no zone.
        assert_eq!(Timestamp::parse("2026-12-24T09:00").ok(), Some(nine_utc));
        assert_eq!(Timestamp::parse("2026-12-24 09:00:00").ok(), Some(nine_utc));
        let nine_berlin = Timestamp::parse_in("2026-12-24T09:00", &berlin).unwrap();
        assert_eq!(nine_berlin.as_millis(), nine_utc.as_millis() - 3_600_000, "09:00 in Berlin is 08:00 UTC in winter");
        assert_eq!(nine_berlin.stated(&berlin), "2026-12-24 09:00 Europe/Berlin");
        assert_eq!(Timestamp::parse_in("2026-12-24T09:00:00Z", &berlin).ok(), Some(nine_utc), "an offset wins");
        assert_eq!(Timestamp::parse_instant("2026-12-24T09:00"), None, "no offset, no instant");
    }

    #[test]
    fn a_timestamp_prints_as_rfc3339_and_parses_back() {
        let t = Timestamp::from_millis(1_780_000_000_123);
        assert_eq!(Timestamp::parse(&t.to_rfc3339()).ok(), Some(t));
    }
}
