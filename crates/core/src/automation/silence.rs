//! Silent partners: a partner whose people have stopped coming, that registers no deals,
//! whose open deals have stalled, or none of whose people has trained, found against
//! thresholds per tier, and said specifically ("2 open deals with no update for 45 days:
//! D-1, D-2"), never "we miss you".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Slug, Timestamp};

const DAY_MS: i64 = 86_400_000;

/// When a partner counts as silent: each threshold in days, 0 to leave it out. Read from
/// a JSON object only (serde would also take an array of the fields in order).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, try_from = "serde_json::Map<String, serde_json::Value>")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// No one active (signed in, read, acknowledged) for this many days.
    pub inactive_days: Option<u32>,
    /// No deal registered for this many days.
    pub no_deal_days: Option<u32>,
    /// A registered or approved deal with no update for this many days.
    pub stale_deal_days: Option<u32>,
    /// Whether a partner none of whose people has completed a training counts.
    pub require_training: Option<bool>,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for Thresholds {
    type Error = String;
    fn try_from(object: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let day = |name: &str| -> Result<Option<u32>, String> {
            match object.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .and_then(|d| u32::try_from(d).ok())
                    .map(Some)
                    .ok_or_else(|| format!("{name}: a whole number of days")),
            }
        };
        if let Some(unknown) = object.keys().find(|k| !Self::FIELDS.contains(&k.as_str())) {
            return Err(format!("unknown field `{unknown}`; known: {}", Self::FIELDS.join(", ")));
        }
        let require_training = match object.get("require_training") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(_) => return Err("require_training: true or false".into()),
        };
        Ok(Self {
            inactive_days: day("inactive_days")?,
            no_deal_days: day("no_deal_days")?,
            stale_deal_days: day("stale_deal_days")?,
            require_training,
        })
    }
}

impl Thresholds {
    const FIELDS: [&'static str; 4] = ["inactive_days", "no_deal_days", "stale_deal_days", "require_training"];

    /// These thresholds, each one not set taken from `base`.
    fn over(self, base: Thresholds) -> Thresholds {
        Thresholds {
            inactive_days: self.inactive_days.or(base.inactive_days),
            no_deal_days: self.no_deal_days.or(base.no_deal_days),
            stale_deal_days: self.stale_deal_days.or(base.stale_deal_days),
            require_training: self.require_training.or(base.require_training),
        }
    }
}

/// What is done with a silent partner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SilenceAction {
    /// A task for the partner's manager, saying what was found.
    #[default]
    Task,
    /// The partner enters the reactivation sequence (and its manager gets the task too).
    Sequence,
}

/// The vendor's policy: thresholds for every partner, tighter or looser ones per tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SilencePolicy {
    /// false: the daily job finds nobody.
    pub enabled: bool,
    pub thresholds: Thresholds,
    /// By tier key (`strategic`): overrides the thresholds above, field by field.
    pub tiers: BTreeMap<Slug, Thresholds>,
    pub action: SilenceAction,
    /// The sequence a silent partner enters, with `action: sequence`.
    pub sequence: Option<Slug>,
}

impl Default for SilencePolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            thresholds: Thresholds {
                inactive_days: Some(60),
                no_deal_days: Some(120),
                stale_deal_days: Some(45),
                require_training: Some(false),
            },
            tiers: BTreeMap::new(),
            action: SilenceAction::Task,
            sequence: None,
        }
    }
}

impl SilencePolicy {
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.action == SilenceAction::Sequence && self.sequence.is_none() {
            errors.add("sequence", "is required with action \"sequence\": the key of the reactivation sequence");
        }
        let check = |at: &str, t: &Thresholds, errors: &mut FieldErrors| {
            for (name, days) in [
                ("inactive_days", t.inactive_days),
                ("no_deal_days", t.no_deal_days),
                ("stale_deal_days", t.stale_deal_days),
            ] {
                if days.is_some_and(|d| d > 3650) {
                    errors.add(&format!("{at}{name}"), "must be at most 3650 days (0 leaves it out)");
                }
            }
        };
        check("thresholds.", &self.thresholds, &mut errors);
        for (tier, t) in &self.tiers {
            check(&format!("tiers.{tier}."), t, &mut errors);
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    /// The thresholds for a partner of `tier`.
    pub fn for_tier(&self, tier: &str) -> Thresholds {
        self.tiers.iter().find(|(k, _)| k.as_str() == tier).map_or(self.thresholds, |(_, t)| t.over(self.thresholds))
    }
}

/// One deal as its events left it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenDeal {
    pub deal_id: String,
    pub last_update: Timestamp,
}

/// What is known of a partner's activity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartnerFacts {
    pub name: String,
    pub active_members: i64,
    pub last_seen: Option<Timestamp>,
    /// The last deal registered: its id and when.
    pub last_deal: Option<(String, Timestamp)>,
    /// Deals registered or approved and neither rejected nor closed since.
    pub open_deals: Vec<OpenDeal>,
    pub trained: bool,
    /// When it joined: a partner newer than a threshold is not silent by it.
    pub since: Timestamp,
}

