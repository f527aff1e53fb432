//! How much a message matters, and the channels that fit each level by default.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::consent::Channel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Importance {
    /// Nice to know.
    Info,
    /// Need to know: the member should act.
    Action,
    /// Must know: the member must read and acknowledge.
    Critical,
}

impl Importance {
    pub const ALL: [Self; 3] = [Self::Info, Self::Action, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Action => "action",
            Self::Critical => "critical",
        }
    }

    /// The channels a message of this importance uses unless the author chooses others.
    pub fn default_channels(self) -> &'static [Channel] {
        match self {
            Self::Info => &[Channel::Inbox],
            Self::Action => &[Channel::Inbox, Channel::Email],
            Self::Critical => &[Channel::Inbox, Channel::Popup, Channel::Email],
        }
    }

    /// The channels a message uses: the author's choice or the defaults, always with the
    /// inbox (every message lands there), in a stable order, without repeats.
    pub fn channels(self, chosen: Option<&[Channel]>) -> Vec<Channel> {
        let mut channels: Vec<Channel> = chosen.unwrap_or(self.default_channels()).to_vec();
        channels.push(Channel::Inbox);
        channels.sort();
        channels.dedup();
        channels
    }
}

impl fmt::Display for Importance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an importance; known: info (nice to know), action (need to know), critical (must know)")]
pub struct ImportanceError(String);

impl FromStr for Importance {
    type Err = ImportanceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| ImportanceError(s.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_importance_has_its_default_channels() {
        assert_eq!(Importance::Info.channels(None), [Channel::Inbox]);
        assert_eq!(Importance::Action.channels(None), [Channel::Inbox, Channel::Email]);
        assert_eq!(Importance::Critical.channels(None), [Channel::Inbox, Channel::Popup, Channel::Email]);
    }

    #[test]
    fn a_chosen_set_of_channels_always_keeps_the_inbox() {
        assert_eq!(
            Importance::Info.channels(Some(&[Channel::Slack, Channel::Slack])),
            [Channel::Inbox, Channel::Slack]
        );
        assert_eq!(Importance::Critical.channels(Some(&[])), [Channel::Inbox]);
    }
}
