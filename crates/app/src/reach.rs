//! Who a message will reach on each of its channels, before it goes: the members who take
//! its topic (the inbox), how many of them each outside channel reaches and why the rest
//! are not reached, and how many of the partners reached have a Teams or Slack channel
//! bound for the partner posts.

use serde::Serialize;
use tidings_channels::posts::takes_posts;
use tidings_core::consent::Channel;
use tidings_core::messages::Message;
use tidings_core::{Action, MessageId, Timestamp};
use tidings_store::deliveries::{self, Release};
use tidings_store::{Tx, messages as store, topics};

use crate::audiences::build;
use crate::error::not_found;
use crate::{App, AppError, Caller};

/// What one channel reaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelReach {
    pub channel: Channel,
    /// `members`, or `partner_channels` for posts to partners' shared channels.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub unit: &'static str,
    pub reached: i64,
    /// Of how many: the members who take the topic, or the partners they belong to.
    pub out_of: i64,
    /// Why the rest are not reached, when some are not.
    pub why_not: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reach {
    /// Members of the audience who take the message's topic: its inbox copies.
    pub members: i64,
    /// The partners those members belong to.
    pub partners: i64,
    pub channels: Vec<ChannelReach>,
    /// Members who take this nice-to-know message in their digest email instead of its
    /// channels; `null` when nobody is on a digest or the message is not nice to know.
    pub held_for_digest: Option<i64>,
    /// Members a frequency cap holds back to the inbox; `null` when no cap applies.
    pub capped: Option<i64>,
}

/// Who the message will reach on each channel (staff who read the directory).
pub async fn reach(app: &App, caller: &Caller, id: MessageId) -> Result<Reach, AppError> {
    caller.require(Action::ReadDirectory, "see whom a message reaches")?;
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let rule = build(app, &mut tx, &message.audience).await?.to_rule();
    of_message(app, &mut tx, &message, &rule, app.clock.now()).await
}

/// Why members of the audience are not reached on `channel`.
fn why_members_not_reached(app: &App, channel: Channel, counts: &deliveries::ReachCounts) -> String {
    if !app.channels.provides(channel) {
        return format!("no {channel} provider is configured");
    }
    let mut held = Vec::new();
    if let Some(n) = counts.digest.filter(|n| *n > 0) {
        held.push(format!("{n} take nice-to-know messages in their digest"));
    }
    if let Some(n) = counts.capped.filter(|n| *n > 0) {
        held.push(format!("{n} reached the frequency cap"));
    }
    let held = if held.is_empty() { String::new() } else { format!("{}; ", held.join(", ")) };
    let why = match channel {
        Channel::Email => "the others have not opted in to email, turned it off, or their address bounced",
        Channel::Sms => "the others have no phone number, have not opted in to SMS, or turned it off",
        Channel::Slack => "the others turned Slack off, or no Slack user has their address",
        Channel::WebPush => "the others have not asked for notifications in a browser (portal preferences)",
        _ => "the others cannot be reached on it",
    };
    format!("{held}{why}")
}

pub(crate) async fn of_message(
    app: &App,
    tx: &mut Tx,
    message: &Message,
    rule: &tidings_core::audiences::Rule,
    now: Timestamp,
) -> Result<Reach, AppError> {
    let topic = topics::get(tx, message.topic_id).await?;
    let channels = message.effective_channels();
    let outside: Vec<Channel> = channels
        .iter()
        .copied()
        .filter(|c| tidings_channels::Channels::can_send(*c) && deliveries::fans_out(*c))
        .filter(|c| app.channels.provides(*c) || !takes_posts(*c))
        .collect();
    let posts: Vec<Channel> = if app.channels.poster().is_some() {
        channels.iter().copied().filter(|c| takes_posts(*c)).collect()
    } else {
        Vec::new()
    };
    let noise = crate::noise::for_release(tx, message, now).await?;
    let release = Release {
        message_id: message.id,
        rule,
        topic_key: &topic.key,
        policies: &topic.policies,
        channels: &outside,
        posts: &posts,
        now,
        slots: &[],
        noise: noise.as_noise(),
    };
    let counts = deliveries::reach(tx, &release).await?;
    let (members, by_channel) = (counts.members, counts.channels.clone());
    let (partners, by_post) = deliveries::posts_reach(tx, &release).await?;
    let mut reach = Vec::new();
    for (channel, reached) in by_channel {
        let why_not = (reached < members).then(|| why_members_not_reached(app, channel, &counts));
        reach.push(ChannelReach { channel, unit: "members", reached, out_of: members, why_not });
    }
    for (channel, reached) in by_post {
        let why_not = (reached < partners)
            .then(|| format!("the other partners have no {} channel bound", crate::partner_channels::service(channel)));
        reach.push(ChannelReach { channel, unit: "partner_channels", reached, out_of: partners, why_not });
    }
    Ok(Reach { members, partners, channels: reach, held_for_digest: counts.digest, capped: counts.capped })
}
