//! Keeping noise down: how often a member may be sent messages of each importance on
//! channels outside the portal (frequency caps; must-know is never capped), and whether
//! nice-to-know messages wait for a daily or weekly digest email instead of going out one
//! by one.
//!
//! The digest follows three layers, the nearer one winning: the vendor's policy (one
//! frequency for everyone, or per role), the defaults a partner's admin sets for their
//! people, and the member's own choice.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::messages::Importance;
use crate::{FieldErrors, MemberProfile, Role, Roles, Slug};

/// When nice-to-know messages reach a member outside the portal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DigestFrequency {
    /// Each message as it is released, on its channels.
    #[default]
    Off,
    /// One email each working day, at the start of the member's working hours.
    Daily,
    /// One email a week, at the start of the member's first working day.
    Weekly,
}

impl DigestFrequency {
    pub const ALL: [Self; 3] = [Self::Off, Self::Daily, Self::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Daily => "daily",
            Self::Weekly => "weekly",
        }
    }

    /// In words, for reasons: "a weekly digest".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Off => "no digest (each message as it comes)",
            Self::Daily => "a daily digest",
            Self::Weekly => "a weekly digest",
        }
    }
}

impl fmt::Display for DigestFrequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a digest frequency; known: off, daily, weekly")]
pub struct DigestFrequencyError(String);

impl FromStr for DigestFrequency {
    type Err = DigestFrequencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|f| f.as_str() == wanted).ok_or_else(|| DigestFrequencyError(s.trim().to_owned()))
    }
}

/// The longest window a cap counts over.
pub const MAX_WINDOW_DAYS: u32 = 31;

/// The vendor's layer: caps per importance and the digest per role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoisePolicy {
    /// At most this many nice-to-know messages per member in the window on channels
    /// outside the portal; `null`: no cap. Those over it still land in the inbox.
    #[serde(default)]
    pub info_cap: Option<u32>,
    /// The same for need-to-know messages. Must-know messages are never capped.
    #[serde(default)]
    pub action_cap: Option<u32>,
    /// The days a cap counts back over (1 to 31).
    #[serde(default = "default_window")]
    pub window_days: u32,
    /// The digest of members whose role is not listed in `digest_by_role`.
    #[serde(default)]
    pub digest: DigestFrequency,
    /// Per role; a member with several roles takes the most immediate of theirs.
    #[serde(default)]
    pub digest_by_role: BTreeMap<Role, DigestFrequency>,
}

fn default_window() -> u32 {
    7
}

impl Default for NoisePolicy {
    fn default() -> Self {
        Self {
            info_cap: None,
            action_cap: None,
            window_days: 7,
            digest: DigestFrequency::Off,
            digest_by_role: BTreeMap::new(),
        }
    }
}

impl NoisePolicy {
    pub fn check(&self) -> FieldErrors {
        let mut errors = FieldErrors::new();
        if !(1..=MAX_WINDOW_DAYS).contains(&self.window_days) {
            errors.add("window_days", format!("must be between 1 and {MAX_WINDOW_DAYS} days"));
        }
        for (field, cap) in [("info_cap", self.info_cap), ("action_cap", self.action_cap)] {
            if cap.is_some_and(|c| c > 1000) {
                errors.add(field, "must be at most 1000 messages (leave it empty for no cap)");
            }
        }
        errors
    }

    /// The cap on messages of this importance; must-know has none.
    pub fn cap(&self, importance: Importance) -> Option<u32> {
        match importance {
            Importance::Info => self.info_cap,
            Importance::Action => self.action_cap,
            Importance::Critical => None,
        }
    }

    /// The vendor's digest for someone with these roles: the most immediate among them.
    pub fn digest_for(&self, roles: Roles) -> DigestFrequency {
        roles.iter().map(|r| self.digest_by_role.get(&r).copied().unwrap_or(self.digest)).min().unwrap_or(self.digest)
    }

    /// The roles whose vendor digest is `frequency` (for SQL masks).
    pub fn roles_with(&self, frequency: DigestFrequency) -> Roles {
        Role::ALL
            .iter()
            .filter(|r| self.digest_by_role.get(r).copied().unwrap_or(self.digest) == frequency)
            .copied()
            .collect()
    }

    /// Whether a release of this importance needs the digest worked out per member.
    pub fn holds(&self, importance: Importance) -> bool {
        importance == Importance::Info
    }
}

