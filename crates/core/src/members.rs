//! A member: one person at a partner, with roles, language, time zone and status.
//! As with partners, raw input is a [`MemberDraft`] that becomes a [`MemberProfile`]
//! only through `validate`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::working_hours::WorkingHours;
use crate::{Attributes, Email, FieldErrors, Locale, MemberId, PartnerId, Phone, TimeZone, Timestamp, text};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum MemberStatus {
    Active,
    /// Receives test sends only.
    Test,
    /// Never receives anything.
    Disabled,
}

impl MemberStatus {
    pub const ALL: [Self; 3] = [Self::Active, Self::Test, Self::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Test => "test",
            Self::Disabled => "disabled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a member status; known: active, test, disabled")]
pub struct MemberStatusError(String);

impl FromStr for MemberStatus {
    type Err = MemberStatusError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| MemberStatusError(s.trim().to_owned()))
    }
}
impl fmt::Display for MemberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a person does at the partner; topics are required or optional per role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Role {
    Sales,
    Marketing,
    Technical,
    Support,
    Operations,
    Finance,
    Executive,
    /// The partner's own lead for the vendor relationship: sees colleagues' acknowledgments.
    PartnerLead,
}

impl Role {
    pub const ALL: [Self; 8] = [
        Self::Sales,
        Self::Marketing,
        Self::Technical,
        Self::Support,
        Self::Operations,
        Self::Finance,
        Self::Executive,
        Self::PartnerLead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sales => "sales",
            Self::Marketing => "marketing",
            Self::Technical => "technical",
            Self::Support => "support",
            Self::Operations => "operations",
            Self::Finance => "finance",
            Self::Executive => "executive",
            Self::PartnerLead => "partner_lead",
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a role; known: sales, marketing, technical, support, operations, finance, executive, partner_lead"
)]
pub struct RoleError(String);

impl FromStr for Role {
    type Err = RoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| RoleError(s.trim().to_owned()))
    }
}
impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles, stored as a bit mask so that "has role X" is one integer test in SQL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Roles(u32);

impl Roles {
    pub fn from_bits(bits: i64) -> Self {
        let known = Role::ALL.iter().fold(0, |acc, r| acc | r.bit());
        Self(u32::try_from(bits).unwrap_or(0) & known)
    }

    pub fn bits(self) -> i64 {
        i64::from(self.0)
    }

