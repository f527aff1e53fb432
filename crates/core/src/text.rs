//! Checks for the plain text fields (names, descriptions, external ids).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("is required")]
    Missing,
    #[error("must be at most {0} characters")]
    TooLong(usize),
    #[error("must not contain control characters")]
    Control,
}

/// Trims `text` and checks it is non-empty, at most `max` characters and free of control characters.
pub fn required(text: &str, max: usize) -> Result<String, TextError> {
    optional(text, max)?.ok_or(TextError::Missing)
}

/// As [`required`], but an empty text is `None`.
pub fn optional(text: &str, max: usize) -> Result<Option<String>, TextError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong(max));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(TextError::Control);
    }
    Ok(Some(text.to_owned()))
}

/// As [`optional`], for single-line identifiers: no line breaks or tabs either.
pub fn identifier(text: &str, max: usize) -> Result<Option<String>, TextError> {
    let value = optional(text, max)?;
    if value.as_deref().is_some_and(|v| v.contains(['\n', '\t'])) {
        return Err(TextError::Control);
    }
    Ok(value)
}
