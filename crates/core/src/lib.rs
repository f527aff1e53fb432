//! The Tidings domain: value types that cannot hold invalid values, entities, and the
//! rules over them. Pure: no I/O, no async, time arrives as an argument.

pub mod attestation;
pub mod attributes;
pub mod audiences;
pub mod automation;
pub mod catalog;
pub mod consent;
pub mod country;
pub mod deliveries;
pub mod email;
pub mod errors;
pub mod escalation;
pub mod evidence;
pub mod groups;
pub mod ids;
pub mod locale;
pub mod members;
pub mod messages;
pub mod noise;
pub mod obligations;
#[cfg(feature = "openapi")]
mod openapi;
pub mod page_limit;
pub mod partners;
pub mod phone;
pub mod slug;
pub mod staff;
pub mod text;
pub mod time;
pub mod timezone;
pub mod topics;
pub mod webhooks;
pub mod working_hours;

pub use attributes::{AttrKey, AttrKind, AttrValue, Attributes};
pub use catalog::{Catalog, PartnerTier, PartnerType, Region};
pub use country::Country;
pub use email::Email;
pub use errors::{FieldError, FieldErrors};
pub use groups::{GroupKey, PartnerGroup};
pub use ids::{
    GroupId, Id, MemberId, MessageId, PartnerEventId, PartnerId, SegmentId, StaffId, TokenId, TopicId, WebhookId,
};
pub use locale::Locale;
pub use members::{Member, MemberDraft, MemberProfile, MemberStatus, Role, Roles};
pub use partners::{LifecycleStage, Partner, PartnerDraft, PartnerProfile};
pub use phone::Phone;
pub use slug::Slug;
pub use staff::{Action, ActorKind, Staff, StaffRole};
pub use time::Timestamp;
pub use timezone::TimeZone;
pub use topics::{Keyed, KeyedDraft, Topic, TopicDraft, TopicKey};
