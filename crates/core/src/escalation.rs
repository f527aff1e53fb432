//! Escalation ladders: who is chased about an unacknowledged must-know message, and when.
//!
//! A ladder is a named list of steps, each a delay and a target: remind the members who
//! have not acknowledged, then tell their partner's lead who is still outstanding, then
//! the vendor's partner manager for that partner; optionally run again so many times.
//! A message's ladder is copied when it is released, so editing the ladder later does
//! not change one already running. Each step is sent as deliveries with a purpose of
//! their own (`reminder-n` to members, `escalation-n` to leads and managers).

use serde::{Deserialize, Serialize};

use crate::deliveries::Purpose;
use crate::{FieldErrors, Slug, Timestamp};

const HOUR_MS: i64 = 3_600_000;
/// The most steps one ladder holds.
pub const MOST_STEPS: usize = 10;
/// The most times a ladder runs again after its first pass.
const MOST_REPEATS: u8 = 5;
/// The longest delay one step may have: a month.
const MOST_HOURS: u32 = 24 * 31;

/// Whom one step chases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StepTarget {
    /// The members who have not acknowledged, on the next channel they have open.
    Members,
    /// Each partner's lead (members with the partner lead role), with the colleagues
    /// still outstanding.
    PartnerLead,
    /// The vendor's partner manager for each partner that has not met its obligation.
    PartnerManager,
}

impl StepTarget {
    pub const ALL: [Self; 3] = [Self::Members, Self::PartnerLead, Self::PartnerManager];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::PartnerLead => "partner_lead",
            Self::PartnerManager => "partner_manager",
        }
    }
}

impl std::str::FromStr for StepTarget {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim();
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == wanted)
            .ok_or_else(|| format!("'{wanted}' is not a target; known: members, partner_lead, partner_manager"))
    }
}

/// One rung: `after_hours` after the previous step (the first: after the release).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LadderStep {
    pub after_hours: u32,
    pub target: StepTarget,
}

/// A ladder as saved and as copied onto a released message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ladder {
    pub key: Slug,
    pub name: String,
    pub steps: Vec<LadderStep>,
    /// How many more times the steps run after the first pass, while anyone still owes.
    #[serde(default)]
    pub repeat: u8,
    /// Reminders wait for the member's working hours even on must-know messages (the
    /// default); off, a must-know reminder goes at once, day or night.
    #[serde(default = "yes")]
    pub working_hours_only: bool,
}

fn yes() -> bool {
    true
}

/// A ladder as given to create or replace one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LadderDraft {
    pub key: Option<String>,
    pub name: Option<String>,
    pub steps: Option<Vec<LadderStep>>,
    pub repeat: Option<u8>,
    pub working_hours_only: Option<bool>,
}

impl LadderDraft {
    pub fn validate(&self) -> Result<Ladder, FieldErrors> {
        let mut errors = FieldErrors::default();
        let key = match self.key.as_deref() {
            Some(k) => errors.check("key", Slug::parse(k)),
            None => {
                errors.add("key", "is required (lowercase letters, digits and dashes, such as must-know-recall)");
                None
            }
        };
        let name = self.name.as_deref().map(str::trim).unwrap_or_default();
        if name.is_empty() {
            errors.add("name", "is required");
        } else if name.chars().count() > 200 {
            errors.add("name", "must be at most 200 characters");
        } else if name.chars().any(char::is_control) {
            errors.add("name", "must not contain control characters");
        }
        let steps = self.steps.clone().unwrap_or_default();
        if steps.is_empty() {
            errors.add("steps", "name at least one step");
        } else if steps.len() > MOST_STEPS {
            errors.add("steps", format!("at most {MOST_STEPS} steps"));
        }
        for (i, step) in steps.iter().enumerate() {
            if step.after_hours == 0 || step.after_hours > MOST_HOURS {
                errors.add(&format!("steps[{i}].after_hours"), format!("must be from 1 to {MOST_HOURS} hours"));
            }
        }
        let repeat = self.repeat.unwrap_or(0);
        if repeat > MOST_REPEATS {
            errors.add("repeat", format!("must be at most {MOST_REPEATS}"));
        }
        let working_hours_only = self.working_hours_only.unwrap_or(true);
        errors.finish(|| Some(Ladder { key: key?, name: name.to_owned(), steps, repeat, working_hours_only }))
    }
}

