//! May this message reach this member on this channel? One pure function answers, with
//! the reason when it does not; every sender and every explanation asks it.
//!
//! The rules: a disabled member is never reached. A topic is required, optional and on by
//! default, or optional and off by default, per role (a member with several roles takes
//! the strongest); a required topic cannot be turned off. Email and SMS are opt-in
//! (GDPR): a member is opted out until a consent record says otherwise, and a suppressed
//! address (hard bounce, complaint) is never mailed. Other channels are on unless the
//! member turned them off, and need an address where the channel does.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{MemberProfile, MemberStatus, Role, Roles, Slug};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Channel {
    Inbox,
    Popup,
    Email,
    Slack,
    Teams,
    Sms,
    WebPush,
    Webhook,
}

impl Channel {
    pub const ALL: [Self; 8] =
        [Self::Inbox, Self::Popup, Self::Email, Self::Slack, Self::Teams, Self::Sms, Self::WebPush, Self::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inbox => "inbox",
            Self::Popup => "popup",
            Self::Email => "email",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Sms => "sms",
            Self::WebPush => "web_push",
            Self::Webhook => "webhook",
        }
    }

    /// The channels a member chooses per topic: the inbox is always on, and a partner's
    /// shared channels and webhooks are the partner's, not one member's.
    pub const PER_TOPIC: [Self; 4] = [Self::Email, Self::Sms, Self::Slack, Self::WebPush];

    /// Channels that need the member's explicit opt-in.
    pub fn needs_opt_in(self) -> bool {
        matches!(self, Self::Email | Self::Sms)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a channel; known: inbox, popup, email, slack, teams, sms, web_push, webhook")]
pub struct ChannelError(String);

impl FromStr for Channel {
    type Err = ChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|c| c.as_str() == wanted).ok_or_else(|| ChannelError(s.trim().to_owned()))
    }
}

/// How a topic applies to a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TopicPolicy {
    /// Off unless the member turns it on.
    OptionalOff,
    /// On unless the member turns it off.
    OptionalOn,
    /// Always on: the member cannot turn it off.
    Required,
}

/// A topic's policy for each role; roles not listed take `default`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicPolicies {
    pub default: TopicPolicy,
    #[serde(default)]
    pub by_role: BTreeMap<Role, TopicPolicy>,
}

impl Default for TopicPolicies {
    fn default() -> Self {
        Self { default: TopicPolicy::OptionalOn, by_role: BTreeMap::new() }
    }
}

impl TopicPolicies {
    /// The strongest policy among the member's roles (the default when they have none).
    pub fn for_roles(&self, roles: Roles) -> TopicPolicy {
        roles.iter().map(|r| self.by_role.get(&r).copied().unwrap_or(self.default)).max().unwrap_or(self.default)
    }
}

/// What the member chose, and what consent records say.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preferences {
    /// Topic keys the member turned on or off; absent means the policy's default.
    #[serde(default)]
    pub topics: BTreeMap<Slug, bool>,
    /// Channels the member turned off (or back on); absent means on.
    #[serde(default)]
    pub channels: BTreeMap<Channel, bool>,
    /// Per topic, the channels (of `Channel::PER_TOPIC`) the member turned off for it; a
    /// channel absent here follows `channels`.
    #[serde(default)]
    pub topic_channels: BTreeMap<Slug, BTreeMap<Channel, bool>>,
    /// The latest consent record for email says yes.
    #[serde(default)]
    pub email_opted_in: bool,
    #[serde(default)]
    pub sms_opted_in: bool,
    /// The address bounced hard or complained: never mail it.
    #[serde(default)]
    pub email_suppressed: bool,
    /// The member's own digest choice; `None`: their partner's default, else the vendor's.
    #[serde(default)]
    pub digest: Option<crate::noise::DigestFrequency>,
    /// What the member's partner set for its people (read with the member's choices; set
    /// by the partner's admin, never through a member's preferences).
    #[serde(default, skip_deserializing)]
    pub partner: crate::noise::PartnerDefaults,
}

/// The topic of the message being sent.
#[derive(Clone, Copy, Debug)]
pub struct TopicRef<'a> {
    pub key: &'a Slug,
    pub policies: &'a TopicPolicies,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decision {
    pub allowed: bool,
    /// Why, in words a person understands.
    pub reason: String,
}

impl Decision {
    fn yes(reason: impl Into<String>) -> Self {
        Self { allowed: true, reason: reason.into() }
    }

    fn no(reason: impl Into<String>) -> Self {
        Self { allowed: false, reason: reason.into() }
    }
}

