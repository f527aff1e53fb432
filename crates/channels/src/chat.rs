//! What a chat layout (a Slack message, a Teams card) starts from: the rendered message,
//! its importance, whether it asks for an acknowledgment, and the three answers as plain
//! text, each with its heading.

use tidings_core::messages::{Importance, Message, Rendered};

use crate::email::answers_as_text;

#[derive(Debug, Clone)]
pub struct ChatText {
    pub rendered: Rendered,
    pub importance: Importance,
    pub acknowledgment: bool,
    pub sections: Vec<(&'static str, String)>,
}

impl ChatText {
    pub fn new(message: &Message, rendered: Rendered) -> Self {
        Self::of(message.importance, message.acknowledgment.is_some(), rendered)
    }

    pub fn of(importance: Importance, acknowledgment: bool, rendered: Rendered) -> Self {
        let sections = answers_as_text(&rendered);
        Self { rendered, importance, acknowledgment, sections }
    }
}
