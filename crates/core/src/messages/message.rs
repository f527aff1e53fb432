//! A message as stored: what it says, to whom, how important, on which channels, and
//! where it is in its life. Raw input is a [`MessageDraft`]; changes go through
//! `MessageDraft::apply`, which refuses a message that is no longer editable.

use serde::{Deserialize, Serialize};

use super::content::{Acknowledgment, Content, ContentDraft};
use super::importance::Importance;
use super::lifecycle::{MessageError, MessageState};
use crate::audiences::AudienceDraft;
use crate::consent::Channel;
use crate::{FieldErrors, MessageId, TimeZone, Timestamp, TopicId, text};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    pub id: MessageId,
    pub topic_id: TopicId,
    pub importance: Importance,
    pub state: MessageState,
    pub content: Content,
    pub audience: AudienceDraft,
    /// The author's choice of channels; `None` means the defaults for the importance.
    pub channels: Option<Vec<Channel>>,
    pub acknowledgment: Option<Acknowledgment>,
    /// 1 as released; each correction of the released text adds one.
    #[serde(default = "first_version")]
    pub version: u32,
    /// When a scheduled message is released.
    pub send_at: Option<Timestamp>,
    /// The author's time zone: a send time or due date given without an offset is read in
    /// it, and the console states the message's times in it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "Europe/Berlin"))]
    pub time_zone: TimeZone,
    /// After this the message leaves inboxes and is no longer delivered.
    pub expires_at: Option<Timestamp>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The trigger and event this message answers; absent for a message an author wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<TriggeredBy>,
}

/// What a triggered message answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriggeredBy {
    pub trigger: crate::Slug,
    pub event_id: crate::PartnerEventId,
    pub event_type: crate::automation::EventType,
    /// The event's data as the message's template reads it (`{{ event.<field> }}`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
}

fn first_version() -> u32 {
    1
}

impl Message {
    /// The channels this message uses (always with the inbox).
    pub fn effective_channels(&self) -> Vec<Channel> {
        self.importance.channels(self.channels.as_deref())
    }

