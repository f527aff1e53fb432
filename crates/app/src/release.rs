//! Releasing a message: it becomes `sending` (frozen), then its audience is fanned out
//! into recipient rows (the inbox) and delivery rows (email), one range of member ids per
//! transaction. The cursor is saved with each batch, so a process that stops mid-release
//! is resumed by the scheduler and nobody is queued twice. Test sends are released copies
//! whose audience reaches only test members.

use serde::Serialize;
use tidings_channels::posts::takes_posts;
use tidings_core::consent::Channel;
use tidings_core::messages::{Message, MessageState};
use tidings_core::webhooks::EventType;
use tidings_core::{Action, MessageId};
use tidings_store::deliveries::{self, Release};
use tidings_store::webhooks::Scope;
use tidings_store::{messages as store, topics};
use tracing::Instrument;

use crate::audiences::build;
use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

/// Member ids per release transaction: large enough that a million members take a
/// hundred short transactions, small enough that acknowledgments and opens wait little
/// for SQLite's single writer.
pub const BATCH: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReleaseReport {
    pub message: Message,
    /// Members whose inbox received the message.
    pub recipients: u64,
    /// Deliveries queued on outside channels (email).
    pub deliveries: u64,
    /// Channels of the message that no provider serves yet, so nothing was queued there.
    pub channels_not_served: Vec<Channel>,
}

/// Releases a draft or scheduled message now.
pub async fn release(app: &App, caller: &Caller, id: MessageId) -> Result<ReleaseReport, AppError> {
    caller.require(Action::Compose, "release messages")?;
    let mut tx = app.db.begin().await?;
    let message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    message.state.release()?;
    // A scheduled message was approved, if it needed to be, when it was scheduled.
    if message.state == MessageState::Draft {
        crate::approvals::check_approved(&mut tx, &message).await?;
    }
    // The audience must still build (a segment may have been deleted since it was written).
    build(app, &mut tx, &message.audience).await?;
    store::start_release(&mut tx, id, message.state, app.clock.now()).await?;
    crate::evidence::record::released(&mut tx, id, app.clock.now()).await?;
    audit::entry(caller, "message.release", id.as_uuid()).before(&message.state).write(app, &mut tx).await?;
    tx.commit().await?;
    fan_out(app, id).await
}

/// Why a test send found nobody, and the two ways on.
pub const NO_TEST_MEMBERS: &str = "no test member matches this message's audience, so a test send would reach nobody. \
     Make a member a test member (status \"test\": a status column in a member import, or PATCH /api/v1/members/{id}) \
     whose profile matches the audience, or send a test email to yourself or another staff person instead";

/// Sends a copy of the message to the test members of its audience; the message itself
/// stays as it is. Refused when no test member matches.
pub async fn test_send(app: &App, caller: &Caller, id: MessageId) -> Result<ReleaseReport, AppError> {
    caller.require(Action::Compose, "send tests")?;
    let mut tx = app.db.begin().await?;
    let original = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let now = app.clock.now();
    let mut copy = crate::messages::draft_copy(original, caller, now);
    copy.audience.test_send = true;
    let tests = build(app, &mut tx, &copy.audience).await?.to_rule();
    if tidings_store::audiences::count_members(&mut tx, &tests, now).await? == 0 {
        return Err(AppError::Conflict(NO_TEST_MEMBERS.into()));
    }
    store::insert(&mut tx, &copy).await?;
    store::start_release(&mut tx, copy.id, MessageState::Draft, now).await?;
    crate::evidence::record::released(&mut tx, copy.id, now).await?;
    audit::entry(caller, "message.test_send", id.as_uuid())
        .after(&serde_json::json!({ "test_copy": copy.id }))
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    fan_out(app, copy.id).await
}

/// Fans a released message out from where its release stands.
pub(crate) async fn fan_out(app: &App, id: MessageId) -> Result<ReleaseReport, AppError> {
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await?;
    let topic = topics::get(&mut tx, message.topic_id).await?;
    let rule = build(app, &mut tx, &message.audience).await?.to_rule();
    let noise = crate::noise::for_release(&mut tx, &message, app.clock.now()).await?;
    drop(tx);
    let channels = message.effective_channels();
    // Slack DMs need the bot; without it a message naming Slack still posts to partners'
    // bound Slack channels.
    let outside: Vec<Channel> =
        channels.iter().copied().filter(|c| served(*c) && (app.channels.provides(*c) || !takes_posts(*c))).collect();
    // A test send reaches test members only, never a partner's shared channel.
    let posts: Vec<Channel> = if message.audience.test_send {
        Vec::new()
    } else {
        channels.iter().copied().filter(|c| takes_posts(*c)).collect()
    };
    let channels_not_served = channels
        .iter()
        .copied()
        .filter(|c| !matches!(c, Channel::Inbox | Channel::Popup) && !served(*c) && !takes_posts(*c))
        .collect();
    let now = app.clock.now();
    // Quiet hours: outside the inbox, only a must-know message (or a test send, which its
    // author waits for) reaches people outside the working hours their partner or they set.
    let quiet = if message.importance == tidings_core::messages::Importance::Critical || message.audience.test_send {
        Vec::new()
    } else {
        crate::chase::quiet_hours(app, now).await?
    };
    let release = Release {
        message_id: id,
        rule: &rule,
        topic_key: &topic.key,
        policies: &topic.policies,
        channels: &outside,
        posts: &posts,
        now,
        slots: &quiet,
        noise: noise.as_noise(),
    };
    let (mut recipients, mut queued) = (0, 0);
    loop {
        let mut tx = app.db.begin().await?;
        let (cursor, done) = deliveries::release_progress(&mut tx, id).await?;
        if done {
            tx.rollback().await?;
            break;
        }
        let batch = deliveries::release_batch(&mut tx, &release, cursor, BATCH)
            .instrument(tracing::info_span!("release_batch", message = %id, after = ?cursor))
            .await?;
        if message.importance == tidings_core::messages::Importance::Critical && !message.audience.test_send {
            inbox_leaves(&mut tx, id, cursor, batch.cursor, release.now).await?;
        }
        if let Some(ask) = message.acknowledgment.as_ref().filter(|_| batch.done) {
            tidings_store::obligations::start(&mut tx, id, &ask.obligation).await?;
            if !message.audience.test_send {
                start_ladder(&mut tx, id, ask.ladder.as_ref(), topic.id, release.now).await?;
            }
        }
        if batch.done && !message.audience.test_send {
            let data = serde_json::json!({
                "message_id": id, "title": message.title(), "importance": message.importance,
                "channels": channels, "acknowledgment_due_at": message.acknowledgment.as_ref()
                    .and_then(|a| a.due_at).map(|d| d.to_rfc3339()),
            });
            let (event, scope) = (EventType::MessageReleased, Scope::PartnersReached(id));
            crate::webhooks::emit(&mut tx, event, scope, data, release.now).await?;
        }
        tx.commit().await?;
        recipients += batch.recipients;
        queued += batch.deliveries;
        if batch.done {
            break;
        }
    }
    tracing::info!(message = %id, recipients, deliveries = queued, "message released");
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await?;
    Ok(ReleaseReport { message, recipients, deliveries: queued, channels_not_served })
}

