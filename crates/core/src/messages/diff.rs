//! What a correction changed, word by word: each field of each language whose text
//! differs between two versions, as runs of kept, removed and added words. Members and
//! staff see it beside the corrected message, so nobody has to compare two texts by eye.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

use super::content::{Content, Variant};

/// How a run of words fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Change {
    Kept,
    Removed,
    Added,
}

/// A run of words with one fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Run {
    pub change: Change,
    pub text: String,
}

/// One field of one language whose text changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldChange {
    pub locale: String,
    /// `title`, `summary`, `what_changed`, `why_it_matters`, `what_to_do` or
    /// `call_to_action`.
    pub field: String,
    pub runs: Vec<Run>,
}

/// The fields as a member reads them, in order; a call to action is its label and URL.
fn fields(v: Option<&Variant>) -> [(&'static str, String); 6] {
    let text = |f: fn(&Variant) -> &str| v.map(f).unwrap_or_default().to_owned();
    let cta = v.and_then(|v| v.call_to_action.as_ref()).map(|c| format!("{} <{}>", c.label, c.url));
    [
        ("title", text(|v| &v.title)),
        ("summary", text(|v| &v.summary)),
        ("what_changed", text(|v| &v.what_changed)),
        ("why_it_matters", text(|v| &v.why_it_matters)),
        ("what_to_do", text(|v| &v.what_to_do)),
        ("call_to_action", cta.unwrap_or_default()),
    ]
}

/// Every field that differs between `old` and `new`, language by language (a language
/// added or dropped shows all its words added or removed).
pub fn between(old: &Content, new: &Content) -> Vec<FieldChange> {
    let mut locales: Vec<_> = old.variants.keys().chain(new.variants.keys()).collect();
    locales.sort();
    locales.dedup();
    let mut changes = Vec::new();
    for locale in locales {
        let before = fields(old.variants.get(locale));
        let after = fields(new.variants.get(locale));
        for ((field, a), (_, b)) in before.iter().zip(after.iter()) {
            if a != b {
                changes.push(FieldChange { locale: locale.to_string(), field: (*field).to_owned(), runs: words(a, b) });
            }
        }
    }
    changes
}

/// The word diff of two texts, neighbouring words of one fate joined into one run.
pub fn words(old: &str, new: &str) -> Vec<Run> {
    let diff = TextDiff::from_words(old, new);
    let mut runs: Vec<Run> = Vec::new();
    for change in diff.iter_all_changes() {
        let fate = match change.tag() {
            ChangeTag::Equal => Change::Kept,
            ChangeTag::Delete => Change::Removed,
            ChangeTag::Insert => Change::Added,
        };
        match runs.last_mut() {
            Some(last) if last.change == fate => last.text.push_str(change.value()),
            _ => runs.push(Run { change: fate, text: change.value().to_owned() }),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::Locale;

    fn content(title: &str, what_to_do: &str) -> Content {
        let variant = Variant {
            title: title.into(),
            summary: String::new(),
            what_changed: String::new(),
            why_it_matters: String::new(),
            what_to_do: what_to_do.into(),
            call_to_action: None,
        };
        Content { default_locale: Locale::english(), variants: [(Locale::english(), variant)].into() }
    }

    #[test]
    fn names_only_the_fields_that_changed_word_by_word() {
        let old = content("Recall of lot 7", "Quarantine lots 7 and 8.");
        let new = content("Recall of lot 7", "Quarantine lots 7, 8 and 9.");
        let changes = between(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!((changes[0].locale.as_str(), changes[0].field.as_str()), ("en", "what_to_do"));
        let runs = &changes[0].runs;
        let side = |skip: Change| runs.iter().filter(|r| r.change != skip).map(|r| r.text.as_str()).collect::<String>();
        assert_eq!(side(Change::Added), "Quarantine lots 7 and 8.", "kept and removed words are the old text");
        assert_eq!(side(Change::Removed), "Quarantine lots 7, 8 and 9.", "kept and added words are the new text");
        assert_eq!(runs[0], Run { change: Change::Kept, text: "Quarantine lots ".into() });
        assert!(runs.iter().any(|r| r.change == Change::Added && r.text.contains('9')));
    }

    #[test]
    fn the_same_text_has_no_changes() {
        assert!(between(&content("A", "B"), &content("A", "B")).is_empty());
    }

    #[test]
    fn a_language_added_shows_all_its_words_added() {
        let old = content("Recall", "");
        let mut new = old.clone();
        let mut german = old.variants[&Locale::english()].clone();
        german.title = "Rückruf".into();
        new.variants.insert(Locale::parse("de").unwrap(), german);
        let changes = between(&old, &new);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].runs, [Run { change: Change::Added, text: "Rückruf".into() }]);
    }
}