    /// The title in the default locale: how staff name the message.
    pub fn title(&self) -> &str {
        self.content.variants.get(&self.content.default_locale).map_or("", |v| v.title.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcknowledgmentDraft {
    pub statement: Option<String>,
    /// RFC 3339 time or date.
    pub due_at: Option<String>,
    /// What each partner owes: every recipient (the default), or so many people in some
    /// roles, and a due time relative to the release.
    pub obligation: Option<crate::obligations::ObligationDraft>,
    /// The key of the escalation ladder that chases the message; the topic's ladder when
    /// not given or "".
    pub ladder: Option<String>,
    /// A short form members fill in when they acknowledge ("units quarantined: 14");
    /// `{"fields": []}` removes it.
    pub attestation: Option<crate::attestation::AttestationForm>,
}

/// Raw message input; every field optional so a draft can change a stored message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageDraft {
    /// The topic's id; or give `topic`.
    pub topic_id: Option<TopicId>,
    /// The topic's key (`support`), instead of `topic_id`.
    pub topic: Option<String>,
    /// info (nice to know), action (need to know) or critical (must know).
    pub importance: Option<String>,
    pub content: Option<ContentDraft>,
    pub audience: Option<AudienceDraft>,
    /// Channel names; an empty list means the defaults for the importance.
    pub channels: Option<Vec<String>>,
    /// What the member confirms; send `{}` with no statement to remove it.
    pub acknowledgment: Option<AcknowledgmentDraft>,
    /// RFC 3339 time or date; "" clears it.
    pub expires_at: Option<String>,
    /// The author's IANA time zone (`Europe/Berlin`), in which times given without an
    /// offset are read; UTC until set.
    pub time_zone: Option<String>,
}

impl MessageDraft {
    /// A new draft message from this input.
    pub fn create(&self, id: MessageId, created_by: &str, now: Timestamp) -> Result<Message, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.topic_id.is_none() {
            errors.add("topic_id", "is required");
        }
        if self.content.is_none() {
            errors.add("content", "is required: at least a title in the default locale");
        }
        let blank = Message {
            id,
            topic_id: self.topic_id.unwrap_or_default(),
            importance: Importance::Info,
            state: MessageState::Draft,
            content: Content { default_locale: crate::Locale::english(), variants: Default::default() },
            audience: AudienceDraft::default(),
            channels: None,
            acknowledgment: None,
            version: 1,
            send_at: None,
            time_zone: TimeZone::utc(),
            expires_at: None,
            created_by: created_by.to_owned(),
            created_at: now,
            updated_at: now,
            triggered_by: None,
        };
        match self.overlay(blank, now) {
            Ok(m) if errors.is_empty() => Ok(m),
            Ok(_) => Err(errors),
            Err(more) => {
                more.iter().for_each(|e| errors.add(&e.field, e.message.clone()));
                Err(errors)
            }
        }
    }

    /// Applies the input to a stored message, which must still be editable.
    pub fn apply(&self, message: Message, now: Timestamp) -> Result<Result<Message, FieldErrors>, MessageError> {
        message.state.check_editable()?;
        Ok(self.overlay(message, now))
    }

    fn overlay(&self, mut m: Message, now: Timestamp) -> Result<Message, FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(topic) = self.topic_id {
            m.topic_id = topic;
        }
        // First: the times below are read in it.
        if let Some(zone) = self.time_zone.as_deref().filter(|z| !z.trim().is_empty())
            && let Some(zone) = errors.check("time_zone", TimeZone::parse(zone))
        {
            m.time_zone = zone;
        }
        if let Some(i) = &self.importance
            && let Some(i) = errors.check("importance", i.parse::<Importance>())
        {
            m.importance = i;
        }
        if let Some(c) = &self.content {
            match c.validate() {
                Ok(content) => m.content = content,
                Err(e) => e.iter().for_each(|e| errors.add(&format!("content.{}", e.field), e.message.clone())),
            }
        }
        if let Some(a) = &self.audience {
            m.audience = a.clone();
        }
        if let Some(list) = &self.channels {
            let parsed: Vec<Channel> =
                list.iter().filter_map(|c| errors.check("channels", c.parse::<Channel>())).collect();
            m.channels = if list.is_empty() { None } else { Some(parsed) };
        }
        if let Some(a) = &self.acknowledgment {
            m.acknowledgment = match a.statement.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => None,
                Some(statement) => {
                    let statement = errors.check("acknowledgment.statement", text::required(statement, 500));
                    let due_at = match a.due_at.as_deref().filter(|d| !d.trim().is_empty()) {
                        Some(d) => errors.check("acknowledgment.due_at", Timestamp::parse_in(d, &m.time_zone)),
                        None => None,
                    };
                    let obligation = a.obligation.clone().unwrap_or_default().validate(&mut errors);
                    let ladder = match a.ladder.as_deref().map(str::trim) {
                        None | Some("") => None,
                        Some(key) => errors.check("acknowledgment.ladder", crate::Slug::parse(key)),
                    };
                    let attestation = match &a.attestation {
                        Some(form) if form.fields.is_empty() => None,
                        Some(form) => form.validate("acknowledgment.attestation", &mut errors),
                        // Unchanged when not given.
                        None => m.acknowledgment.as_ref().and_then(|a| a.attestation.clone()),
                    };
                    match (statement, obligation) {
                        (Some(statement), Some(obligation)) => {
                            Some(Acknowledgment { statement, due_at, obligation, ladder, attestation })
                        }
                        _ => None,
                    }
                }
            };
        }
        if let Some(e) = &self.expires_at {
            m.expires_at = match e.trim() {
                "" => None,
                t => errors.check("expires_at", Timestamp::parse_in(t, &m.time_zone)),
            };
        }
        if let (Some(expires), Some(ack)) = (m.expires_at, m.acknowledgment.as_ref().and_then(|a| a.due_at))
            && ack > expires
        {
            errors.add("acknowledgment.due_at", "is after the message expires");
        }
        m.updated_at = now;
        if errors.is_empty() { Ok(m) } else { Err(errors) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::VariantDraft;

    fn draft() -> MessageDraft {
        MessageDraft {
            topic_id: Some(TopicId::new()),
            importance: Some("critical".into()),
            content: Some(ContentDraft {
                default_locale: None,
                variants: [("en".to_owned(), VariantDraft { title: Some("Recall".into()), ..Default::default() })]
                    .into(),
            }),
            acknowledgment: Some(AcknowledgmentDraft {
                statement: Some("I checked our stock".into()),
                due_at: Some("2026-12-01".into()),
                obligation: None,
                ladder: None,
                attestation: None,
            }),
            ..Default::default()
        }
    }

    const NOW: Timestamp = Timestamp::from_millis(1_000);

    #[test]
    fn a_new_message_is_a_draft_with_the_importance_channels() {
        let m = draft().create(MessageId::new(), "author", NOW).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.state, MessageState::Draft);
        assert_eq!(m.effective_channels(), [Channel::Inbox, Channel::Popup, Channel::Email]);
        assert_eq!(m.acknowledgment.map(|a| a.statement).as_deref(), Some("I checked our stock"));
    }

    #[test]
    fn a_message_that_is_sending_refuses_changes() {
        let mut m = draft().create(MessageId::new(), "author", NOW).unwrap_or_else(|e| panic!("{e}"));
        m.state = MessageState::Sending;
        let change = MessageDraft { importance: Some("info".into()), ..Default::default() };
        assert_eq!(change.apply(m, NOW).err(), Some(MessageError::Frozen(MessageState::Sending)));
    }

    #[test]
    fn bad_fields_are_each_named() {
        let bad = MessageDraft {
            importance: Some("urgent".into()),
            channels: Some(vec!["fax".into()]),
            expires_at: Some("2026-11-01".into()),
            ..draft()
        };
        let errors = bad.create(MessageId::new(), "a", NOW).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["importance", "channels", "acknowledgment.due_at"]);
        let empty = MessageDraft::default().create(MessageId::new(), "a", NOW).err().unwrap_or_default();
        assert_eq!(empty.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["topic_id", "content"]);
    }
}
