//! Sequences: ordered steps, each a message after a delay, that a member goes through
//! from the event that enrols them (`member.created`: onboarding) until the event that
//! is their goal (`deal.registered`: activated) or the last step. A member is never in
//! the same sequence twice at once; a step whose condition does not hold for them is
//! passed over. A sequence can also take in, once each, the members an audience rule
//! selects.

use serde::{Deserialize, Serialize};

use super::event::EventType;
use crate::consent::Channel;
use crate::messages::{Content, ContentDraft, Importance};
use crate::{FieldErrors, Slug, Timestamp, TopicId};

/// The most steps one sequence holds.
pub const MOST_STEPS: usize = 20;
/// The longest wait before one step: 90 days.
pub const MOST_WAIT_MINUTES: u32 = 90 * 24 * 60;

/// One step: a message, `after_minutes` after the step before (the first: after entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequenceStep {
    pub name: String,
    pub after_minutes: u32,
    /// A rule over the member and their partner; the step is passed over when it does not
    /// hold (`member.attr.profile_complete != true`).
    pub condition: Option<String>,
    pub importance: Importance,
    /// `None`: the defaults for the importance.
    pub channels: Option<Vec<Channel>>,
    pub content: Content,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequenceStepDraft {
    pub name: Option<String>,
    pub after_minutes: Option<u32>,
    pub condition: Option<String>,
    pub importance: Option<String>,
    pub channels: Option<Vec<String>>,
    pub content: Option<ContentDraft>,
}

/// A sequence as saved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sequence {
    pub key: Slug,
    pub name: String,
    /// The event that enrols the member it names.
    pub entry_event: EventType,
    /// A rule the enrolling event must meet (as a trigger's condition), if any.
    pub entry_condition: Option<String>,
    /// An audience rule whose active members enter too, once each, without an event
    /// (checked every ten minutes): "growth-tier sales people", "members who never signed in".
    #[serde(default)]
    pub entry_rule: Option<String>,
    /// The event that ends the member's run as a success; none: they run every step.
    pub goal_event: Option<EventType>,
    pub topic_id: TopicId,
    pub steps: Vec<SequenceStep>,
    pub enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequenceDraft {
    pub key: Option<String>,
    pub name: Option<String>,
    pub entry_event: Option<String>,
    pub entry_condition: Option<String>,
    /// An audience rule whose active members enter too, once each.
    pub entry_rule: Option<String>,
    pub goal_event: Option<String>,
    pub topic_id: Option<TopicId>,
    /// The topic's key, instead of `topic_id`.
    pub topic: Option<String>,
    pub steps: Option<Vec<SequenceStepDraft>>,
    pub enabled: Option<bool>,
}

impl SequenceDraft {
    /// Checks what a sequence holds by itself; the app checks the topic, the event types
    /// and the rules against the vocabularies.
    pub fn validate(&self, now: Timestamp, created_at: Option<Timestamp>) -> Result<Sequence, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = super::parts::key(&mut errors, self.key.as_deref(), "onboarding");
        let name = super::parts::required_line(&mut errors, "name", self.name.as_deref());
        let entry_event = match self.entry_event.as_deref() {
            Some(t) => errors.check("entry_event", EventType::parse(t)),
            None => {
                errors.add("entry_event", "is required, such as member.created");
                None
            }
        };
        let entry_condition = optional_rule(&mut errors, "entry_condition", self.entry_condition.as_deref());
        let entry_rule = optional_rule(&mut errors, "entry_rule", self.entry_rule.as_deref());
        let goal_event = match self.goal_event.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            Some(t) => errors.check("goal_event", EventType::parse(t)),
            None => None,
        };
        if goal_event.is_some() && goal_event == entry_event {
            errors.add("goal_event", "is the entry event: a member would leave as they enter");
        }
        if self.topic_id.is_none() {
            errors.add("topic", "is required: the topic's key or topic_id");
        }
        let drafts = self.steps.clone().unwrap_or_default();
        if drafts.is_empty() {
            errors.add("steps", "at least one step is required");
        } else if drafts.len() > MOST_STEPS {
            errors.add("steps", format!("at most {MOST_STEPS} steps"));
        }
        let steps: Vec<SequenceStep> =
            drafts.iter().enumerate().filter_map(|(i, d)| d.validate(&format!("steps[{i}]"), &mut errors)).collect();
        match (key, name, entry_event, self.topic_id) {
            (Some(key), Some(name), Some(entry_event), Some(topic_id)) if errors.is_empty() => Ok(Sequence {
                key,
                name,
                entry_event,
                entry_condition,
                entry_rule,
                goal_event,
                topic_id,
                steps,
                enabled: self.enabled.unwrap_or(true),
                created_at: created_at.unwrap_or(now),
                updated_at: now,
            }),
            _ => Err(errors),
        }
    }
}

