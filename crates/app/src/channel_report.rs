//! A message's reach by channel: for each channel it went out on, the people it was sent
//! to there, the deliveries that arrived or failed, and how many of those people read and
//! acknowledged it, however they then came to it (the portal, a link, another channel).
//! Reading and acknowledging are not attributed to one channel here: that is the
//! program analytics' last-touch question.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{MessageId, PartnerId};
use tidings_store::reports::{Counts, Key};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelFunnel {
    pub channel: Channel,
    /// A partner's shared channel (Teams, Slack): one post a partner, and `people` are the
    /// members of the partners it was posted to.
    pub shared: bool,
    /// People the release sent the message to on this channel (the inbox: everyone).
    pub people: i64,
    /// Deliveries (or posts) the provider accepted, reminders included.
    pub delivered: i64,
    /// Deliveries (or posts) that bounced or failed for good.
    pub failed: i64,
    /// Of `people`, how many have read the message.
    pub read: i64,
    /// Of `people`, how many have acknowledged it.
    pub acknowledged: i64,
}

/// The rows of a report: the inbox first, then each member channel, then each shared one.
pub(crate) async fn by_channel(
    tx: &mut tidings_store::Tx,
    message: MessageId,
    counts: &HashMap<Key, Counts>,
) -> Result<Vec<ChannelFunnel>, tidings_store::Error> {
    let mut everyone = Counts::default();
    let mut people: BTreeMap<Channel, Counts> = BTreeMap::new();
    let mut statuses: BTreeMap<Channel, (i64, i64)> = BTreeMap::new();
    let mut partners: HashMap<PartnerId, Counts> = HashMap::new();
    for (key, c) in counts {
        match key {
            Key::Roles(_) => everyone += *c,
            Key::Partner(Some(p)) => *partners.entry(*p).or_default() += *c,
            Key::Channel(channel) => *people.entry(*channel).or_default() += *c,
            Key::Delivery { channel, status } => {
                let (delivered, failed) = statuses.entry(*channel).or_default();
                match status {
                    DeliveryStatus::Sent | DeliveryStatus::Delivered => *delivered += c.deliveries,
                    DeliveryStatus::Bounced | DeliveryStatus::Failed => *failed += c.deliveries,
                    _ => {}
                }
            }
            Key::Partner(None) | Key::Period(_) => {}
        }
    }
    let mut rows = vec![ChannelFunnel {
        channel: Channel::Inbox,
        shared: false,
        people: everyone.recipients,
        delivered: everyone.recipients,
        failed: 0,
        read: everyone.read,
        acknowledged: everyone.acknowledged,
    }];
    for (channel, c) in people.into_iter().filter(|(_, c)| c.recipients > 0) {
        let (delivered, failed) = statuses.get(&channel).copied().unwrap_or_default();
        rows.push(ChannelFunnel {
            channel,
            shared: false,
            people: c.recipients,
            delivered,
            failed,
            read: c.read,
            acknowledged: c.acknowledged,
        });
    }
    let mut posted: BTreeMap<Channel, Counts> = BTreeMap::new();
    let mut post_counts: BTreeMap<Channel, (i64, i64)> = BTreeMap::new();
    for (channel, partner) in tidings_store::partner_channels::posted_partners(tx, message).await? {
        *posted.entry(channel).or_default() += partners.get(&partner).copied().unwrap_or_default();
    }
    for (channel, status, n) in tidings_store::partner_channels::counts(tx, message).await? {
        let (delivered, failed) = post_counts.entry(channel).or_default();
        match status {
            DeliveryStatus::Sent | DeliveryStatus::Delivered => *delivered += n,
            DeliveryStatus::Bounced | DeliveryStatus::Failed => *failed += n,
            _ => {}
        }
    }
    for (channel, (delivered, failed)) in post_counts {
        let c = posted.get(&channel).copied().unwrap_or_default();
        rows.push(ChannelFunnel {
            channel,
            shared: true,
            people: c.recipients,
            delivered,
            failed,
            read: c.read,
            acknowledged: c.acknowledged,
        });
    }
    Ok(rows)
}
