//! A short machine key (`product-updates`, `emea_pilot`): lower-case ASCII letters, digits,
//! `-` and `_`, 1 to 64 characters, starting with a letter or digit. Used wherever a
//! human-chosen key appears in rules, CSV files and URLs.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a valid key: use 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or digit"
)]
pub struct SlugError(String);

impl Slug {
    pub fn parse(text: &str) -> Result<Self, SlugError> {
        let text = text.trim();
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && text.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
        if !valid {
            return Err(SlugError(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = SlugError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}
impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_lower_case_words() {
        assert!(Slug::parse("product-updates").is_ok());
        assert!(Slug::parse("emea_pilot2").is_ok());
        for bad in ["", "Product", "-x", "a b", "é", &"a".repeat(65)] {
            assert!(Slug::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