/// One step of a running ladder, numbered from 0 over every pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledStep {
    pub index: u16,
    pub target: StepTarget,
    pub purpose: Purpose,
    pub due_at: Timestamp,
}

impl Ladder {
    /// Every step of every pass, from the release at `started_at`: each step's time is the
    /// previous one's plus its delay, and its purpose counts that target's sends
    /// (`reminder-n` for members, `escalation-n` for leads and managers).
    pub fn schedule(&self, started_at: Timestamp) -> Vec<ScheduledStep> {
        let mut at = started_at.as_millis();
        let (mut reminders, mut escalations) = (0u16, 0u16);
        let passes = usize::from(self.repeat) + 1;
        let mut out = Vec::with_capacity(self.steps.len() * passes);
        for step in std::iter::repeat_n(&self.steps, passes).flatten() {
            at = at.saturating_add(i64::from(step.after_hours) * HOUR_MS);
            let purpose = match step.target {
                StepTarget::Members => {
                    reminders += 1;
                    Purpose::Reminder(reminders)
                }
                StepTarget::PartnerLead | StepTarget::PartnerManager => {
                    escalations += 1;
                    Purpose::Escalation(escalations)
                }
            };
            let index = u16::try_from(out.len()).unwrap_or(u16::MAX);
            out.push(ScheduledStep { index, target: step.target, purpose, due_at: Timestamp::from_millis(at) });
        }
        out
    }
}

impl LadderDraft {
    /// The ladder the demo and a new instance start with: remind after a day, tell the
    /// partner's lead after two, the partner manager after three.
    pub fn must_know_recall() -> Self {
        Self {
            key: Some("must-know-recall".to_owned()),
            name: Some("Must-know recall".to_owned()),
            steps: Some(vec![
                LadderStep { after_hours: 24, target: StepTarget::Members },
                LadderStep { after_hours: 24, target: StepTarget::PartnerLead },
                LadderStep { after_hours: 24, target: StepTarget::PartnerManager },
            ]),
            repeat: Some(0),
            working_hours_only: Some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn draft(steps: Vec<LadderStep>, repeat: u8) -> LadderDraft {
        LadderDraft {
            key: Some("recall".into()),
            name: Some("Recall".into()),
            steps: Some(steps),
            repeat: Some(repeat),
            working_hours_only: None,
        }
    }

    #[test]
    fn steps_follow_each_other_and_number_their_purposes_per_target() {
        let ladder = draft(
            vec![
                LadderStep { after_hours: 24, target: StepTarget::Members },
                LadderStep { after_hours: 12, target: StepTarget::PartnerLead },
            ],
            1,
        )
        .validate()
        .unwrap();
        let start = Timestamp::from_millis(1_000);
        let steps = ladder.schedule(start);
        let purposes: Vec<String> = steps.iter().map(|s| s.purpose.to_string()).collect();
        assert_eq!(purposes, ["reminder-1", "escalation-1", "reminder-2", "escalation-2"]);
        let hours: Vec<i64> = steps.iter().map(|s| (s.due_at.as_millis() - 1_000) / HOUR_MS).collect();
        assert_eq!(hours, [24, 36, 60, 72]);
        assert_eq!(steps.iter().map(|s| s.index).collect::<Vec<_>>(), [0, 1, 2, 3]);
    }

    #[test]
    fn a_ladder_needs_steps_with_delays_a_key_and_a_name() {
        let errors = LadderDraft::default().validate().unwrap_err();
        for field in ["key", "name", "steps"] {
            assert!(errors.iter().any(|e| e.field == field), "{field}: {errors:?}");
        }
        let zero = draft(vec![LadderStep { after_hours: 0, target: StepTarget::Members }], 9);
        let errors = zero.validate().unwrap_err();
        assert!(errors.iter().any(|e| e.field == "steps[0].after_hours"), "{errors:?}");
        assert!(errors.iter().any(|e| e.field == "repeat"), "{errors:?}");
    }

    #[test]
    fn the_default_ladder_is_valid() {
        let l = LadderDraft::must_know_recall().validate().unwrap();
        assert_eq!(l.schedule(Timestamp::from_millis(0)).len(), 3);
    }
}
