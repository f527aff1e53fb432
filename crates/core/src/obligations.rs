//! What each partner owes on a must-know message, and where a partner stands.
//!
//! An obligation asks every member reached to acknowledge, or so many people in each of
//! some roles ("the support lead and an operations contact"), by a due time. Each
//! partner's progress is kept per quota (a role and how many of it); a quota whose role
//! nobody at the partner holds is waived, and a partner whose quotas are all waived is
//! exempt, with the reason. One pure function says where a partner stands; the store
//! keeps the counts it reads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Role, Roles, Timestamp};

/// The most people one quota may ask for.
const MOST_PER_ROLE: u32 = 1_000;
/// The latest a relative due time may be: a year.
const MOST_HOURS: u32 = 24 * 366;
const HOUR_MS: i64 = 3_600_000;

/// So many people holding a role (any role when `role` is `None`: every member reached,
/// when `count` is `None` too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Quota {
    pub role: Option<Role>,
    /// `None`: everyone in scope.
    pub count: Option<u32>,
}

impl Quota {
    /// Whether a member with `roles` counts toward the quota.
    pub fn counts(&self, roles: Roles) -> bool {
        self.role.is_none_or(|r| roles.contains(r))
    }
}

/// What a partner owes: its quotas, and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Obligation {
    pub quotas: Vec<Quota>,
    /// Due this many hours after the release, when the acknowledgment names no due time.
    pub within_hours: Option<u32>,
}

impl Default for Obligation {
    /// Every member reached must acknowledge.
    fn default() -> Self {
        Self { quotas: vec![Quota { role: None, count: None }], within_hours: None }
    }
}

/// The obligation as a message's draft gives it: `every_recipient`, or `roles` (role to
/// how many people, at least 1), and `within_hours`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationDraft {
    /// Every member reached must acknowledge (the default when `roles` is not given).
    pub every_recipient: Option<bool>,
    /// Role to the number of people in it who must acknowledge, such as
    /// `{"support": 1, "operations": 1}`.
    pub roles: Option<BTreeMap<String, u32>>,
    /// Due this many hours after the release (when the acknowledgment has no `due_at`).
    pub within_hours: Option<u32>,
}

impl ObligationDraft {
    pub fn validate(&self, errors: &mut FieldErrors) -> Option<Obligation> {
        let before = errors.iter().count();
        let mut quotas = Vec::new();
        match (&self.roles, self.every_recipient) {
            (Some(_), Some(true)) => {
                errors.add("acknowledgment.obligation", "give every_recipient or roles, not both");
            }
            (Some(roles), _) if roles.is_empty() => {
                errors.add("acknowledgment.obligation.roles", "name at least one role, or ask every_recipient");
            }
            (Some(roles), _) => {
                for (name, count) in roles {
                    let field = format!("acknowledgment.obligation.roles.{name}");
                    let Some(role) = errors.check(&field, name.parse::<Role>()) else { continue };
                    if !(1..=MOST_PER_ROLE).contains(count) {
                        errors.add(&field, format!("must be 1 to {MOST_PER_ROLE} people"));
                        continue;
                    }
                    quotas.push(Quota { role: Some(role), count: Some(*count) });
                }
            }
            (None, _) => quotas.push(Quota { role: None, count: None }),
        }
        if let Some(hours) = self.within_hours
            && !(1..=MOST_HOURS).contains(&hours)
        {
            errors.add("acknowledgment.obligation.within_hours", format!("must be 1 to {MOST_HOURS} hours"));
        }
        (errors.iter().count() == before).then_some(Obligation { quotas, within_hours: self.within_hours })
    }
}

impl Obligation {
    /// When it is due, `within_hours` after the release (the acknowledgment's own due time,
    /// when it has one, comes first: see `Acknowledgment::due`).
    pub fn due_after(&self, released_at: Timestamp) -> Option<Timestamp> {
        self.within_hours.map(|h| Timestamp::from_millis(released_at.as_millis() + i64::from(h) * HOUR_MS))
    }

