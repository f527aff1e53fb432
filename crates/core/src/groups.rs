//! A partner group: a named, static set of partners (`emea-pilot`), used by audiences.

use serde::{Deserialize, Serialize};

use crate::topics::Keyed;
use crate::{GroupId, Slug, Timestamp};

pub type GroupKey = Slug;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerGroup {
    pub id: GroupId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key: GroupKey,
    pub name: String,
    pub description: String,
    /// How many partners are in the group.
    pub partner_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PartnerGroup {
    pub fn keyed(&self) -> Keyed {
        Keyed { key: self.key.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}
