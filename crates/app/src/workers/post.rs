//! Post workers: claim due posts to partners' shared Teams and Slack channels under a
//! lease, lay each message out in its default language (a channel is read by many, so
//! member fields are blank), post it through the partner's webhook, and record what each
//! attempt came to. Retries, backoff and kill-safety are the deliveries' own: a worker
//! that dies mid-batch leaves its posts leased until another takes them over.

use std::collections::HashMap;

use futures_util::StreamExt;
use tidings_channels::posts::PostLayout;
use tidings_core::deliveries::{DeliveryStatus, Outcome};
use tidings_core::messages::Message;
use tidings_core::messages::{self, Personalization};
use tidings_core::{MessageId, Partner, PartnerId, Timestamp};
use tidings_store::partner_channels::{self, ClaimedPost, SettledPost};
use tidings_store::{messages as message_store, partners};

use super::deliver::WorkerConfig;
use crate::{App, AppError};

/// Posts claimed per round: a release makes one a partner, so rounds are small.
const BATCH: usize = 100;
/// Posts in flight at once.
const CONCURRENCY: usize = 8;

/// One round: claims due posts, sends them, records them. Returns how many it handled.
pub async fn work_posts(app: &App, config: &WorkerConfig) -> Result<usize, AppError> {
    let now = app.clock.now();
    let lease_until = Timestamp::from_millis(now.as_millis() + config.lease.as_millis() as i64);
    let mut tx = app.db.begin().await?;
    let claimed = partner_channels::claim(&mut tx, now, lease_until, BATCH).await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let mut tx = app.db.read().await?;
    let message_ids: Vec<_> = claimed.iter().map(|c| c.message_id).collect();
    let messages = message_store::get_many(&mut tx, &message_ids).await?;
    let partner_ids: Vec<PartnerId> = claimed.iter().map(|c| c.partner_id).collect();
    let partners: HashMap<PartnerId, Partner> =
        partners::get_many(&mut tx, &partner_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    drop(tx);
    // Indices rather than references as the stream's items: the future must be Send for
    // `tokio::spawn`, which a closure over borrowed items cannot prove.
    let (claimed_ref, messages_ref, partners_ref) = (&claimed, &messages, &partners);
    let attempts: Vec<Outcome> = futures_util::stream::iter(0..claimed.len())
        .map(move |i| async move { attempt(app, &claimed_ref[i], messages_ref, partners_ref, now).await })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    record(app, &claimed, &attempts).await?;
    Ok(claimed.len())
}

async fn attempt(
    app: &App,
    c: &ClaimedPost,
    messages: &HashMap<MessageId, Message>,
    partners: &HashMap<PartnerId, Partner>,
    now: Timestamp,
) -> Outcome {
    let (Some(message), Some(partner)) = (messages.get(&c.message_id), partners.get(&c.partner_id)) else {
        return Outcome::Permanent("the message or the partner no longer exists".into());
    };
    let Some(url) = &c.url else {
        return Outcome::Permanent(format!("the partner removed its {} channel", c.channel));
    };
    if message.expires_at.is_some_and(|e| e <= now) {
        return Outcome::Permanent("the message expired before it could be posted".into());
    }
    let Some(poster) = app.channels.poster() else {
        return Outcome::Transient("posting to partners' channels is not set up".into());
    };
    let who = Personalization::of_partner(&partner.profile).for_message(message);
    let rendered = match messages::render(&message.content, &message.content.default_locale, &who) {
        Ok(r) => r,
        Err(e) => return Outcome::Permanent(format!("the message does not render: {e}")),
    };
    let Some(layout) = PostLayout::new(c.channel, message, rendered) else {
        return Outcome::Permanent(format!("{} takes no channel posts", c.channel));
    };
    let open = format!("{}/portal/messages/{}", app.public_url, message.id);
    let due = message.acknowledgment.as_ref().and_then(|a| a.due_at).map(|d| d.stated(&message.time_zone));
    poster.post(c.channel, url, &layout.body(&open, due.as_deref())).await
}

async fn record(app: &App, claimed: &[ClaimedPost], attempts: &[Outcome]) -> Result<(), AppError> {
    let now = app.clock.now();
    let settled: Vec<SettledPost<'_>> = claimed
        .iter()
        .zip(attempts)
        .map(|(c, outcome)| {
            let (status, due_at, error) = match outcome {
                Outcome::Sent { .. } => (DeliveryStatus::Sent, None, None),
                Outcome::Permanent(reason) | Outcome::Suppressed(reason) => {
                    (DeliveryStatus::Failed, None, Some(reason.as_str()))
                }
                o @ (Outcome::Transient(reason)
                | Outcome::Unknown(reason)
                | Outcome::RetryAfter { reason, .. }
                | Outcome::ProviderDown { reason, .. }) => match super::deliver::retried(app, c.attempts, o, now) {
                    Some((status, due)) => (status, Some(due), Some(reason.as_str())),
                    None => (DeliveryStatus::Failed, None, Some(reason.as_str())),
                },
            };
            SettledPost { claimed: c, status, due_at, error }
        })
        .collect();
    let mut tx = app.db.begin().await?;
    let saved = partner_channels::settle(&mut tx, &settled, now).await?;
    tx.commit().await?;
    if saved < settled.len() {
        tracing::warn!(
            lost = settled.len() - saved,
            "post outcomes not saved: their lease had run out and another worker took them over"
        );
    }
    Ok(())
}