    pub fn contains(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub fn insert(&mut self, role: Role) {
        self.0 |= role.bit();
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Parses a list such as `sales; support` (`;`, `,` or `|` between roles).
    pub fn parse_list(text: &str) -> Result<Self, RoleError> {
        let mut roles = Self::default();
        for part in text.split([';', ',', '|']).filter(|p| !p.trim().is_empty()) {
            roles.insert(part.parse()?);
        }
        Ok(roles)
    }
}

impl FromIterator<Role> for Roles {
    fn from_iter<I: IntoIterator<Item = Role>>(iter: I) -> Self {
        let mut roles = Self::default();
        iter.into_iter().for_each(|r| roles.insert(r));
        roles
    }
}
impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::as_str).collect();
        f.write_str(&names.join(";"))
    }
}
impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}
impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Role>::deserialize(d).map(|v| v.into_iter().collect())
    }
}
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Roles {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new().items(<Role as utoipa::PartialSchema>::schema()).into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Roles {}

/// Everything about a member that a user or an import may set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberProfile {
    pub partner_id: PartnerId,
    pub external_id: Option<String>,
    pub email: Email,
    pub phone: Option<Phone>,
    pub name: String,
    pub roles: Roles,
    pub locale: Locale,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub time_zone: TimeZone,
    /// When they may be chased, in their time zone (`None`: their partner's).
    pub working_hours: Option<WorkingHours>,
    pub status: MemberStatus,
    pub attributes: Attributes,
    pub last_seen_at: Option<Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub id: MemberId,
    #[serde(flatten)]
    pub profile: MemberProfile,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Raw member input; overlays a stored member, and an empty string clears an optional field.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberDraft {
    pub partner_id: Option<PartnerId>,
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Replaces the member's roles.
    pub roles: Option<Vec<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// Such as `mon-fri 09:00-17:00`; "" for their partner's.
    pub working_hours: Option<String>,
    pub status: Option<String>,
    /// Merged into the existing attributes: a key set to null or "" is removed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
    /// RFC 3339 time or date of the member's last activity.
    pub last_seen_at: Option<String>,
}

pub const NAME_MAX: usize = 200;
pub const EXTERNAL_ID_MAX: usize = 128;

impl MemberDraft {
    /// Validates the draft laid over `base` (the stored member, or nothing when creating).
    pub fn validate(&self, base: Option<&MemberProfile>) -> Result<MemberProfile, FieldErrors> {
        let mut errors = FieldErrors::new();
        let partner_id = self.partner_id.or(base.map(|b| b.partner_id));
        if partner_id.is_none() {
            errors.add("partner_id", "is required");
        }
        let external_id = match &self.external_id {
            Some(v) => errors.check("external_id", text::identifier(v, EXTERNAL_ID_MAX)).flatten(),
            None => base.and_then(|b| b.external_id.clone()),
        };
        let email = match (&self.email, base) {
            (Some(v), _) => errors.check("email", Email::parse(v)),
            (None, Some(b)) => Some(b.email.clone()),
            (None, None) => errors.check("email", Email::parse("")),
        };
        let phone = match &self.phone {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("phone", Phone::parse(v)),
            None => base.and_then(|b| b.phone.clone()),
        };
        let name = match &self.name {
            Some(v) => errors.check("name", text::identifier(v, NAME_MAX)).flatten().unwrap_or_default(),
            None => base.map(|b| b.name.clone()).unwrap_or_default(),
        };
        let roles = match &self.roles {
            Some(list) => errors.check("roles", Roles::parse_list(&list.join(";"))),
            None => Some(base.map(|b| b.roles).unwrap_or_default()),
        };
        let locale = match &self.locale {
            Some(v) if v.trim().is_empty() => Some(Locale::default()),
            Some(v) => errors.check("locale", Locale::parse(v)),
            None => Some(base.map(|b| b.locale.clone()).unwrap_or_default()),
        };
        let time_zone = match &self.time_zone {
            Some(v) if v.trim().is_empty() => Some(TimeZone::default()),
            Some(v) => errors.check("time_zone", TimeZone::parse(v)),
            None => Some(base.map(|b| b.time_zone.clone()).unwrap_or_default()),
        };
        let working_hours = match &self.working_hours {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("working_hours", v.parse()),
            None => base.and_then(|b| b.working_hours),
        };
        let status = match &self.status {
            Some(v) if !v.trim().is_empty() => errors.check("status", v.parse()),
            _ => Some(base.map_or(MemberStatus::Active, |b| b.status)),
        };
        let mut attributes = base.map(|b| b.attributes.clone()).unwrap_or_default();
        if let Some(patch) = &self.attributes {
            errors.check("attributes", attributes.merge_json(patch));
        }
        let last_seen_at = match &self.last_seen_at {
            Some(v) if v.trim().is_empty() => None,
            Some(v) => errors.check("last_seen_at", Timestamp::parse(v)),
            None => base.and_then(|b| b.last_seen_at),
        };
        errors.finish(|| {
            Some(MemberProfile {
                partner_id: partner_id?,
                external_id,
                email: email?,
                phone,
                name,
                roles: roles?,
                locale: locale?,
                time_zone: time_zone?,
                working_hours,
                status: status?,
                attributes,
                last_seen_at,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_bit_mask_and_text() {
        let roles = Roles::parse_list("Support; sales|partner-lead").unwrap_or_default();
        assert_eq!(roles.to_string(), "sales;support;partner_lead");
        assert_eq!(Roles::from_bits(roles.bits()), roles);
        assert!(Roles::parse_list("sales;ceo").is_err());
    }

    #[test]
    fn a_new_member_needs_a_partner_and_an_email_and_gets_defaults() {
        let errors = MemberDraft::default().validate(None).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["partner_id", "email"]);

        let draft = MemberDraft {
            partner_id: Some(PartnerId::new()),
            email: Some("Lee@Example.com".into()),
            ..Default::default()
        };
        let member = draft.validate(None).ok();
        assert_eq!(member.as_ref().map(|m| m.locale.as_str()), Some("en"));
        assert_eq!(member.as_ref().map(|m| m.time_zone.as_str()), Some("UTC"));
        assert_eq!(member.map(|m| m.status), Some(MemberStatus::Active));
    }

    #[test]
    fn invalid_phone_locale_zone_and_status_are_each_named() {
        let draft = MemberDraft {
            partner_id: Some(PartnerId::new()),
            email: Some("lee@example.com".into()),
            phone: Some("0301234".into()),
            locale: Some("klingon!".into()),
            time_zone: Some("Mars/Olympus".into()),
            status: Some("paused".into()),
            ..Default::default()
        };
        let errors = draft.validate(None).err().unwrap_or_default();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phone", "locale", "time_zone", "status"]);
    }
}