    /// In words, such as "1 support and 2 operations" or "every recipient".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self.quotas.iter().map(describe_quota).collect();
        parts.join(" and ")
    }
}

fn describe_quota(q: &Quota) -> String {
    match (q.role, q.count) {
        (None, None) => "every recipient".to_owned(),
        (None, Some(n)) => format!("{n} of the recipients"),
        (Some(role), None) => format!("every {role}"),
        (Some(role), Some(n)) => format!("{n} {role}"),
    }
}

/// One quota's progress at one partner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaProgress {
    pub quota: Quota,
    /// Members reached who count toward it.
    pub in_scope: i64,
    /// How many of them have acknowledged.
    pub acknowledged: i64,
    /// When the acknowledgment that met it came.
    pub met_at: Option<Timestamp>,
}

impl QuotaProgress {
    /// How many acknowledgments meet it: its count, or everyone in scope, whichever is
    /// fewer (a partner with one support person owes one, not two).
    pub fn needed(&self) -> i64 {
        self.quota.count.map_or(self.in_scope, |n| i64::from(n).min(self.in_scope))
    }

    /// Nobody in scope: nothing can be asked of the partner here.
    pub fn waived(&self) -> bool {
        self.in_scope == 0
    }

    pub fn met(&self) -> bool {
        !self.waived() && self.acknowledged >= self.needed()
    }
}

/// Where a partner stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PartnerState {
    /// Past due and not met.
    Overdue,
    /// Due within the warning window and not met.
    AtRisk,
    /// Not met, not due soon (or no due time).
    Open,
    /// Every quota that could be asked is met.
    Met,
    /// Nobody at the partner is in scope of any quota.
    Exempt,
}

impl PartnerState {
    pub const ALL: [Self; 5] = [Self::Overdue, Self::AtRisk, Self::Open, Self::Met, Self::Exempt];

    /// The partner still owes something: neither met nor exempt.
    pub fn owes(self) -> bool {
        !matches!(self, Self::Met | Self::Exempt)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overdue => "overdue",
            Self::AtRisk => "at_risk",
            Self::Open => "open",
            Self::Met => "met",
            Self::Exempt => "exempt",
        }
    }
}

/// A partner's standing: its state, why in words, and when it was met.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ObligationStanding {
    pub state: PartnerState,
    pub reason: String,
    pub met_at: Option<Timestamp>,
}

/// Whether a due time has come: at the due moment itself it has.
pub fn past_due(due: Timestamp, now: Timestamp) -> bool {
    now >= due
}

/// The warning window before a due time: a quarter of the time from release to due, at
/// least an hour and at most a day.
pub fn warning_ms(released_at: Timestamp, due: Timestamp) -> i64 {
    ((due.as_millis() - released_at.as_millis()) / 4).clamp(HOUR_MS, 24 * HOUR_MS)
}

/// Where a partner with these quotas' progress stands at `now`.
pub fn standing(
    progress: &[QuotaProgress],
    released_at: Timestamp,
    due: Option<Timestamp>,
    now: Timestamp,
) -> ObligationStanding {
    let asked: Vec<&QuotaProgress> = progress.iter().filter(|q| !q.waived()).collect();
    if asked.is_empty() {
        let roles: Vec<String> = progress.iter().map(|q| describe_quota(&q.quota)).collect();
        let reason = format!("nobody reached is in scope ({})", roles.join(", "));
        return ObligationStanding { state: PartnerState::Exempt, reason, met_at: None };
    }
    let missing: Vec<String> = asked
        .iter()
        .filter(|q| !q.met())
        .map(|q| format!("{} of {} {}", q.acknowledged, q.needed(), describe_scope(&q.quota)))
        .collect();
    if missing.is_empty() {
        let met_at = asked.iter().filter_map(|q| q.met_at).max();
        return ObligationStanding { state: PartnerState::Met, reason: "every quota is met".into(), met_at };
    }
    let reason = format!("acknowledged so far: {}", missing.join(", "));
    let state = match due {
        Some(due) if past_due(due, now) => PartnerState::Overdue,
        Some(due) if now.as_millis() >= due.as_millis() - warning_ms(released_at, due) => PartnerState::AtRisk,
        _ => PartnerState::Open,
    };
    ObligationStanding { state, reason, met_at: None }
}

