//! An audience as an author writes it: the parts that bring members in and keep them out.
//! Stored with a message; turned into an [`super::Audience`] (and so one rule) by the app.

use serde::{Deserialize, Serialize};

use crate::{MemberId, PartnerId, SegmentId};

/// Who a message goes to. Members come in through any include and stay out through any
/// exclude; disabled members never come in, and test members only when `test_send` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudienceDraft {
    /// An audience rule written in place.
    pub rule: Option<String>,
    pub segments: Vec<SegmentId>,
    /// Partner group keys.
    pub partner_groups: Vec<String>,
    pub partners: Vec<PartnerId>,
    pub members: Vec<MemberId>,
    pub exclude_rule: Option<String>,
    pub exclude_segments: Vec<SegmentId>,
    pub exclude_partners: Vec<PartnerId>,
    pub exclude_members: Vec<MemberId>,
    pub test_send: bool,
}