/// Whether the member wants messages on this topic at all, and why: the vendor's policy
/// for their roles when it requires the topic, else the member's choice, else their
/// partner's default for its people, else the vendor's default.
pub fn topic_decision(member: &MemberProfile, prefs: &Preferences, topic: TopicRef<'_>) -> Decision {
    let policy = topic.policies.for_roles(member.roles);
    let choice = prefs.topics.get(topic.key).copied();
    let partner = prefs.partner.topics.get(topic.key).copied();
    match (policy, choice, partner) {
        (TopicPolicy::Required, _, _) => {
            Decision::yes(format!("topic {} is required for the member's role", topic.key))
        }
        (_, Some(true), _) => Decision::yes(format!("the member turned topic {} on", topic.key)),
        (_, Some(false), _) => Decision::no(format!("the member turned topic {} off", topic.key)),
        (_, None, Some(true)) => {
            Decision::yes(format!("their partner's admin turned topic {} on for the partner's people", topic.key))
        }
        (_, None, Some(false)) => {
            Decision::no(format!("their partner's admin turned topic {} off for the partner's people", topic.key))
        }
        (TopicPolicy::OptionalOn, None, None) => Decision::yes(format!("topic {} is on by default", topic.key)),
        (TopicPolicy::OptionalOff, None, None) => {
            Decision::no(format!("topic {} is off by default and the member has not turned it on", topic.key))
        }
    }
}