impl SequenceStepDraft {
    fn validate(&self, at: &str, errors: &mut FieldErrors) -> Option<SequenceStep> {
        let before = errors.len();
        let name = super::parts::required_line(errors, &format!("{at}.name"), self.name.as_deref());
        let after_minutes = self.after_minutes.unwrap_or(0);
        if after_minutes > MOST_WAIT_MINUTES {
            errors.add(&format!("{at}.after_minutes"), format!("must be at most {MOST_WAIT_MINUTES} (90 days)"));
        }
        let condition = optional_rule(errors, &format!("{at}.condition"), self.condition.as_deref());
        let (importance, channels, content) = super::parts::message_parts(
            errors,
            &format!("{at}."),
            self.importance.as_deref(),
            self.channels.as_deref(),
            self.content.as_ref(),
        );
        if errors.len() > before {
            return None;
        }
        Some(SequenceStep {
            name: name?,
            after_minutes,
            condition,
            importance: importance?,
            channels,
            content: content?,
        })
    }
}

fn optional_rule(errors: &mut FieldErrors, field: &str, text: Option<&str>) -> Option<String> {
    match crate::text::optional(text.unwrap_or_default(), 2_000) {
        Ok(c) => c,
        Err(e) => {
            errors.add(field, e.to_string());
            None
        }
    }
}

/// Where a member's run through a sequence stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum RunState {
    /// Going through the steps.
    Active,
    /// Met the goal.
    Converted,
    /// Went through every step without meeting the goal.
    Finished,
    /// Taken out (by staff, or the sequence was deleted or the member left).
    Exited,
}

impl RunState {
    pub const ALL: [Self; 4] = [Self::Active, Self::Converted, Self::Finished, Self::Exited];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Converted => "converted",
            Self::Finished => "finished",
            Self::Exited => "exited",
        }
    }
}

impl std::str::FromStr for RunState {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|s| s.as_str() == text).ok_or_else(|| format!("'{text}' is not a run state"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn draft() -> SequenceDraft {
        serde_json::from_value(serde_json::json!({
            "key": "onboarding", "name": "Onboarding", "entry_event": "member.created", "goal_event": "deal.registered",
            "topic_id": TopicId::new(),
            "steps": [
                {"name": "Welcome", "content": {"variants": {"en": {"title": "Welcome, {{ member.first_name }}"}}}},
                {"name": "Profile", "after_minutes": 1440, "condition": "member.attr.profile_complete != true",
                 "content": {"variants": {"en": {"title": "Complete your profile"}}}}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_sequence_keeps_its_steps_in_order() {
        let s = draft().validate(Timestamp::from_millis(1), None).unwrap();
        let names: Vec<&str> = s.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Welcome", "Profile"]);
        assert_eq!((s.steps[0].after_minutes, s.steps[1].after_minutes), (0, 1440));
        assert!(s.enabled);
    }

    #[test]
    fn every_fault_is_named_with_its_step() {
        let mut bad = draft();
        bad.goal_event = Some("member.created".into());
        if let Some(steps) = bad.steps.as_mut() {
            steps[1].after_minutes = Some(MOST_WAIT_MINUTES + 1);
            steps[1].content = None;
        }
        let errors = bad.validate(Timestamp::from_millis(1), None).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["goal_event", "steps[1].after_minutes", "steps[1].content"]);
    }
}
