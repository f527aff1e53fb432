//! Tidings' own words in English, German, French and Spanish (Fluent files under
//! `crates/app/locales`, compiled into the binary): the portal's pages and the emails
//! Tidings writes itself (sign-in links, reminders). A member reads them in their
//! profile's language; a visitor not yet signed in, in the first supported language
//! their browser asks for. Anything else falls back to English.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Unicode isolation marks around arguments would show in titles and form values.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// The languages the portal speaks, by their primary language subtag.
static SUPPORTED: [(&str, LanguageIdentifier); 4] =
    [("en", langid!("en")), ("de", langid!("de")), ("fr", langid!("fr")), ("es", langid!("es"))];

/// Translates the portal's text into one language.
#[derive(Debug, Clone)]
pub struct Tr {
    lang: &'static LanguageIdentifier,
    code: &'static str,
}

impl Default for Tr {
    fn default() -> Self {
        Self { lang: &SUPPORTED[0].1, code: SUPPORTED[0].0 }
    }
}

impl Tr {
    /// For a language tag such as `de` or `fr-CA`; `None` when the portal does not speak it.
    pub fn supported(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default().trim().to_ascii_lowercase();
        SUPPORTED.iter().find(|(code, _)| *code == primary).map(|(code, lang)| Self { lang, code })
    }

    /// For a member's locale, English when the portal does not speak it.
    pub fn for_locale(tag: &str) -> Self {
        Self::supported(tag).unwrap_or_default()
    }

    /// For an `Accept-Language` header: the first supported language, in the header's order
    /// of preference.
    pub fn for_accept_language(header: Option<&str>) -> Self {
        let mut wanted: Vec<(f32, &str)> = header
            .unwrap_or_default()
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(1.0, |q| q.trim().parse::<f32>().unwrap_or(0.0));
                (!tag.is_empty() && q > 0.0).then_some((q, tag))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.into_iter().find_map(|(_, tag)| Self::supported(tag)).unwrap_or_default()
    }

    /// The language code for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    pub fn text(&self, key: &str) -> String {
        LOCALES.lookup(self.lang, key)
    }

    /// A text with one argument, such as a name or a date.
    pub fn text_with(&self, key: &str, name: &str, value: &str) -> String {
        self.text_with_all(key, &[(name, value.to_owned())])
    }

    pub fn text_with_all(&self, key: &str, values: &[(&str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = values
            .iter()
            .map(|(name, value)| (Cow::Owned((*name).to_owned()), FluentValue::from(value.as_str())))
            .collect();
        LOCALES.lookup_with_args(self.lang, key, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lang: &str) -> Vec<String> {
        let dir = format!("{}/locales/{lang}", env!("CARGO_MANIFEST_DIR"));
        let text: String = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
            .collect::<Vec<_>>()
            .join("\n");
        let mut keys: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with(['#', ' ']) && l.contains(" = "))
            .filter_map(|l| l.split(" = ").next().map(str::to_owned))
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn every_language_has_every_text() {
        let english = keys("en");
        assert!(english.len() > 40);
        for lang in ["de", "fr", "es"] {
            assert_eq!(keys(lang), english, "{lang} differs from en");
        }
    }

    #[test]
    fn languages_are_chosen_from_locales_and_browsers() {
        assert_eq!(Tr::for_locale("de-AT").code(), "de");
        assert_eq!(Tr::for_locale("pt-BR").code(), "en");
        assert_eq!(Tr::for_accept_language(Some("pt-BR, fr;q=0.8, de;q=0.9")).code(), "de");
        assert_eq!(Tr::for_accept_language(Some("es;q=0, fr;q=0.5")).code(), "fr");
        assert_eq!(Tr::for_accept_language(None).code(), "en");
        assert_eq!(Tr::for_locale("fr").text_with("signed-in-as", "name", "Zoé"), "Connecté en tant que Zoé");
        assert_eq!(Tr::for_locale("es").text("nav-inbox"), "Bandeja de entrada");
    }
}
