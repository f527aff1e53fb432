//! The vendor's own vocabularies for partner type, tier and region. They are configured,
//! not free text: a value outside the list is refused with the list of known values, so
//! "Distributer" never becomes a segment of one.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::slug::Slug;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Catalog {
    pub partner_types: Vec<Slug>,
    /// From the highest tier to the lowest.
    pub partner_tiers: Vec<Slug>,
    pub regions: Vec<Slug>,
}

impl Default for Catalog {
    fn default() -> Self {
        let slugs = |list: &[&str]| list.iter().filter_map(|s| Slug::parse(s).ok()).collect();
        Self {
            partner_types: slugs(&["distributor", "reseller", "dealer", "referral", "implementation", "msp", "agency"]),
            partner_tiers: slugs(&["strategic", "growth", "standard", "registered"]),
            regions: slugs(&["amer", "latam", "emea", "apac"]),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not a known {what}; known: {known}")]
pub struct CatalogError {
    what: &'static str,
    value: String,
    known: String,
}

fn pick(list: &[Slug], what: &'static str, text: &str) -> Result<Slug, CatalogError> {
    let wanted = text.trim().to_lowercase().replace(' ', "-");
    list.iter().find(|s| s.as_str() == wanted).cloned().ok_or_else(|| CatalogError {
        what,
        value: text.trim().to_owned(),
        known: list.iter().map(Slug::as_str).collect::<Vec<_>>().join(", "),
    })
}

impl Catalog {
    pub fn partner_type(&self, text: &str) -> Result<PartnerType, CatalogError> {
        pick(&self.partner_types, "partner type", text).map(PartnerType)
    }

    pub fn partner_tier(&self, text: &str) -> Result<PartnerTier, CatalogError> {
        pick(&self.partner_tiers, "partner tier", text).map(PartnerTier)
    }

    pub fn region(&self, text: &str) -> Result<Region, CatalogError> {
        pick(&self.regions, "region", text).map(Region)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct PartnerType(Slug);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct PartnerTier(Slug);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct Region(Slug);

impl PartnerType {
    pub fn stored(slug: Slug) -> Self {
        Self(slug)
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}
impl PartnerTier {
    pub fn stored(slug: Slug) -> Self {
        Self(slug)
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}
impl Region {
    pub fn stored(slug: Slug) -> Self {
        Self(slug)
    }
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}
impl fmt::Display for PartnerType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Display for PartnerTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_matched_case_insensitively() {
        let catalog = Catalog::default();
        assert_eq!(catalog.partner_type(" Distributor ").map(|t| t.to_string()).ok(), Some("distributor".into()));
    }

    #[test]
    fn an_unknown_value_lists_the_known_ones() {
        let message = Catalog::default().partner_tier("platinum").err().map(|e| e.to_string());
        assert_eq!(
            message.as_deref(),
            Some("'platinum' is not a known partner tier; known: strategic, growth, standard, registered")
        );
    }
}
