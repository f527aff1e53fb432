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

/// As [`required`], but an empty text is `None`. Line ends are normalised first: browsers
/// post multi-line fields with CRLF (and old Macs wrote a lone CR), which is a line break,
/// not a control character.
pub fn optional(text: &str, max: usize) -> Result<Option<String>, TextError> {
    let normalised = normalise_line_ends(text);
    let text = normalised.trim();
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

/// `\r\n` and a lone `\r` as `\n`; borrowed when there is no `\r`.
pub fn normalise_line_ends(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// As [`optional`], for single-line identifiers: no line breaks or tabs either.
pub fn identifier(text: &str, max: usize) -> Result<Option<String>, TextError> {
    let value = optional(text, max)?;
    if value.as_deref().is_some_and(|v| v.contains(['\n', '\t'])) {
        return Err(TextError::Control);
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_line_ends_are_line_breaks_not_control_characters() {
        let posted = "1. Pull the stock\r\n2. Tell your customers\r\n\r\n3. Return it\rDone";
        assert_eq!(
            optional(posted, 500),
            Ok(Some("1. Pull the stock\n2. Tell your customers\n\n3. Return it\nDone".to_owned()))
        );
        assert_eq!(optional("a\u{7}b", 10), Err(TextError::Control));
        assert_eq!(identifier("ab\r\ncd", 10), Err(TextError::Control), "an identifier stays on one line");
    }
}
