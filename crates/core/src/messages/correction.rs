//! Corrections: the text of a message that went out changes, as a new version. The
//! author says why, and whether the change is material (what members were asked to know
//! or do changed: everyone must acknowledge the new text, and earlier acknowledgments stay
//! bound to the old one) or editorial (a typo, a broken link: acknowledgments stand).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::content::{Acknowledgment, Content, ContentDraft};
use super::lifecycle::MessageState;
use super::message::Message;
use crate::{FieldErrors, text};

pub const NOTE_MAX: usize = 1_000;
pub const STATEMENT_MAX: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CorrectionKind {
    /// What members must know or do changed: every recipient acknowledges again.
    Material,
    /// The meaning is the same: acknowledgments of the earlier text stand.
    Editorial,
}

impl CorrectionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Material => "material",
            Self::Editorial => "editorial",
        }
    }
}

impl fmt::Display for CorrectionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CorrectionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "material" => Ok(Self::Material),
            "editorial" => Ok(Self::Editorial),
            other => Err(format!("'{other}' is not a kind of correction: material or editorial")),
        }
    }
}

/// A correction as an author sends it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionDraft {
    /// `material` (everyone acknowledges again) or `editorial`.
    pub kind: Option<String>,
    /// Why the text changed, shown to members beside the changes.
    pub note: Option<String>,
    /// The whole corrected text, every language.
    pub content: Option<ContentDraft>,
    /// A new statement to confirm; the current one when not given. Changing it is a
    /// material correction.
    pub statement: Option<String>,
}

/// A valid correction of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    pub kind: CorrectionKind,
    pub note: String,
    pub content: Content,
    pub acknowledgment: Option<Acknowledgment>,
}

impl CorrectionDraft {
    /// Checks the correction against the message it corrects: the message went out (its
    /// deliveries may still be under way: they carry the corrected text), the
    /// correction changes something, and only a message that asks for acknowledgment is
    /// corrected materially.
    pub fn validate(&self, message: &Message) -> Result<Correction, FieldErrors> {
        let mut errors = FieldErrors::new();
        // Whether a release's fan-out is done the store checks, in the same statement.
        if !matches!(message.state, MessageState::Sending | MessageState::Sent) {
            errors.add("message", "this message has not gone out: edit it instead");
        }
        let kind = match self.kind.as_deref() {
            None => {
                errors.add("kind", "is required: material (everyone acknowledges again) or editorial");
                None
            }
            Some(k) => errors.check("kind", k.parse::<CorrectionKind>()),
        };
        if kind == Some(CorrectionKind::Material) && message.acknowledgment.is_none() {
            errors.add("kind", "this message asks for no acknowledgment, so its corrections are editorial");
        }
        let note = match text::required(self.note.as_deref().unwrap_or(""), NOTE_MAX) {
            Ok(n) => Some(n),
            Err(text::TextError::Missing) => {
                errors.add("note", "is required: say what was wrong and what changed");
                None
            }
            Err(e) => errors.check("note", Err::<String, _>(e)),
        };
        let content = match &self.content {
            None => {
                errors.add("content", "is required: the whole corrected text");
                None
            }
            Some(c) => match c.validate() {
                Ok(content) => Some(content),
                Err(e) => {
                    e.iter().for_each(|e| errors.add(&format!("content.{}", e.field), e.message.clone()));
                    None
                }
            },
        };
        let acknowledgment = match (&message.acknowledgment, self.statement.as_deref().map(str::trim)) {
            (None, Some(s)) if !s.is_empty() => {
                errors.add("statement", "this message asks for no acknowledgment");
                None
            }
            (Some(ask), Some(s)) if !s.is_empty() => errors
                .check("statement", text::required(s, STATEMENT_MAX))
                .map(|statement| Acknowledgment { statement, ..ask.clone() }),
            (ask, _) => ask.clone(),
        };
        let statement_changed =
            acknowledgment.as_ref().map(|a| &a.statement) != message.acknowledgment.as_ref().map(|a| &a.statement);
        if statement_changed && kind == Some(CorrectionKind::Editorial) {
            errors.add("statement", "a new statement changes what members confirm: make the correction material");
        }
        if content.as_ref() == Some(&message.content) && !statement_changed {
            errors.add("content", "is the text as it stands: the correction changes nothing");
        }
        errors.finish(|| Some(Correction { kind: kind?, note: note?, content: content?, acknowledgment }))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::messages::{AcknowledgmentDraft, MessageDraft, VariantDraft};
    use crate::{MessageId, Timestamp, TopicId};

    fn draft(title: &str) -> ContentDraft {
        let variant = VariantDraft { title: Some(title.into()), ..Default::default() };
        ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }
    }

    fn sent(ask: bool) -> Message {
        let draft = MessageDraft {
            topic_id: Some(TopicId::new()),
            content: Some(draft("Recall of lot 7")),
            acknowledgment: ask
                .then(|| AcknowledgmentDraft { statement: Some("We checked our stock".into()), ..Default::default() }),
            ..Default::default()
        };
        let mut m = draft.create(MessageId::new(), "ana", Timestamp::from_millis(0)).unwrap();
        m.state = MessageState::Sent;
        m
    }

    fn fields(errors: FieldErrors) -> Vec<String> {
        errors.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn a_material_correction_keeps_what_it_does_not_change() {
        let message = sent(true);
        let c = CorrectionDraft {
            kind: Some("material".into()),
            note: Some("Lot 8 is affected too".into()),
            content: Some(draft("Recall of lots 7 and 8")),
            statement: None,
        };
        let correction = c.validate(&message).unwrap();
        assert_eq!(correction.kind, CorrectionKind::Material);
        assert_eq!(correction.acknowledgment, message.acknowledgment);
        assert_eq!(correction.content.variants.values().next().unwrap().title, "Recall of lots 7 and 8");
    }

    #[test]
    fn refuses_what_is_not_a_correction() {
        let message = sent(false);
        let nothing = CorrectionDraft::default();
        assert_eq!(fields(nothing.validate(&message).unwrap_err()), ["kind", "note", "content"]);
        let material = CorrectionDraft {
            kind: Some("material".into()),
            note: Some("why".into()),
            content: Some(draft("Recall of lot 7")),
            statement: None,
        };
        assert_eq!(fields(material.validate(&message).unwrap_err()), ["kind", "content"]);
        let mut draft_message = sent(true);
        draft_message.state = MessageState::Draft;
        let fine = CorrectionDraft { content: Some(draft("Other")), kind: Some("editorial".into()), ..material };
        assert_eq!(fields(fine.validate(&draft_message).unwrap_err()), ["message"]);
    }

    #[test]
    fn a_new_statement_is_material() {
        let message = sent(true);
        let c = CorrectionDraft {
            kind: Some("editorial".into()),
            note: Some("clearer".into()),
            content: None,
            statement: Some("We quarantined the lots".into()),
        };
        assert_eq!(fields(c.validate(&message).unwrap_err()), ["content", "statement"]);
        let c = CorrectionDraft { kind: Some("material".into()), content: Some(draft("Recall of lot 7")), ..c };
        let correction = c.validate(&message).unwrap();
        assert_eq!(correction.acknowledgment.unwrap().statement, "We quarantined the lots");
    }
}