/// The outside channels Tidings sends today: one the channels set lays out, with a rule
/// for who may be reached on it.
fn served(channel: Channel) -> bool {
    tidings_channels::Channels::can_send(channel) && deliveries::fans_out(channel)
}

/// The scheduler's turn: releases scheduled messages whose time has come, resumes
/// releases a stopped process left unfinished, and marks fully worked messages sent.
pub async fn tick(app: &App) -> Result<(), AppError> {
    let now = app.clock.now();
    let mut tx = app.db.read().await?;
    let due = store::due(&mut tx, now).await?;
    let unfinished = store::unfinished_releases(&mut tx).await?;
    drop(tx);
    for id in due {
        let mut tx = app.db.begin().await?;
        let scheduled_by = tidings_store::audit::request_of(&mut tx, id.as_uuid(), "message.schedule").await?;
        match store::start_release(&mut tx, id, MessageState::Scheduled, now).await {
            Ok(()) => {
                crate::evidence::record::released(&mut tx, id, now).await?;
                tx.commit().await?
            }
            // Another process released it first.
            Err(tidings_store::Error::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
        // The release carries the id of the request that scheduled it, so its log lines
        // and the request's can be put side by side.
        let span = tracing::info_span!("release", message = %id, request_id = scheduled_by.as_deref().unwrap_or(""));
        if let Err(e) = fan_out(app, id).instrument(span).await {
            tracing::error!(message = %id, error = %e, "a scheduled release failed; it is retried on the next tick");
        }
    }
    for id in unfinished {
        if let Err(e) = fan_out(app, id).await {
            tracing::error!(message = %id, error = %e, "resuming a release failed; it is retried on the next tick");
        }
    }
    let mut tx = app.db.begin().await?;
    let finished = deliveries::finish_sent(&mut tx, app.clock.now()).await?;
    tx.commit().await?;
    for id in finished {
        tracing::info!(message = %id, "message sent: every delivery has an outcome");
    }
    Ok(())
}

/// Copies the message's escalation ladder (its own, else its topic's) onto it, so later
/// edits of the ladder leave this chase as it was released.
async fn start_ladder(
    tx: &mut tidings_store::Tx,
    id: MessageId,
    own: Option<&tidings_core::Slug>,
    topic: tidings_core::TopicId,
    now: tidings_core::Timestamp,
) -> Result<(), AppError> {
    let key = match own {
        Some(key) => Some(key.clone()),
        None => tidings_store::ladders::of_topic(tx, topic).await?,
    };
    let Some(key) = key else { return Ok(()) };
    match tidings_store::ladders::get(tx, &key).await {
        Ok(ladder) => Ok(tidings_store::ladders::start(tx, id, &ladder, now).await?),
        Err(tidings_store::Error::NotFound) => {
            tracing::warn!(message = %id, ladder = %key, "the message's escalation ladder no longer exists: nobody is chased");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// A must-know message's copies put in this batch's inboxes, each a leaf of the evidence
/// log in the batch's transaction.
async fn inbox_leaves(
    tx: &mut tidings_store::Tx,
    id: MessageId,
    after: Option<tidings_core::MemberId>,
    upto: Option<tidings_core::MemberId>,
    now: tidings_core::Timestamp,
) -> Result<(), AppError> {
    use crate::evidence::record::{Delivery, delivered_salted};
    let copies = tidings_store::evidence::salts_of_copies(tx, id, after, upto).await?;
    let leaves: Vec<(Delivery, [u8; 32])> = copies
        .into_iter()
        .map(|(member, salt)| {
            let delivery = Delivery {
                message: id,
                member,
                channel: Channel::Inbox,
                purpose: tidings_core::deliveries::Purpose::Initial,
                outcome: tidings_core::evidence::facts::DeliveryOutcome::InInbox,
            };
            (delivery, salt)
        })
        .collect();
    delivered_salted(tx, &leaves, now).await
}
