//! Where a member is reached on each outside channel: the one place that says which of a
//! member's details a channel sends to. Email and SMS read the member's profile; chat
//! users and push subscriptions, when their channels come, are kept beside the member and
//! handed in here.

use crate::consent::Channel;
use crate::{Email, MemberProfile, Phone};

/// A member's address on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Email(Email),
    Phone(Phone),
}

impl Address {
    /// The address on `channel`, or `None` when the member has none there (or the
    /// channel reaches a partner's shared space, not a person).
    pub fn of(profile: &MemberProfile, channel: Channel) -> Option<Self> {
        match channel {
            // A Slack user is found by their email address.
            Channel::Email | Channel::Slack => Some(Self::Email(profile.email.clone())),
            Channel::Sms => profile.phone.clone().map(Self::Phone),
            Channel::Inbox | Channel::Popup | Channel::Teams | Channel::WebPush | Channel::Webhook => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Email(e) => e.as_str(),
            Self::Phone(p) => p.as_str(),
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
