//! A BCP 47 language tag (`en`, `de-DE`, `zh-Hans-CN`), validated and canonicalized
//! (`en_us` becomes `en-US`) so that locale variants of a message match reliably.

use std::fmt;

use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a BCP 47 language tag such as en, de-DE or pt-BR")]
pub struct LocaleError(String);

impl Locale {
    pub fn parse(text: &str) -> Result<Self, LocaleError> {
        let text = text.trim();
        let tag: LanguageIdentifier = text.parse().map_err(|_| LocaleError(text.to_owned()))?;
        // Five-to-eight-letter language subtags are reserved by BCP 47; none is in use.
        if tag.language.is_empty() || tag.language.as_str().len() > 3 {
            return Err(LocaleError(text.to_owned()));
        }
        Ok(Self(tag.to_string()))
    }

    pub fn english() -> Self {
        Self("en".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`de` for `de-AT`), used for fallback.
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl Default for Locale {
    fn default() -> Self {
        Self::english()
    }
}
impl TryFrom<String> for Locale {
    type Error = LocaleError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}
impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_canonicalized() {
        assert_eq!(Locale::parse("en_us").ok().map(String::from), Some("en-US".into()));
        assert_eq!(Locale::parse("ZH-hans-cn").ok().map(String::from), Some("zh-Hans-CN".into()));
        assert_eq!(Locale::parse("de-AT").ok().map(|l| l.language().to_owned()), Some("de".into()));
    }

    #[test]
    fn non_tags_are_refused() {
        for bad in ["", "english", "en-", "12", "und"] {
            assert!(Locale::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
