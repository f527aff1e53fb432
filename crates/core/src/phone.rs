//! A phone number in E.164 form (`+4930123456`): what every SMS provider expects.
//! Spaces, dots, dashes and parentheses people type are dropped; nothing else is guessed.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an E.164 phone number: write + then the country code and number, 8 to 15 digits (+4930123456)")]
pub struct PhoneError(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, PhoneError> {
        let trimmed = text.trim();
        let compact: String = trimmed.chars().filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')')).collect();
        let digits = compact.strip_prefix('+').ok_or_else(|| PhoneError(trimmed.to_owned()))?;
        let valid =
            (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
        if !valid {
            return Err(PhoneError(trimmed.to_owned()));
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}
impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_characters_are_dropped() {
        assert_eq!(Phone::parse("+49 (30) 123-456.78").ok().map(String::from), Some("+493012345678".into()));
    }

    #[test]
    fn numbers_without_country_code_or_with_letters_are_refused() {
        for bad in ["030123456", "+0301234567", "+49 30 CALL ME", "+1234567", "+1234567890123456", ""] {
            assert!(Phone::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
