//! Text placed into HTML that Tidings writes itself.

/// Text as HTML: the five characters that could open markup or end an attribute.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