/// May a message on `topic` reach `member` on `channel`?
pub fn may_reach(member: &MemberProfile, prefs: &Preferences, topic: TopicRef<'_>, channel: Channel) -> Decision {
    if member.status == MemberStatus::Disabled {
        return Decision::no("the member is disabled");
    }
    let topic_ok = topic_decision(member, prefs, topic);
    if !topic_ok.allowed {
        return topic_ok;
    }
    let chosen = Channel::PER_TOPIC.contains(&channel);
    if chosen && prefs.channels.get(&channel) == Some(&false) {
        return Decision::no(format!("the member turned {channel} off"));
    }
    if chosen && prefs.topic_channels.get(topic.key).and_then(|c| c.get(&channel)) == Some(&false) {
        return Decision::no(format!("the member turned {channel} off for topic {}", topic.key));
    }
    match channel {
        Channel::Email if prefs.email_suppressed => {
            Decision::no("the email address is suppressed after a hard bounce or complaint")
        }
        Channel::Email if !prefs.email_opted_in => Decision::no("email is opt-in and the member has not opted in"),
        Channel::Sms if member.phone.is_none() => Decision::no("the member has no phone number"),
        Channel::Sms if !prefs.sms_opted_in => Decision::no("SMS is opt-in and the member has not opted in"),
        _ => Decision::yes(format!("{}; {channel} is open", topic_ok.reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemberDraft, PartnerId, Phone};

    fn member(roles: &str) -> MemberProfile {
        let draft = MemberDraft {
            partner_id: Some(PartnerId::new()),
            email: Some("ana@acme.example".into()),
            roles: Some(vec![roles.into()]),
            ..Default::default()
        };
        match draft.validate(None) {
            Ok(m) => m,
            Err(e) => panic!("{e}"),
        }
    }

    fn key(k: &str) -> Slug {
        match Slug::parse(k) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn policies(default: TopicPolicy, role: Option<(Role, TopicPolicy)>) -> TopicPolicies {
        TopicPolicies { default, by_role: role.into_iter().collect() }
    }

    #[test]
    fn a_required_topic_cannot_be_turned_off() {
        let support = key("support");
        let p = policies(TopicPolicy::OptionalOff, Some((Role::Support, TopicPolicy::Required)));
        let mut prefs = Preferences::default();
        prefs.topics.insert(support.clone(), false);
        let topic = TopicRef { key: &support, policies: &p };
        let d = may_reach(&member("support"), &prefs, topic, Channel::Inbox);
        assert!(d.allowed, "{}", d.reason);
        let d = may_reach(&member("sales"), &prefs, topic, Channel::Inbox);
        assert_eq!(d.reason, "the member turned topic support off");
        let d = may_reach(&member("sales"), &Preferences::default(), topic, Channel::Inbox);
        assert_eq!(d.reason, "topic support is off by default and the member has not turned it on");
    }

    #[test]
    fn the_partner_default_sits_between_the_vendor_and_the_member() {
        let news = key("announcements");
        let p = TopicPolicies { default: TopicPolicy::OptionalOff, by_role: BTreeMap::new() };
        let topic = TopicRef { key: &news, policies: &p };
        let mut prefs = Preferences::default();
        prefs.partner.topics.insert(news.clone(), true);
        assert_eq!(
            may_reach(&member("sales"), &prefs, topic, Channel::Inbox).reason,
            "their partner's admin turned topic announcements on for the partner's people; inbox is open"
        );
        prefs.topics.insert(news.clone(), false);
        assert_eq!(topic_decision(&member("sales"), &prefs, topic).reason, "the member turned topic announcements off");
        let required = policies(TopicPolicy::Required, None);
        prefs.partner.topics.insert(news.clone(), false);
        prefs.topics.clear();
        assert!(topic_decision(&member("sales"), &prefs, TopicRef { key: &news, policies: &required }).allowed);
    }

    #[test]
    fn the_strongest_policy_among_roles_applies() {
        let p = policies(TopicPolicy::OptionalOff, Some((Role::Support, TopicPolicy::Required)));
        assert_eq!(p.for_roles(Roles::parse_list("sales;support").unwrap_or_default()), TopicPolicy::Required);
        assert_eq!(p.for_roles(Roles::default()), TopicPolicy::OptionalOff);
    }

    #[test]
    fn email_is_opt_in_and_suppression_wins() {
        let news = key("announcements");
        let p = TopicPolicies::default();
        let topic = TopicRef { key: &news, policies: &p };
        let mut prefs = Preferences::default();
        assert_eq!(
            may_reach(&member("sales"), &prefs, topic, Channel::Email).reason,
            "email is opt-in and the member has not opted in"
        );
        prefs.email_opted_in = true;
        assert!(may_reach(&member("sales"), &prefs, topic, Channel::Email).allowed);
        prefs.email_suppressed = true;
        assert!(!may_reach(&member("sales"), &prefs, topic, Channel::Email).allowed);
        assert!(may_reach(&member("sales"), &prefs, topic, Channel::Inbox).allowed, "the inbox needs no opt-in");
    }

    #[test]
    fn channels_can_be_turned_off_and_sms_needs_a_phone_and_opt_in() {
        let news = key("announcements");
        let p = TopicPolicies::default();
        let topic = TopicRef { key: &news, policies: &p };
        let mut prefs = Preferences { sms_opted_in: true, ..Default::default() };
        prefs.channels.insert(Channel::Slack, false);
        assert_eq!(may_reach(&member("sales"), &prefs, topic, Channel::Slack).reason, "the member turned slack off");
        let mut with_phone = member("sales");
        assert_eq!(may_reach(&with_phone, &prefs, topic, Channel::Sms).reason, "the member has no phone number");
        with_phone.phone = Phone::parse("+4930123456").ok();
        assert!(may_reach(&with_phone, &prefs, topic, Channel::Sms).allowed);
    }

    #[test]
    fn a_channel_can_be_turned_off_for_one_topic_and_the_inbox_never() {
        let (news, recall) = (key("announcements"), key("recalls"));
        let p = TopicPolicies::default();
        let required = policies(TopicPolicy::Required, None);
        let mut prefs = Preferences::default();
        for topic in [&news, &recall] {
            prefs
                .topic_channels
                .insert(topic.clone(), BTreeMap::from([(Channel::Slack, false), (Channel::Inbox, false)]));
        }
        prefs.topic_channels.get_mut(&recall).map(|c| c.insert(Channel::Slack, true));
        let sales = member("sales");
        let on_news = TopicRef { key: &news, policies: &p };
        assert_eq!(
            may_reach(&sales, &prefs, on_news, Channel::Slack).reason,
            "the member turned slack off for topic announcements"
        );
        assert!(may_reach(&sales, &prefs, TopicRef { key: &recall, policies: &required }, Channel::Slack).allowed);
        assert!(may_reach(&sales, &prefs, on_news, Channel::Inbox).allowed, "the inbox is always on");
        prefs.channels.insert(Channel::Inbox, false);
        assert!(may_reach(&sales, &prefs, on_news, Channel::Inbox).allowed, "even when a stored choice says off");
        prefs.channels.insert(Channel::Slack, false);
        assert_eq!(
            may_reach(&sales, &prefs, TopicRef { key: &recall, policies: &p }, Channel::Slack).reason,
            "the member turned slack off",
            "a topic's choice does not reopen a channel the member closed"
        );
    }

    #[test]
    fn a_disabled_member_is_never_reached() {
        let news = key("announcements");
        let p = policies(TopicPolicy::Required, None);
        let mut m = member("sales");
        m.status = MemberStatus::Disabled;
        let d = may_reach(&m, &Preferences::default(), TopicRef { key: &news, policies: &p }, Channel::Inbox);
        assert_eq!(d, Decision::no("the member is disabled"));
    }
}