/// The partner's layer: what a partner's admin (its lead, or vendor staff) sets for the
/// partner's people; each member's own choice still wins.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerDefaults {
    /// Optional topics turned on or off for the partner's people; required topics stay on.
    #[serde(default)]
    pub topics: BTreeMap<Slug, bool>,
    /// The digest for the partner's people; `null`: the vendor's policy.
    #[serde(default)]
    pub digest: Option<DigestFrequency>,
}

/// A member's digest and which layer set it, in words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DigestDecision {
    pub frequency: DigestFrequency,
    pub reason: String,
}

/// The member's digest: their own choice, else their partner's default, else the
/// vendor's policy for their roles.
pub fn digest_decision(
    member: &MemberProfile,
    own: Option<DigestFrequency>,
    partner: &PartnerDefaults,
    policy: &NoisePolicy,
) -> DigestDecision {
    let (frequency, reason) = match (own, partner.digest) {
        (Some(f), _) => (f, format!("the member chose {}", f.describe())),
        (None, Some(f)) => (f, format!("their partner's admin set {} for the partner's people", f.describe())),
        (None, None) => {
            let f = policy.digest_for(member.roles);
            (f, format!("the vendor's policy for the member's roles is {}", f.describe()))
        }
    };
    let reason = match frequency {
        DigestFrequency::Off => reason,
        _ => format!("{reason}: nice-to-know messages wait for it and go by email"),
    };
    DigestDecision { frequency, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberDraft, PartnerId};

    fn member(roles: &str) -> MemberProfile {
        let draft = MemberDraft {
            partner_id: Some(PartnerId::new()),
            email: Some("ana@acme.example".into()),
            roles: Some(roles.split(';').map(str::to_owned).collect()),
            ..Default::default()
        };
        match draft.validate(None) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_nearest_layer_sets_the_digest() {
        let policy = NoisePolicy {
            digest: DigestFrequency::Weekly,
            digest_by_role: BTreeMap::from([(Role::Support, DigestFrequency::Off)]),
            ..Default::default()
        };
        let sales = member("sales");
        let none = PartnerDefaults::default();
        let d = digest_decision(&sales, None, &none, &policy);
        assert_eq!(d.frequency, DigestFrequency::Weekly);
        assert!(d.reason.starts_with("the vendor's policy"), "{}", d.reason);
        let daily = PartnerDefaults { digest: Some(DigestFrequency::Daily), ..Default::default() };
        let d = digest_decision(&sales, None, &daily, &policy);
        assert_eq!(d.frequency, DigestFrequency::Daily);
        assert!(d.reason.starts_with("their partner's admin set a daily digest"), "{}", d.reason);
        let d = digest_decision(&sales, Some(DigestFrequency::Off), &daily, &policy);
        assert_eq!(
            d,
            DigestDecision {
                frequency: DigestFrequency::Off,
                reason: "the member chose no digest (each message as it comes)".into()
            }
        );
    }

    #[test]
    fn several_roles_take_the_most_immediate_digest() {
        let policy = NoisePolicy {
            digest: DigestFrequency::Weekly,
            digest_by_role: BTreeMap::from([(Role::Support, DigestFrequency::Daily)]),
            ..Default::default()
        };
        assert_eq!(policy.digest_for(member("sales;support").roles), DigestFrequency::Daily);
        assert_eq!(policy.digest_for(Roles::default()), DigestFrequency::Weekly);
        assert!(policy.roles_with(DigestFrequency::Daily).contains(Role::Support));
        assert!(!policy.roles_with(DigestFrequency::Weekly).contains(Role::Support));
    }

    #[test]
    fn must_know_is_never_capped_and_bad_policies_say_why() {
        let policy = NoisePolicy { info_cap: Some(2), action_cap: Some(5), ..Default::default() };
        assert_eq!(policy.cap(Importance::Info), Some(2));
        assert_eq!(policy.cap(Importance::Critical), None);
        let bad = NoisePolicy { window_days: 0, info_cap: Some(5000), ..Default::default() };
        let fields: Vec<String> = bad.check().iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, ["window_days", "info_cap"]);
        assert_eq!("Weekly".parse::<DigestFrequency>(), Ok(DigestFrequency::Weekly));
        assert!("hourly".parse::<DigestFrequency>().is_err());
    }
}
