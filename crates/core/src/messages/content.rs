//! What a message says, per language: a title and summary, then the three questions every
//! partner message must answer (what changed, why it matters, what to do next) in
//! Markdown, and a call to action. A member reads the variant of their locale, else of
//! their language, else the default.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Locale, Timestamp, text};

pub const TITLE_MAX: usize = 200;
pub const SUMMARY_MAX: usize = 500;
pub const SECTION_MAX: usize = 20_000;
pub const CTA_LABEL_MAX: usize = 60;
pub const URL_MAX: usize = 2_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallToAction {
    pub label: String,
    /// An absolute http or https URL.
    pub url: String,
}

/// One language's version of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub what_changed: String,
    /// Markdown.
    pub why_it_matters: String,
    /// Markdown: the next step.
    pub what_to_do: String,
    pub call_to_action: Option<CallToAction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Content {
    pub default_locale: Locale,
    pub variants: BTreeMap<Locale, Variant>,
}

/// What the member confirms for a must-know message, and by when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AcknowledgmentAsked))]
pub struct Acknowledgment {
    /// Such as "I have checked our stock for the affected lots".
    pub statement: String,
    pub due_at: Option<Timestamp>,
    /// What each partner owes (every recipient unless said otherwise).
    #[serde(default)]
    pub obligation: crate::obligations::Obligation,
    /// The escalation ladder that chases it (its key), else the topic's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ladder: Option<crate::Slug>,
    /// What members state they did, answered when they acknowledge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<crate::attestation::AttestationForm>,
}

impl Acknowledgment {
    /// When the partners' obligation is due: the stated due time, else the obligation's
    /// hours after the release.
    pub fn due(&self, released_at: Timestamp) -> Option<Timestamp> {
        self.due_at.or_else(|| self.obligation.due_after(released_at))
    }
}

impl Content {
    /// Whether any text uses personalization; when none does, every member of a locale
    /// sees the same rendering, which can then be made once.
    pub fn is_personalized(&self) -> bool {
        self.variants.values().any(|v| {
            let cta = v.call_to_action.iter().flat_map(|c| [c.label.as_str(), c.url.as_str()]);
            [v.title.as_str(), &v.summary, &v.what_changed, &v.why_it_matters, &v.what_to_do]
                .into_iter()
                .chain(cta)
                .any(|t| t.contains("{{") || t.contains("{%"))
        })
    }

