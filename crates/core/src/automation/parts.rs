//! What triggers and sequences check the same way: their key and name, and of each
//! message its importance (nice to know by default), its channels (the importance's
//! defaults when none) and its text, each fault named under `prefix`.

use crate::consent::Channel;
use crate::messages::{Content, ContentDraft, Importance};
use crate::{FieldErrors, Slug};

/// (importance, channels, content); `None` where a fault was recorded.
pub(crate) fn message_parts(
    errors: &mut FieldErrors,
    prefix: &str,
    importance: Option<&str>,
    channels: Option<&[String]>,
    content: Option<&ContentDraft>,
) -> (Option<Importance>, Option<Vec<Channel>>, Option<Content>) {
    let importance = match importance.map(str::trim).filter(|i| !i.is_empty()) {
        Some(i) => errors.check(&format!("{prefix}importance"), i.parse::<Importance>()),
        None => Some(Importance::Info),
    };
    let channels = match channels {
        Some(list) if !list.is_empty() => {
            Some(list.iter().filter_map(|c| errors.check(&format!("{prefix}channels"), c.parse::<Channel>())).collect())
        }
        _ => None,
    };
    let content = match content {
        Some(c) => match c.validate() {
            Ok(content) => Some(content),
            Err(e) => {
                e.iter().for_each(|e| errors.add(&format!("{prefix}content.{}", e.field), e.message.clone()));
                None
            }
        },
        None => {
            errors.add(&format!("{prefix}content"), "is required: at least a title in the default locale");
            None
        }
    };
    (importance, channels, content)
}

/// The key, required; `example` is shown when it is missing.
pub(crate) fn key(errors: &mut FieldErrors, text: Option<&str>, example: &str) -> Option<Slug> {
    match text {
        Some(k) => errors.check("key", Slug::parse(k)),
        None => {
            errors.add("key", format!("is required (lowercase letters, digits and dashes, such as {example})"));
            None
        }
    }
}

/// A required single line of up to 200 characters.
pub(crate) fn required_line(errors: &mut FieldErrors, field: &str, text: Option<&str>) -> Option<String> {
    match crate::text::identifier(text.unwrap_or_default(), 200) {
        Ok(Some(n)) => Some(n),
        Ok(None) => {
            errors.add(field, "is required");
            None
        }
        Err(e) => {
            errors.add(field, e.to_string());
            None
        }
    }
}
