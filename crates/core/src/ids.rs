//! Typed identifiers: a `PartnerId` can never be passed where a `MemberId` is expected.
//! All are UUIDv7, so they sort by creation time (cursor pagination relies on it).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

pub struct Id<T> {
    uuid: Uuid,
    kind: PhantomData<fn() -> T>,
}

pub enum PartnerKind {}
pub enum MemberKind {}
pub enum StaffKind {}
pub enum TopicKind {}
pub enum GroupKind {}
pub enum TokenKind {}
pub enum SegmentKind {}
pub enum MessageKind {}
pub enum WebhookKind {}
pub enum PartnerEventKind {}

pub type PartnerId = Id<PartnerKind>;
pub type MemberId = Id<MemberKind>;
pub type StaffId = Id<StaffKind>;
pub type TopicId = Id<TopicKind>;
pub type GroupId = Id<GroupKind>;
pub type TokenId = Id<TokenKind>;
pub type SegmentId = Id<SegmentKind>;
pub type MessageId = Id<MessageKind>;
pub type WebhookId = Id<WebhookKind>;
pub type PartnerEventId = Id<PartnerEventKind>;

impl<T> Id<T> {
    /// A new, time-ordered identifier.
    pub fn new() -> Self {
        Self::from_uuid(Uuid::now_v7())
    }

    pub const fn from_uuid(uuid: Uuid) -> Self {
        Self { uuid, kind: PhantomData }
    }

    pub const fn as_uuid(&self) -> Uuid {
        self.uuid
    }
}

impl<T> Default for Id<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Clone for Id<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Id<T> {}
impl<T> PartialEq for Id<T> {
    fn eq(&self, other: &Self) -> bool {
        self.uuid == other.uuid
    }
}
impl<T> Eq for Id<T> {}
impl<T> PartialOrd for Id<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Id<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.uuid.cmp(&other.uuid)
    }
}
impl<T> std::hash::Hash for Id<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.uuid.hash(state)
    }
}
impl<T> fmt::Debug for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uuid)
    }
}
impl<T> fmt::Display for Id<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uuid)
    }
}
impl<T> FromStr for Id<T> {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self::from_uuid)
    }
}
impl<T> Serialize for Id<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.uuid.serialize(s)
    }
}
impl<'de, T> Deserialize<'de> for Id<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Uuid::deserialize(d).map(Self::from_uuid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_created_later_sort_after_earlier_ones() {
        let a = PartnerId::new();
        let b = PartnerId::new();
        assert!(a < b);
    }

    #[test]
    fn an_id_round_trips_through_its_text_form() {
        let a = MemberId::new();
        assert_eq!(a.to_string().parse::<MemberId>().ok(), Some(a));
        assert!("not-a-uuid".parse::<MemberId>().is_err());
    }
}
