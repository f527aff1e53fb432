//! A partner: the organization that sells the vendor's products (distributor, reseller...).
//! Input arrives as a [`PartnerDraft`] of raw text (API body, CSV row) and becomes a
//! [`PartnerProfile`] only through `validate`, which reports every bad field at once.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::working_hours::WorkingHours;
use crate::{
    Attributes, Catalog, Country, Email, FieldErrors, GroupKey, PartnerId, PartnerTier, PartnerType, Region, Slug,
    Timestamp, text,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum LifecycleStage {
    Prospect,
    Onboarding,
    Active,
    AtRisk,
    Dormant,
    Churned,
}

impl LifecycleStage {
    pub const ALL: [Self; 6] =
        [Self::Prospect, Self::Onboarding, Self::Active, Self::AtRisk, Self::Dormant, Self::Churned];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prospect => "prospect",
            Self::Onboarding => "onboarding",
            Self::Active => "active",
            Self::AtRisk => "at_risk",
            Self::Dormant => "dormant",
            Self::Churned => "churned",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a lifecycle stage; known: prospect, onboarding, active, at_risk, dormant, churned")]
pub struct LifecycleStageError(String);

impl FromStr for LifecycleStage {
    type Err = LifecycleStageError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| LifecycleStageError(s.trim().to_owned()))
    }
}
impl fmt::Display for LifecycleStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything about a partner that a user may set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerProfile {
    pub external_id: Option<String>,
    pub name: String,
    pub partner_type: PartnerType,
    pub tier: PartnerTier,
    pub region: Option<Region>,
    pub country: Option<Country>,
    pub lifecycle_stage: LifecycleStage,
    pub attributes: Attributes,
    pub groups: BTreeSet<GroupKey>,
    /// The email of the vendor's staff member who manages this partner.
    pub partner_manager: Option<Email>,
    /// When its people may be chased, in each one's time zone, unless they set their own
    /// (`None`: the instance's default).
    pub working_hours: Option<WorkingHours>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Partner {
    pub id: PartnerId,
    #[serde(flatten)]
    pub profile: PartnerProfile,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Raw partner input. Every field is optional so that a draft can overlay an existing
/// partner (PATCH, re-import); an empty string clears an optional field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerDraft {
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub partner_type: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// Merged into the existing attributes: a key set to null or "" is removed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
    /// Partner group keys; replaces the partner's groups.
    pub groups: Option<Vec<String>>,
    /// The email of a staff member.
    pub partner_manager: Option<String>,
    /// Such as `mon-fri 09:00-17:00`; "" for the instance's default.
    pub working_hours: Option<String>,
}

pub const NAME_MAX: usize = 200;
pub const EXTERNAL_ID_MAX: usize = 128;

impl PartnerDraft {
    /// Validates the draft laid over `base` (the stored partner, or nothing when creating).
    pub fn validate(&self, base: Option<&PartnerProfile>, catalog: &Catalog) -> Result<PartnerProfile, FieldErrors> {
        let mut errors = FieldErrors::new();
        let external_id = match &self.external_id {
            Some(v) => errors.check("external_id", text::identifier(v, EXTERNAL_ID_MAX)).flatten(),
            None => base.and_then(|b| b.external_id.clone()),
        };
        let name = match (&self.name, base) {
            (Some(v), _) => errors.check("name", text::required(v, NAME_MAX)),
            (None, Some(b)) => Some(b.name.clone()),
            (None, None) => errors.check("name", Err::<String, _>(text::TextError::Missing)),
        };
        let partner_type = match (&self.partner_type, base) {
            (Some(v), _) => errors.check("partner_type", catalog.partner_type(v)),
            (None, Some(b)) => Some(b.partner_type.clone()),
            (None, None) => errors.check("partner_type", Err::<PartnerType, _>(text::TextError::Missing)),
        };
        let tier = match (&self.tier, base) {
            (Some(v), _) => errors.check("tier", catalog.partner_tier(v)),
            (None, Some(b)) => Some(b.tier.clone()),
            (None, None) => catalog.partner_tiers.last().cloned().map(PartnerTier::stored),
        };
        let region = match &self.region {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("region", catalog.region(v)),
            None => base.and_then(|b| b.region.clone()),
        };
        let country = match &self.country {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("country", Country::parse(v)),
            None => base.and_then(|b| b.country.clone()),
        };
        let lifecycle_stage = match &self.lifecycle_stage {
            Some(v) if !v.trim().is_empty() => errors.check("lifecycle_stage", v.parse()),
            _ => Some(base.map_or(LifecycleStage::Onboarding, |b| b.lifecycle_stage)),
        };
        let mut attributes = base.map(|b| b.attributes.clone()).unwrap_or_default();
        if let Some(patch) = &self.attributes {
            errors.check("attributes", attributes.merge_json(patch));
        }
        let groups = match &self.groups {
            Some(keys) => parse_keys(keys, "groups", &mut errors),
            None => base.map(|b| b.groups.clone()).unwrap_or_default(),
        };
        let partner_manager = match &self.partner_manager {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("partner_manager", Email::parse(v)),
            None => base.and_then(|b| b.partner_manager.clone()),
        };
        let working_hours = match &self.working_hours {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("working_hours", v.parse()),
            None => base.and_then(|b| b.working_hours),
        };
        errors.finish(|| {
            Some(PartnerProfile {
                external_id,
                name: name?,
                partner_type: partner_type?,
                tier: tier?,
                region,
                country,
                lifecycle_stage: lifecycle_stage?,
                attributes,
                groups,
                partner_manager,
                working_hours,
            })
        })
    }
}

fn parse_keys(keys: &[String], field: &str, errors: &mut FieldErrors) -> BTreeSet<Slug> {
    keys.iter().filter(|k| !k.trim().is_empty()).filter_map(|k| errors.check(field, Slug::parse(k))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(name: &str, partner_type: &str) -> PartnerDraft {
        PartnerDraft { name: Some(name.into()), partner_type: Some(partner_type.into()), ..Default::default() }
    }

    #[test]
    fn a_minimal_partner_gets_the_lowest_tier_and_onboarding_stage() {
        let profile = draft("Acme", "reseller").validate(None, &Catalog::default());
        let profile = profile.ok();
        assert_eq!(profile.as_ref().map(|p| p.tier.as_str()), Some("registered"));
        assert_eq!(profile.map(|p| p.lifecycle_stage), Some(LifecycleStage::Onboarding));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let mut d = draft("", "wholesaler");
        d.country = Some("Germany".into());
        d.lifecycle_stage = Some("sleeping".into());
        let errors = d.validate(None, &Catalog::default()).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "partner_type", "country", "lifecycle_stage"]);
    }

    #[test]
    fn a_draft_overlays_the_stored_partner_and_empty_text_clears() {
        let catalog = Catalog::default();
        let mut d = draft("Acme", "reseller");
        d.region = Some("emea".into());
        d.country = Some("de".into());
        let base = d.validate(None, &catalog).ok();
        let patch = PartnerDraft { region: Some(String::new()), tier: Some("Growth".into()), ..Default::default() };
        let next = patch.validate(base.as_ref(), &catalog).ok();
        assert_eq!(next.as_ref().map(|p| p.region.is_none()), Some(true));
        assert_eq!(next.as_ref().and_then(|p| p.country.as_ref()).map(Country::as_str), Some("DE"));
        assert_eq!(next.map(|p| p.tier.to_string()), Some("growth".into()));
    }
}
