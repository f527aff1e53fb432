//! Triggers: "when an event of this type comes in and this holds, send this message to
//! these people". The message is a template: besides `{{ member.* }}` and
//! `{{ partner.* }}` it reads the event's data as `{{ event.<field> }}`. Each firing
//! becomes a message of its own, addressed to exactly the people named, and goes through
//! the same release, channels, consent and report as any other.

use serde::{Deserialize, Serialize};

use super::event::EventType;
use crate::consent::Channel;
use crate::messages::{Content, ContentDraft, Importance};
use crate::{FieldErrors, Role, Slug, Timestamp, TopicId};

/// The longest delay a trigger may wait before its message goes: 90 days.
pub const MOST_DELAY_MINUTES: u32 = 90 * 24 * 60;

/// Who a trigger's message goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Recipients {
    /// The member the event names (an event naming nobody sends nothing).
    Member,
    /// The event's partner's leads (members with the partner lead role).
    PartnerLeads,
    /// The event's partner's active members, or those holding one of `roles`.
    PartnerMembers,
    /// The vendor's manager of the event's partner: a task for them, with the message's
    /// title and summary, on the console's Tasks page.
    PartnerManager,
}

impl Recipients {
    pub const ALL: [Self; 4] = [Self::Member, Self::PartnerLeads, Self::PartnerMembers, Self::PartnerManager];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::PartnerLeads => "partner_leads",
            Self::PartnerMembers => "partner_members",
            Self::PartnerManager => "partner_manager",
        }
    }
}

impl std::str::FromStr for Recipients {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        Self::ALL.into_iter().find(|r| r.as_str() == wanted).ok_or_else(|| {
            format!("'{wanted}' is not a recipient; known: member, partner_leads, partner_members, partner_manager")
        })
    }
}

/// A trigger as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trigger {
    pub key: Slug,
    pub name: String,
    pub event_type: EventType,
    /// A rule over the event's data (`event.progress >= 0.8`), its partner and the member it
    /// names (`member.role = "sales"`); every event of the type when absent.
    pub condition: Option<String>,
    pub recipients: Recipients,
    /// With `partner_members`: only those holding one of these roles (any, when empty).
    pub roles: Vec<Role>,
    pub topic_id: TopicId,
    pub importance: Importance,
    /// `None`: the defaults for the importance.
    pub channels: Option<Vec<Channel>>,
    /// The message, as a template.
    pub content: Content,
    /// How long after the event came in the message goes.
    pub delay_minutes: u32,
    /// A disabled trigger lets events pass by.
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A trigger as given to create or replace one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriggerDraft {
    pub key: Option<String>,
    pub name: Option<String>,
    pub event_type: Option<String>,
    /// A rule; "" or absent for every event of the type.
    pub condition: Option<String>,
    /// `member` (the default), `partner_leads` or `partner_members`.
    pub recipients: Option<String>,
    pub roles: Option<Vec<String>>,
    pub topic_id: Option<TopicId>,
    /// The topic's key, instead of `topic_id`.
    pub topic: Option<String>,
    /// info (the default), action or critical.
    pub importance: Option<String>,
    /// Channel names; absent or empty for the importance's defaults.
    pub channels: Option<Vec<String>>,
    pub content: Option<ContentDraft>,
    pub delay_minutes: Option<u32>,
    /// true unless given.
    pub enabled: Option<bool>,
}