    /// The variant a member with `locale` reads, and its locale: the exact tag, else one
    /// of the same language, else the default. `None` only for content with no variant at
    /// all, which `ContentDraft::validate` never produces.
    pub fn variant_for(&self, locale: &Locale) -> Option<(&Locale, &Variant)> {
        let exact = self.variants.get_key_value(locale);
        let same_language = || self.variants.iter().find(|(l, _)| l.language() == locale.language());
        let default = || self.variants.get_key_value(&self.default_locale);
        exact.or_else(same_language).or_else(default).or_else(|| self.variants.iter().next())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VariantDraft {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub what_changed: Option<String>,
    pub why_it_matters: Option<String>,
    pub what_to_do: Option<String>,
    pub call_to_action: Option<CallToAction>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContentDraft {
    /// The locale every member falls back to; `en` when not given.
    pub default_locale: Option<String>,
    /// Variants by locale; the default locale's is required.
    pub variants: BTreeMap<String, VariantDraft>,
}

impl ContentDraft {
    pub fn validate(&self) -> Result<Content, FieldErrors> {
        let mut errors = FieldErrors::new();
        let default_locale = match &self.default_locale {
            Some(l) => errors.check("default_locale", Locale::parse(l)),
            None => Some(Locale::english()),
        };
        let mut variants = BTreeMap::new();
        for (tag, draft) in &self.variants {
            let Some(locale) = errors.check(&format!("variants.{tag}"), Locale::parse(tag)) else { continue };
            if let Some(v) = draft.validate(&format!("variants.{locale}"), &mut errors) {
                variants.insert(locale, v);
            }
        }
        if let Some(default) = &default_locale
            && !self.variants.keys().any(|t| Locale::parse(t).ok().as_ref() == Some(default))
        {
            errors.add("variants", format!("the default locale {default} needs a variant"));
        }
        errors.finish(|| Some(Content { default_locale: default_locale?, variants }))
    }
}

impl VariantDraft {
    fn validate(&self, at: &str, errors: &mut FieldErrors) -> Option<Variant> {
        let field = |name: &str| format!("{at}.{name}");
        let title = errors.check(&field("title"), text::required(self.title.as_deref().unwrap_or(""), TITLE_MAX));
        let summary = errors
            .check(&field("summary"), text::optional(self.summary.as_deref().unwrap_or(""), SUMMARY_MAX))
            .map(Option::unwrap_or_default);
        let section = |name: &str, value: &Option<String>, errors: &mut FieldErrors| {
            errors
                .check(&field(name), text::optional(value.as_deref().unwrap_or(""), SECTION_MAX))
                .map(Option::unwrap_or_default)
        };
        let what_changed = section("what_changed", &self.what_changed, errors);
        let why_it_matters = section("why_it_matters", &self.why_it_matters, errors);
        let what_to_do = section("what_to_do", &self.what_to_do, errors);
        let call_to_action = match &self.call_to_action {
            Some(cta) => {
                let label = errors.check(&field("call_to_action.label"), text::required(&cta.label, CTA_LABEL_MAX));
                let url = errors.check(&field("call_to_action.url"), call_to_action_url(&cta.url));
                Some(CallToAction { label: label?, url: url? })
            }
            None => None,
        };
        // Personalization that can never run is refused now, not found once released.
        for (name, value) in [
            ("title", &title),
            ("summary", &summary),
            ("what_changed", &what_changed),
            ("why_it_matters", &why_it_matters),
            ("what_to_do", &what_to_do),
        ] {
            if let Some(Err(message)) = value.as_deref().map(super::render::check_template) {
                errors.add(&field(name), message);
            }
        }
        if let Some(Err(message)) = call_to_action.as_ref().map(|c| super::render::check_template(&c.label)) {
            errors.add(&field("call_to_action.label"), message);
        }
        Some(Variant {
            title: title?,
            summary: summary?,
            what_changed: what_changed?,
            why_it_matters: why_it_matters?,
            what_to_do: what_to_do?,
            call_to_action,
        })
    }
}

/// A call to action's URL as written. A personalized one (`https://vendor.example/claims/{{
/// partner.attr.id }}`) must spell out its scheme and host before any template, so that no
/// field value can change where it points; it is checked again once personalized.
fn call_to_action_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let Some(start) = text.find(['{']) else { return absolute_web_url(text) };
    let prefix = &text[..start];
    let host_written = prefix.split_once("://").is_some_and(|(_, rest)| rest.contains('/'));
    if !host_written || absolute_web_url(prefix).is_err() {
        return Err(format!(
            "'{text}' must start with a fixed http or https address (scheme and host) before any {{{{ }}}}"
        ));
    }
    if text.len() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    Ok(text.to_owned())
}

/// An absolute http(s) URL with a host: the only kind a call to action (and, later, a
/// tracked link) may point to, so `javascript:` and relative links never get in.
pub fn absolute_web_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.len() > URL_MAX {
        return Err(format!("must be at most {URL_MAX} characters"));
    }
    let url = url::Url::parse(text).map_err(|e| format!("'{text}' is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err(format!("'{text}' must be an absolute http or https URL"));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variant(title: &str) -> VariantDraft {
        VariantDraft { title: Some(title.into()), what_to_do: Some("Check your stock.".into()), ..Default::default() }
    }

    fn content(tags: &[&str], default: &str) -> Content {
        let draft = ContentDraft {
            default_locale: Some(default.into()),
            variants: tags.iter().map(|t| (t.to_string(), variant(&format!("title {t}")))).collect(),
        };
        match draft.validate() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn locale(tag: &str) -> Locale {
        Locale::parse(tag).unwrap_or_default()
    }

    #[test]
    fn a_member_reads_their_locale_else_their_language_else_the_default() {
        let c = content(&["en", "de-DE", "fr"], "en");
        let title = |tag: &str| c.variant_for(&locale(tag)).map(|(_, v)| v.title.clone());
        assert_eq!(title("de-DE").as_deref(), Some("title de-DE"));
        assert_eq!(title("de-AT").as_deref(), Some("title de-DE"));
        assert_eq!(title("fr-CA").as_deref(), Some("title fr"));
        assert_eq!(title("ja-JP").as_deref(), Some("title en"));
    }

    #[test]
    fn the_default_locale_needs_a_variant_and_each_field_is_checked() {
        let draft =
            ContentDraft { default_locale: Some("de".into()), variants: [("en".to_owned(), variant("Hi"))].into() };
        assert_eq!(
            draft.validate().err().map(|e| e.to_string()),
            Some("variants: the default locale de needs a variant".into())
        );
        let bad = VariantDraft {
            title: Some(String::new()),
            call_to_action: Some(CallToAction { label: "Go".into(), url: "javascript:alert(1)".into() }),
            ..Default::default()
        };
        let draft = ContentDraft { default_locale: None, variants: [("en".to_owned(), bad)].into() };
        let fields: Vec<String> = draft.validate().err().unwrap_or_default().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["variants.en.title", "variants.en.call_to_action.url"]);
    }

    #[test]
    fn only_absolute_web_urls_are_calls_to_action() {
        assert_eq!(
            absolute_web_url(" https://vendor.example/recall?lot=7 ").ok().as_deref(),
            Some("https://vendor.example/recall?lot=7")
        );
        for bad in [
            "javascript:alert(1)",
            "/relative",
            "ftp://vendor.example",
            "https://",
            "data:text/html,x",
            "mailto:a@b.example",
        ] {
            assert!(absolute_web_url(bad).is_err(), "{bad} was accepted");
        }
    }
}
