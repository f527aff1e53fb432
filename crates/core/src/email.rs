//! An email address, validated and normalized to lower case: members are matched by
//! email on import and sign-in, and no mail system treats addresses case-sensitively in practice.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("an email address is required")]
    Empty,
    #[error("'{0}' is not a valid email address")]
    Invalid(String),
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(EmailError::Empty);
        }
        let valid = email_address::EmailAddress::is_valid(text)
            && !text.contains(['<', '>', '"', ' '])
            && text.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.'));
        if !valid {
            return Err(EmailError::Invalid(text.to_owned()));
        }
        Ok(Self(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address that reaches nobody (`.invalid` is reserved by RFC 2606), for a profile
    /// that stands in where there is no member.
    pub fn nobody() -> Self {
        Self("nobody@tidings.invalid".to_owned())
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}
impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_trimmed_and_lower_cased() {
        let e = Email::parse("  Ana.Silva@Example.COM ").ok();
        assert_eq!(e.as_ref().map(Email::as_str), Some("ana.silva@example.com"));
        assert_eq!(e.as_ref().map(Email::domain), Some("example.com"));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@@example.com",
            "ana@localhost",
            "Ana <ana@example.com>",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