impl TriggerDraft {
    /// Checks everything a trigger holds by itself; the app checks what it points at (the
    /// topic, the event type's schema, the condition against the vocabularies).
    pub fn validate(&self, now: Timestamp, created_at: Option<Timestamp>) -> Result<Trigger, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = super::parts::key(&mut errors, self.key.as_deref(), "deal-rejected");
        let name = super::parts::required_line(&mut errors, "name", self.name.as_deref());
        let event_type = match self.event_type.as_deref() {
            Some(t) => errors.check("event_type", EventType::parse(t)),
            None => {
                errors.add("event_type", "is required, such as deal.rejected");
                None
            }
        };
        let condition = match crate::text::optional(self.condition.as_deref().unwrap_or_default(), 2_000) {
            Ok(c) => c,
            Err(e) => {
                errors.add("condition", e.to_string());
                None
            }
        };
        let recipients = match self.recipients.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => errors.check("recipients", r.parse::<Recipients>()),
            None => Some(Recipients::Member),
        };
        let roles: Vec<Role> = self
            .roles
            .iter()
            .flatten()
            .filter(|r| !r.trim().is_empty())
            .filter_map(|r| errors.check("roles", r.parse::<Role>()))
            .collect();
        if !roles.is_empty() && recipients != Some(Recipients::PartnerMembers) {
            errors.add("roles", "narrows partner_members only: leave it out for member and partner_leads");
        }
        if self.topic_id.is_none() {
            errors.add("topic", "is required: the topic's key or topic_id");
        }
        let (importance, channels, content) = super::parts::message_parts(
            &mut errors,
            "",
            self.importance.as_deref(),
            self.channels.as_deref(),
            self.content.as_ref(),
        );
        let delay_minutes = self.delay_minutes.unwrap_or(0);
        if delay_minutes > MOST_DELAY_MINUTES {
            errors.add("delay_minutes", format!("must be at most {MOST_DELAY_MINUTES} (90 days)"));
        }
        match (key, name, event_type, recipients, importance, content, self.topic_id) {
            (
                Some(key),
                Some(name),
                Some(event_type),
                Some(recipients),
                Some(importance),
                Some(content),
                Some(topic_id),
            ) if errors.is_empty() => Ok(Trigger {
                key,
                name,
                event_type,
                condition,
                recipients,
                roles,
                topic_id,
                importance,
                channels,
                content,
                delay_minutes,
                enabled: self.enabled.unwrap_or(true),
                created_at: created_at.unwrap_or(now),
                updated_at: now,
            }),
            _ => Err(errors),
        }
    }
}

impl Trigger {
    /// The event fields its message reads (`{{ event.deal_id }}`), each once, in the order
    /// first met: every one must be a field of the event type's schema, which the app checks.
    pub fn event_fields_read(&self) -> Vec<String> {
        let mut found = Vec::new();
        for v in self.content.variants.values() {
            let cta = v.call_to_action.iter().flat_map(|c| [c.label.as_str(), c.url.as_str()]);
            let texts = [&v.title, &v.summary, &v.what_changed, &v.why_it_matters, &v.what_to_do];
            for text in texts.into_iter().map(String::as_str).chain(cta) {
                for name in fields_after_event(text) {
                    if !found.contains(&name) {
                        found.push(name);
                    }
                }
            }
        }
        found
    }
}

/// The names after `event.` inside template tags (`{{ ... }}`, `{% ... %}`).
fn fields_after_event(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for tag in crate::messages::template_tags(text) {
        let mut from = 0;
        while let Some(at) = tag[from..].find("event.") {
            let start = from + at;
            let starts_word =
                tag[..start].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
            let name: String =
                tag[start + 6..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if starts_word && !name.is_empty() {
                names.push(name);
            }
            from = start + 6;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn draft() -> TriggerDraft {
        serde_json::from_value(serde_json::json!({
            "key": "deal-rejected", "name": "Deal rejected", "event_type": "deal.rejected",
            "topic_id": TopicId::new(),
            "content": {"variants": {"en": {"title": "Deal {{ event.deal_id }} was not approved",
                "why_it_matters": "{{ event.reason }}"}}}
        }))
        .unwrap()
    }

    #[test]
    fn a_trigger_defaults_to_the_member_at_once_as_nice_to_know() {
        let t = draft().validate(Timestamp::from_millis(5), None).unwrap();
        assert_eq!(
            (t.recipients, t.importance, t.delay_minutes, t.enabled),
            (Recipients::Member, Importance::Info, 0, true)
        );
        assert_eq!(t.channels, None);
    }

    #[test]
    fn the_event_fields_a_template_reads_are_found_in_its_tags_only() {
        let t = draft().validate(Timestamp::from_millis(5), None).unwrap();
        assert_eq!(t.event_fields_read(), ["deal_id", "reason"]);
        assert_eq!(
            fields_after_event("the event.x {{ event.a }} {% if event.b > 1 %}{{ my_event.c }}{% endif %}"),
            ["a", "b"]
        );
    }

    #[test]
    fn every_fault_is_named() {
        let bad = TriggerDraft {
            key: Some("Bad Key".into()),
            event_type: Some("deal".into()),
            recipients: Some("everyone".into()),
            roles: Some(vec!["sales".into()]),
            delay_minutes: Some(MOST_DELAY_MINUTES + 1),
            channels: Some(vec!["pigeon".into()]),
            ..draft()
        };
        let errors = bad.validate(Timestamp::from_millis(5), None).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["key", "event_type", "recipients", "roles", "channels", "delay_minutes"]);
    }
}