fn describe_scope(q: &Quota) -> String {
    match q.role {
        None => "recipients".to_owned(),
        Some(role) => role.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(role: Option<Role>, count: Option<u32>, in_scope: i64, acknowledged: i64) -> QuotaProgress {
        QuotaProgress { quota: Quota { role, count }, in_scope, acknowledged, met_at: None }
    }

    const RELEASED: Timestamp = Timestamp::from_millis(0);

    #[test]
    fn a_partner_meets_each_quota_capped_at_who_is_there() {
        let due = Some(Timestamp::from_millis(48 * HOUR_MS));
        let early = Timestamp::from_millis(HOUR_MS);
        let support = progress(Some(Role::Support), Some(2), 1, 1);
        let operations = progress(Some(Role::Operations), Some(1), 3, 0);
        let s = standing(&[support, operations], RELEASED, due, early);
        assert_eq!((s.state, s.reason.as_str()), (PartnerState::Open, "acknowledged so far: 0 of 1 operations"));
        let s = standing(&[support, progress(Some(Role::Operations), Some(1), 3, 1)], RELEASED, due, early);
        assert_eq!(s.state, PartnerState::Met, "one support person is all there is");
    }

    #[test]
    fn due_times_make_partners_at_risk_then_overdue() {
        let due = Timestamp::from_millis(48 * HOUR_MS);
        let open = [progress(None, None, 3, 1)];
        let at = |h: i64| standing(&open, RELEASED, Some(due), Timestamp::from_millis(h * HOUR_MS)).state;
        assert_eq!((at(23), at(36), at(48)), (PartnerState::Open, PartnerState::AtRisk, PartnerState::Overdue));
        assert_eq!(warning_ms(RELEASED, due), 12 * HOUR_MS);
        assert_eq!(standing(&open, RELEASED, None, Timestamp::from_millis(i64::MAX / 2)).state, PartnerState::Open);
    }

    #[test]
    fn nobody_in_scope_is_exempt_with_the_reason() {
        let s = standing(&[progress(Some(Role::Finance), Some(1), 0, 0)], RELEASED, None, RELEASED);
        assert_eq!((s.state, s.reason.as_str()), (PartnerState::Exempt, "nobody reached is in scope (1 finance)"));
        let half = [progress(Some(Role::Finance), Some(1), 0, 0), progress(Some(Role::Support), Some(1), 1, 1)];
        assert_eq!(standing(&half, RELEASED, None, RELEASED).state, PartnerState::Met, "a waived quota is no debt");
    }

    #[test]
    fn drafts_are_checked_field_by_field() {
        let mut errors = FieldErrors::new();
        let draft = ObligationDraft {
            roles: Some(BTreeMap::from([("support".into(), 1), ("operations".into(), 2)])),
            within_hours: Some(48),
            ..Default::default()
        };
        let described = draft.validate(&mut errors).map(|o| o.describe());
        assert_eq!(described.as_deref(), Some("2 operations and 1 support"));
        let bad = ObligationDraft {
            every_recipient: None,
            roles: Some(BTreeMap::from([("pilots".into(), 1), ("support".into(), 0)])),
            within_hours: Some(0),
        };
        assert!(bad.validate(&mut errors).is_none());
        assert_eq!(errors.iter().count(), 3, "{errors}");
        let mut errors = FieldErrors::new();
        assert_eq!(ObligationDraft::default().validate(&mut errors), Some(Obligation::default()));
    }
}