/// Why a partner counts as silent, each reason a sentence an account manager can act on;
/// empty when it does not.
pub fn findings(f: &PartnerFacts, t: &Thresholds, now: Timestamp) -> Vec<String> {
    let days_since = |at: Timestamp| (now.as_millis() - at.as_millis()) / DAY_MS;
    let over = |limit: Option<u32>, at: Timestamp| limit.is_some_and(|l| l > 0 && days_since(at) >= i64::from(l));
    let mut out = Vec::new();
    if f.active_members == 0 {
        // Nobody to be silent: a partner without people is a directory matter.
    } else {
        match f.last_seen {
            Some(seen) if over(t.inactive_days, seen) => out.push(format!(
                "nobody at {} has been active for {} days ({} {})",
                f.name,
                days_since(seen),
                f.active_members,
                if f.active_members == 1 { "person" } else { "people" }
            )),
            None if over(t.inactive_days, f.since) => {
                out.push(format!("none of the {} people at {} has ever been active", f.active_members, f.name))
            }
            _ => {}
        }
    }
    match &f.last_deal {
        Some((id, at)) if over(t.no_deal_days, *at) => out.push(format!(
            "no deal registered for {} days (the last: {id} on {})",
            days_since(*at),
            at.to_rfc3339().get(..10).unwrap_or_default()
        )),
        None if over(t.no_deal_days, f.since) => out.push("no deal registered yet".to_owned()),
        _ => {}
    }
    let stale: Vec<&OpenDeal> = f.open_deals.iter().filter(|d| over(t.stale_deal_days, d.last_update)).collect();
    if let (false, Some(limit)) = (stale.is_empty(), t.stale_deal_days) {
        let ids: Vec<&str> = stale.iter().map(|d| d.deal_id.as_str()).collect();
        let count = match stale.len() {
            1 => "1 open deal".to_owned(),
            2 => "two open deals".to_owned(),
            n => format!("{n} open deals"),
        };
        out.push(format!("{count} with no update for {limit} days or more: {}", ids.join(", ")));
    }
    if t.require_training == Some(true) && !f.trained && f.active_members > 0 {
        out.push("none of its people has completed a training".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn ago(days: i64) -> Timestamp {
        Timestamp::from_millis(NOW.as_millis() - days * DAY_MS)
    }

    fn quiet() -> PartnerFacts {
        PartnerFacts {
            name: "Acme".into(),
            active_members: 4,
            last_seen: Some(ago(74)),
            last_deal: Some(("D-4711".into(), ago(130))),
            open_deals: vec![
                OpenDeal { deal_id: "D-1".into(), last_update: ago(50) },
                OpenDeal { deal_id: "D-2".into(), last_update: ago(46) },
                OpenDeal { deal_id: "D-3".into(), last_update: ago(3) },
            ],
            trained: false,
            since: ago(400),
        }
    }

    #[test]
    fn a_quiet_partner_is_told_specifically_why() {
        let policy = SilencePolicy::default();
        let found = findings(&quiet(), &policy.for_tier("growth"), NOW);
        assert_eq!(
            found,
            [
                "nobody at Acme has been active for 74 days (4 people)",
                "no deal registered for 130 days (the last: D-4711 on 2026-09-07)",
                "two open deals with no update for 45 days or more: D-1, D-2",
            ]
        );
    }

    #[test]
    fn tiers_override_thresholds_field_by_field_and_zero_leaves_one_out() {
        let mut policy = SilencePolicy::default();
        policy.tiers.insert(
            Slug::parse("strategic").unwrap(),
            Thresholds {
                inactive_days: Some(90),
                no_deal_days: Some(0),
                require_training: Some(true),
                ..Default::default()
            },
        );
        let found = findings(&quiet(), &policy.for_tier("strategic"), NOW);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("two open deals"), "the stale-deal threshold is the default's");
        assert_eq!(found[1], "none of its people has completed a training");
    }

    #[test]
    fn an_active_or_new_partner_is_not_silent() {
        let mut busy = quiet();
        busy.last_seen = Some(ago(2));
        busy.last_deal = Some(("D-9".into(), ago(5)));
        busy.open_deals.clear();
        assert!(findings(&busy, &SilencePolicy::default().thresholds, NOW).is_empty());
        let new = PartnerFacts { last_seen: None, last_deal: None, open_deals: vec![], since: ago(10), ..quiet() };
        assert!(findings(&new, &SilencePolicy::default().thresholds, NOW).is_empty());
    }

    #[test]
    fn thresholds_are_read_from_an_object_only() {
        let from = |v: serde_json::Value| serde_json::from_value::<SilencePolicy>(v);
        assert!(from(serde_json::json!({"tiers": {"growth": [null, null]}})).is_err());
        assert!(from(serde_json::json!({"tiers": {"": {}}})).is_err());
        assert!(from(serde_json::json!({"thresholds": {"inactive_days": -1}})).is_err());
        assert!(from(serde_json::json!({"thresholds": {"days": 1}})).is_err());
        let p = from(serde_json::json!({"tiers": {"growth": {"inactive_days": 30}}})).unwrap();
        assert_eq!(p.for_tier("growth").inactive_days, Some(30));
    }

    #[test]
    fn a_reactivation_sequence_must_be_named() {
        let policy = SilencePolicy { action: SilenceAction::Sequence, ..Default::default() };
        assert_eq!(policy.validate().unwrap_err().iter().next().unwrap().field, "sequence");
    }
}
