//! An IANA time zone name (`Europe/Berlin`), checked against the bundled tz database so a
//! scheduled send in the member's local time can always be computed.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an IANA time zone such as Europe/Berlin or America/New_York")]
pub struct TimeZoneError(String);

impl TimeZone {
    pub fn parse(text: &str) -> Result<Self, TimeZoneError> {
        let text = text.trim();
        // Offsets such as "+02:00" are refused on purpose: they ignore daylight saving.
        if !text.contains('/') && text != "UTC" {
            return Err(TimeZoneError(text.to_owned()));
        }
        let tz = jiff::tz::TimeZone::get(text).map_err(|_| TimeZoneError(text.to_owned()))?;
        Ok(Self(tz.iana_name().unwrap_or(text).to_owned()))
    }

    /// Every zone name the bundled database knows, sorted, for a member to choose from.
    pub fn known() -> &'static [String] {
        static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
        NAMES.get_or_init(|| {
            let mut names: Vec<String> = jiff::tz::db()
                .available()
                .map(|name| name.as_str().to_owned())
                .filter(|name| name.contains('/') || name == "UTC")
                .collect();
            names.sort();
            names.dedup();
            names
        })
    }

    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::utc()
    }
}
impl TryFrom<String> for TimeZone {
    type Error = TimeZoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<TimeZone> for String {
    fn from(t: TimeZone) -> String {
        t.0
    }
}
impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_names_are_accepted() {
        for good in ["Europe/Berlin", "America/Argentina/Buenos_Aires", "UTC", "Asia/Kolkata"] {
            assert!(TimeZone::parse(good).is_ok(), "{good} was refused");
        }
    }

    #[test]
    fn offsets_abbreviations_and_inventions_are_refused() {
        for bad in ["", "CET", "+02:00", "Europe/Atlantis", "berlin"] {
            assert!(TimeZone::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
