//! Delivery workers: claim due deliveries under a lease, check consent again at send time,
//! render and send each, and record the outcomes and events in one transaction per batch.
//! Transient failures come back later (exponential backoff with jitter) until the retry
//! limit; permanent ones are recorded with the reason. A worker that dies mid-batch
//! leaves its deliveries leased: when the lease ends another worker sends them again with
//! the same Message-ID (at-least-once; only what was in flight can arrive twice).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use futures_util::StreamExt;
use tidings_core::consent::{self, Channel, Preferences, TopicRef};
use tidings_core::deliveries::{Address, DeliveryStatus, EventKind, Outcome};
use tidings_core::messages::{self, Message, Personalization};
use tidings_core::{Locale, Member, MemberId, MessageId, Partner, PartnerId, Timestamp, Topic, TopicId};
use tidings_store::deliveries::chase::Outstanding;
use tidings_store::deliveries::{self, Claimed, Settled};
use tidings_store::events::{self, NewEvent};
use tidings_store::{consent as consent_store, members, messages as message_store, partners, suppressions, topics};
use tokio::sync::watch;

use tidings_channels::Layout;

use super::framing::{self, Framing, Wording};
use crate::{App, AppError};

#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Deliveries claimed per round.
    pub batch: usize,
    /// How long a claim lasts before another worker may take the delivery over.
    pub lease: Duration,
    /// Sends in flight at once.
    pub concurrency: usize,
    /// The pause when nothing is due.
    pub idle: Duration,
    /// Rounds run side by side in one process, so that one round's database work overlaps
    /// another's sending.
    pub loops: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            batch: 500,
            // Renewed every 20 s while a round runs (`keep_leased`): a dead worker's deliveries
            // wait a minute at most, and a slow round keeps its own.
            lease: Duration::from_secs(60),
            concurrency: 16,
            idle: Duration::from_millis(500),
            loops: 2,
        }
    }
}

/// The channels workers send on: each is a lane of its own, so that a slow provider on one
/// (an SMS API taking seconds an answer) never holds up another's deliveries.
pub fn lanes() -> Vec<Channel> {
    Channel::ALL.into_iter().filter(|c| tidings_channels::Channels::can_send(*c)).collect()
}

/// What one worker loop works on: a channel's deliveries, or posts to partners' channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Deliveries(Channel),
    Posts,
    Webhooks,
    Digests,
}

/// Runs until `stop` turns true: `config.loops` rounds side by side for email, one for each
/// other lane, one for partners' channel posts, one for webhooks and one for digests; the first email loop also runs the
/// registry's due jobs. Each finishes the round in progress before returning.
pub async fn run(app: App, config: WorkerConfig, stop: watch::Receiver<bool>) {
    let mut loops = Vec::new();
    for lane in lanes() {
        let count = if lane == Channel::Email { config.loops.max(1) } else { 1 };
        for i in 0..count {
            let runs_jobs = lane == Channel::Email && i == 0;
            loops.push(tokio::spawn(run_loop(app.clone(), config, stop.clone(), Lane::Deliveries(lane), runs_jobs)));
        }
    }
    loops.push(tokio::spawn(run_loop(app.clone(), config, stop.clone(), Lane::Posts, false)));
    loops.push(tokio::spawn(run_loop(app.clone(), config, stop.clone(), Lane::Webhooks, false)));
    loops.push(tokio::spawn(run_loop(app.clone(), config, stop.clone(), Lane::Digests, false)));
    for l in loops {
        if let Err(e) = l.await {
            tracing::error!(error = %e, "a worker loop ended abnormally");
        }
    }
}

async fn run_loop(app: App, config: WorkerConfig, mut stop: watch::Receiver<bool>, lane: Lane, runs_jobs: bool) {
    let mut cache = Cache::default();
    let mut last_jobs = None::<std::time::Instant>;
    loop {
        if *stop.borrow() {
            break;
        }
        // The registry's due times are shared by every worker; asking once a second is
        // as often as the most frequent job runs.
        if runs_jobs && last_jobs.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            if let Err(e) = crate::workers::jobs::run_due(&app).await {
                tracing::error!(error = %e, "running due jobs failed");
            }
            last_jobs = Some(std::time::Instant::now());
        }
        let round = match lane {
            Lane::Deliveries(channel) => {
                let span = tracing::debug_span!("worker_round", channel = channel.as_str());
                work_lane(&app, &config, &mut cache, channel).instrument(span).await
            }
            Lane::Posts => super::post::work_posts(&app, &config).await,
            Lane::Webhooks => super::webhook::work_webhooks(&app, &config).await,
            Lane::Digests => super::digest::work_digests(&app, &config).await,
        };
        let worked = match round {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "a delivery round failed");
                0
            }
        };
        if worked == 0 {
            tokio::select! {
                _ = tokio::time::sleep(config.idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Messages and topics do not change once sending, so a worker keeps them; and a message
/// without personalization is laid out the same for everyone of a locale on a channel.
#[derive(Default)]
pub struct Cache {
    messages: HashMap<MessageId, Arc<Message>>,
    topics: HashMap<TopicId, Arc<Topic>>,
    layouts: HashMap<(MessageId, Locale, Channel, Framing), Arc<Layout>>,
}

/// One round on every lane in turn, partners' channel posts, webhooks and digests included (tests and tools
/// that drive the queue by hand). Returns how many deliveries and posts it handled.
pub async fn work_once(app: &App, config: &WorkerConfig, cache: &mut Cache) -> Result<usize, AppError> {
    let mut worked = 0;
    for lane in lanes() {
        worked += work_lane(app, config, cache, lane).await?;
    }
    worked += super::post::work_posts(app, config).await?;
    worked += super::webhook::work_webhooks(app, config).await?;
    worked += super::digest::work_digests(app, config).await?;
    Ok(worked)
}

/// One round on one lane: claims a batch, sends it, records it. Returns how many
/// deliveries it handled.
pub async fn work_lane(app: &App, config: &WorkerConfig, cache: &mut Cache, lane: Channel) -> Result<usize, AppError> {
    let started = std::time::Instant::now();
    let now = app.clock.now();
    let lease_until = Timestamp::from_millis(now.as_millis() + config.lease.as_millis() as i64);
    let mut tx = app.db.begin().await?;
    let claimed = deliveries::claim(&mut tx, lane, now, lease_until, config.batch).await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let claimed_in = started.elapsed();
    let context = load(app, &claimed, cache).await?;
    let loaded_in = started.elapsed();
    // Indices rather than references as the stream's items: the future must be Send for
    // `tokio::spawn`, which a closure over borrowed items cannot prove.
    let (claimed_ref, context_ref) = (&claimed, &context);
    let sending = futures_util::stream::iter(0..claimed.len())
        .map(move |i| async move { (i, attempt(app, &claimed_ref[i], context_ref, now).await) })
        .buffer_unordered(config.concurrency.max(1))
        .collect::<Vec<(usize, Attempted)>>();
    let results = keep_leased(app, config, &claimed, sending).await;
    let sent_in = started.elapsed();
    record(app, &claimed, results).await?;
    metrics::histogram!("tidings_worker_round_seconds", "lane" => lane.as_str())
        .record(started.elapsed().as_secs_f64());
    tracing::debug!(
        deliveries = claimed.len(),
        claim_ms = claimed_in.as_millis() as u64,
        load_ms = (loaded_in - claimed_in).as_millis() as u64,
        send_ms = (sent_in - loaded_in).as_millis() as u64,
        record_ms = (started.elapsed() - sent_in).as_millis() as u64,
        "a delivery round"
    );
    Ok(claimed.len())
}

/// Waits for a round's sends while renewing its lease every third of the lease: a round
/// slowed down by a slow provider keeps its deliveries, so no other worker sends them
/// again meanwhile, and the lease itself can stay short, so a dead worker's batch is taken
/// over soon.
pub(super) async fn keep_leased<T>(
    app: &App,
    config: &WorkerConfig,
    claimed: &[Claimed],
    sending: impl std::future::Future<Output = T>,
) -> T {
    let every = (config.lease / 3).max(Duration::from_millis(100));
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    tokio::pin!(sending);
    loop {
        tokio::select! {
            results = &mut sending => return results,
            _ = renew.tick() => {
                let until = Timestamp::from_millis(app.clock.now().as_millis() + config.lease.as_millis() as i64);
                let renewed = async {
                    let mut tx = app.db.begin().await?;
                    deliveries::renew_lease(&mut tx, claimed, until).await?;
                    tx.commit().await?;
                    Ok::<_, AppError>(())
                };
                if let Err(e) = renewed.await {
                    tracing::warn!(error = %e, "renewing a slow round's lease failed");
                }
            }
        }
    }
}

/// Everything a batch needs, loaded with a few queries.
struct Context<'a> {
    cache: &'a Cache,
    members: HashMap<MemberId, Member>,
    partners: HashMap<PartnerId, Partner>,
    prefs: HashMap<MemberId, Preferences>,
    /// The browsers of the members with a web push delivery.
    push: HashMap<MemberId, Vec<tidings_store::push::PushSubscription>>,
    /// For the partners whose leads get a notice: who still owes.
    outstanding: HashMap<(MessageId, PartnerId), Vec<Outstanding>>,
}

async fn load<'a>(app: &App, claimed: &[Claimed], cache: &'a mut Cache) -> Result<Context<'a>, AppError> {
    let mut tx = app.db.read().await?;
    let missing: Vec<MessageId> = unique(claimed.iter().map(|c| c.message_id))
        .into_iter()
        .filter(|id| !cache.messages.contains_key(id))
        .collect();
    for (id, m) in message_store::get_many(&mut tx, &missing).await? {
        if let std::collections::hash_map::Entry::Vacant(slot) = cache.topics.entry(m.topic_id) {
            slot.insert(Arc::new(topics::get(&mut tx, m.topic_id).await?));
        }
        cache.messages.insert(id, Arc::new(m));
    }
    let People { members, partners, prefs } = people(&mut tx, claimed).await?;
    let pushed: Vec<MemberId> = unique(claimed.iter().filter(|c| c.channel == Channel::WebPush).map(|c| c.member_id));
    let push =
        if pushed.is_empty() { HashMap::new() } else { tidings_store::push::of_members(&mut tx, &pushed).await? };
    let mut outstanding = HashMap::new();
    for c in claimed.iter().filter(|c| Framing::of(c.purpose) == Framing::LeadNotice) {
        let Some(partner) = members.get(&c.member_id).map(|m| m.profile.partner_id) else { continue };
        if let std::collections::hash_map::Entry::Vacant(slot) = outstanding.entry((c.message_id, partner)) {
            slot.insert(tidings_store::deliveries::chase::outstanding(&mut tx, c.message_id, partner).await?);
        }
    }
    // Lay out once per message, locale, channel and wording where the text is the same
    // for everyone.
    for c in claimed {
        let (Some(message), Some(member)) = (cache.messages.get(&c.message_id), members.get(&c.member_id)) else {
            continue;
        };
        let framing = Framing::of(c.purpose);
        let key = (c.message_id, member.profile.locale.clone(), c.channel, framing);
        if message.content.is_personalized() || !framing.is_shared() || cache.layouts.contains_key(&key) {
            continue;
        }
        if let (Some(partner), Some(topic)) =
            (partners.get(&member.profile.partner_id), cache.topics.get(&message.topic_id))
            && let Some(Ok(layout)) =
                lay_out(app, c.channel, message, (topic, member, partner), Wording { framing, outstanding: &[] })
        {
            cache.layouts.insert(key, Arc::new(layout));
        }
    }
    Ok(Context { cache, members, partners, prefs, push, outstanding })
}

/// The people a batch of deliveries goes to: each member, their partner and their
/// preferences (with their partner's defaults), by id.
pub(super) struct People {
    pub(super) members: HashMap<MemberId, Member>,
    pub(super) partners: HashMap<PartnerId, Partner>,
    pub(super) prefs: HashMap<MemberId, Preferences>,
}

pub(super) async fn people(tx: &mut tidings_store::Tx, claimed: &[Claimed]) -> Result<People, AppError> {
    let member_ids = unique(claimed.iter().map(|c| c.member_id));
    let members: HashMap<MemberId, Member> =
        members::get_many(tx, &member_ids).await?.into_iter().map(|m| (m.id, m)).collect();
    let partner_ids = unique(members.values().map(|m| m.profile.partner_id));
    let partners: HashMap<PartnerId, Partner> =
        partners::get_many(tx, &partner_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    let prefs = consent_store::preferences_many(tx, &member_ids).await?;
    Ok(People { members, partners, prefs })
}

/// The message as this member reads it, laid out for `channel`; `None` for a channel
/// Tidings cannot send yet.
fn lay_out(
    app: &App,
    channel: Channel,
    message: &Message,
    (topic, member, partner): (&Topic, &Member, &Partner),
    wording: Wording<'_>,
) -> Option<Result<Layout, String>> {
    let who = Personalization::of(&member.profile, &partner.profile).for_message(message);
    match messages::render(&message.content, &member.profile.locale, &who) {
        Ok(mut rendered) => {
            framing::frame(&mut rendered, wording, &partner.profile.name);
            app.channels.layout(channel, message, rendered, &topic.name)
        }
        Err(e) => Some(Err(format!("the message does not render: {e}"))),
    }
}

pub(super) fn unique<T: Ord + Copy>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.sort();
    v.dedup();
    v
}

/// What an attempt came to, with whether a failure is the provider refusing the address.
pub(super) enum Attempted {
    Channel(Outcome),
    /// Tidings itself cannot send it (the message expired, the member is gone, the text
    /// does not render): failed without trying.
    Refused(String),
}

async fn attempt(app: &App, c: &Claimed, ctx: &Context<'_>, now: Timestamp) -> Attempted {
    let Some(message) = ctx.cache.messages.get(&c.message_id) else {
        return Attempted::Refused("the message no longer exists".into());
    };
    let Some(member) = ctx.members.get(&c.member_id) else {
        return Attempted::Refused("the member no longer exists".into());
    };
    let Some(partner) = ctx.partners.get(&member.profile.partner_id) else {
        return Attempted::Refused("the member's partner no longer exists".into());
    };
    let Some(topic) = ctx.cache.topics.get(&message.topic_id) else {
        return Attempted::Refused("the message's topic no longer exists".into());
    };
    if message.expires_at.is_some_and(|e| e <= now) {
        return Attempted::Refused("the message expired before it could be sent".into());
    }
    // Consent is asked again at send time: an unsubscribe or a bounce since the release wins.
    let prefs = ctx.prefs.get(&c.member_id).cloned().unwrap_or_default();
    let decision =
        consent::may_reach(&member.profile, &prefs, TopicRef { key: &topic.key, policies: &topic.policies }, c.channel);
    if !decision.allowed {
        return Attempted::Channel(Outcome::Suppressed(decision.reason));
    }
    let framing = Framing::of(c.purpose);
    let outstanding = ctx.outstanding.get(&(c.message_id, partner.id)).map(Vec::as_slice).unwrap_or_default();
    let layout = match ctx.cache.layouts.get(&(c.message_id, member.profile.locale.clone(), c.channel, framing)) {
        Some(l) => l.clone(),
        None => match lay_out(app, c.channel, message, (topic, member, partner), Wording { framing, outstanding }) {
            Some(Ok(l)) => Arc::new(l),
            Some(Err(e)) => return Attempted::Refused(e),
            None => return Attempted::Refused(format!("no provider sends {} yet", c.channel)),
        },
    };
    if c.channel == Channel::WebPush {
        let browsers = ctx.push.get(&c.member_id).map(Vec::as_slice).unwrap_or_default();
        let recipient = crate::links::recipient(app, &layout, message, member, partner, "", c.purpose);
        return Attempted::Channel(push(app, browsers, app.channels.compose(&layout, &recipient)).await);
    }
    let Some(address) = Address::of(&member.profile, c.channel) else {
        return Attempted::Refused(format!("the member has no address on {}", c.channel));
    };
    let recipient = crate::links::recipient(app, &layout, message, member, partner, address.as_str(), c.purpose);
    Attempted::Channel(app.channels.send(c.channel, app.channels.compose(&layout, &recipient)).await)
}

/// When a failed attempt is tried again, and in which state it waits (`unknown` when it
/// may have arrived): backoff with jitter, not before the provider's `Retry-After`;
/// `None` once the attempts are spent. Deliveries and partners' posts share it.
pub(super) fn retried(
    app: &App,
    attempts: u32,
    outcome: &Outcome,
    now: Timestamp,
) -> Option<(DeliveryStatus, Timestamp)> {
    let at_least = match outcome {
        Outcome::RetryAfter { after_ms, .. } => *after_ms,
        Outcome::ProviderDown { retry_after_ms, .. } => *retry_after_ms,
        _ => 0,
    };
    let wait = app.retry.delay_at_least_ms(attempts, fastrand::f64(), at_least)?;
    let status = if matches!(outcome, Outcome::Unknown(_)) { DeliveryStatus::Unknown } else { DeliveryStatus::Queued };
    Some((status, Timestamp::from_millis(now.as_millis() + i64::try_from(wait).unwrap_or(i64::MAX))))
}

/// The `delivery.failed` webhook events of a batch's saved failures and bounces, in its
/// transaction.
async fn report_failures(
    tx: &mut tidings_store::Tx,
    settled: &[Settled<'_>],
    saved: &[bool],
    now: Timestamp,
) -> Result<(), AppError> {
    use tidings_core::webhooks::EventType;
    use tidings_store::webhooks::{Scope, any_subscribed};
    let failed = |s: &Settled<'_>| matches!(s.status, DeliveryStatus::Failed | DeliveryStatus::Bounced);
    if !settled.iter().zip(saved).any(|(s, saved)| *saved && failed(s))
        || !any_subscribed(tx, EventType::DeliveryFailed).await?
    {
        return Ok(());
    }
    for (s, _) in settled.iter().zip(saved).filter(|(s, saved)| **saved && failed(s)) {
        let c = s.claimed;
        let data = serde_json::json!({
            "message_id": c.message_id, "member_id": c.member_id, "channel": c.channel, "purpose": c.purpose,
            "status": s.status.as_str(), "reason": s.error, "attempts": c.attempts,
        });
        crate::webhooks::emit(tx, EventType::DeliveryFailed, Scope::MemberOf(c.member_id), data, now).await?;
    }
    Ok(())
}

/// Sends a notification to each of the member's browsers: sent when one took it; a browser
/// whose push service says it is gone is forgotten.
async fn push(
    app: &App,
    browsers: &[tidings_store::push::PushSubscription],
    payload: tidings_channels::Payload,
) -> Outcome {
    use tidings_channels::push::{Answer, Subscription};
    let (Some(sender), tidings_channels::Payload::WebPush(p)) = (app.channels.push(), payload) else {
        return Outcome::Transient("web push is not set up".into());
    };
    if browsers.is_empty() {
        return Outcome::Suppressed("no browser of the member is subscribed to notifications".into());
    }
    let mut answers = Vec::with_capacity(browsers.len());
    for b in browsers {
        let s = Subscription { endpoint: b.endpoint.clone(), p256dh: b.p256dh.clone(), auth: b.auth.clone() };
        app.channels.wait_turn(Channel::WebPush).await;
        answers.push((b.endpoint.clone(), sender.send(&s, &p.body, p.urgency).await));
    }
    let gone: Vec<String> = answers.iter().filter(|(_, a)| *a == Answer::Gone).map(|(e, _)| e.clone()).collect();
    if !gone.is_empty() {
        let removed = async {
            let mut tx = app.db.begin().await?;
            tidings_store::push::remove(&mut tx, &gone).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        };
        if let Err(e) = removed.await {
            tracing::warn!(error = %e, "forgetting browsers whose subscription is gone failed");
        }
    }
    if answers.iter().any(|(_, a)| *a == Answer::Delivered) {
        return Outcome::Sent { provider_id: None };
    }
    if let Some((_, Answer::Retry { reason, after_ms })) =
        answers.iter().find(|(_, a)| matches!(a, Answer::Retry { .. }))
    {
        return Outcome::RetryAfter { reason: reason.clone(), after_ms: *after_ms };
    }
    if gone.len() == answers.len() {
        return Outcome::Suppressed("every browser the member subscribed has unsubscribed".into());
    }
    let reasons: Vec<String> =
        answers.into_iter().filter_map(|(_, a)| if let Answer::Refused(r) = a { Some(r) } else { None }).collect();
    Outcome::Permanent(reasons.join("; "))
}

/// The evidence leaves of a batch's sends of must-know messages: each one handed to its
/// provider, refused, failed or suppressed, as its event says.
async fn delivery_leaves(tx: &mut tidings_store::Tx, events: &[NewEvent], now: Timestamp) -> Result<(), AppError> {
    use tidings_core::evidence::facts::DeliveryOutcome;
    let mut ids: Vec<MessageId> = events.iter().map(|e| e.message_id).collect();
    ids.sort_unstable_by_key(|id| id.as_uuid());
    ids.dedup();
    let critical = tidings_store::messages::critical_among(tx, &ids).await?;
    let leaves: Vec<crate::evidence::record::Delivery> = events
        .iter()
        .filter(|e| critical.contains(&e.message_id))
        .filter_map(|e| {
            let outcome = match e.kind {
                EventKind::Sent => DeliveryOutcome::Sent,
                EventKind::Bounced => DeliveryOutcome::Bounced,
                EventKind::Failed => DeliveryOutcome::Failed,
                EventKind::Suppressed => DeliveryOutcome::Suppressed,
                _ => return None,
            };
            Some(crate::evidence::record::Delivery {
                message: e.message_id,
                member: e.member_id,
                channel: e.channel?,
                purpose: e.purpose.unwrap_or_default(),
                outcome,
            })
        })
        .collect();
    crate::evidence::record::delivered(tx, &leaves, now).await
}

/// Saves a batch's outcomes, the events they make, and suppressions for hard bounces.
pub(super) async fn record(app: &App, claimed: &[Claimed], results: Vec<(usize, Attempted)>) -> Result<(), AppError> {
    let now = app.clock.now();
    let mut settled = Vec::with_capacity(results.len());
    let mut kinds = Vec::with_capacity(results.len());
    let mut bounced = Vec::new();
    for (i, result) in &results {
        let c = &claimed[*i];
        let (status, due_at, provider_id, error, kind) = match result {
            Attempted::Channel(Outcome::Sent { provider_id }) => {
                (DeliveryStatus::Sent, None, provider_id.as_deref(), None, Some(EventKind::Sent))
            }
            Attempted::Channel(Outcome::Suppressed(reason)) => {
                (DeliveryStatus::Suppressed, None, None, Some(reason.as_str()), Some(EventKind::Suppressed))
            }
            Attempted::Channel(Outcome::Permanent(reason)) => {
                // A refused email address is suppressed; a refused phone or chat user
                // fails that delivery only.
                if c.channel == Channel::Email {
                    bounced.push(c.member_id);
                }
                (DeliveryStatus::Bounced, None, None, Some(reason.as_str()), Some(EventKind::Bounced))
            }
            Attempted::Refused(reason) => {
                (DeliveryStatus::Failed, None, None, Some(reason.as_str()), Some(EventKind::Failed))
            }
            // The provider's outage: back in the queue for when the channel's pause ends,
            // and the attempt is not spent (a long outage must not fail good addresses).
            Attempted::Channel(Outcome::ProviderDown { reason, retry_after_ms }) => {
                let first_backoff = app.retry.delay_ms(1, fastrand::f64()).unwrap_or(0);
                let wait = (*retry_after_ms).max(first_backoff);
                let due = Timestamp::from_millis(now.as_millis() + i64::try_from(wait).unwrap_or(i64::MAX));
                (DeliveryStatus::Queued, Some(due), None, Some(reason.as_str()), None)
            }
            Attempted::Channel(
                o @ (Outcome::Transient(reason) | Outcome::Unknown(reason) | Outcome::RetryAfter { reason, .. }),
            ) => match retried(app, c.attempts, o, now) {
                Some((status, due)) => (status, Some(due), None, Some(reason.as_str()), None),
                None => (DeliveryStatus::Failed, None, None, Some(reason.as_str()), Some(EventKind::Failed)),
            },
        };
        let refund_attempt = matches!(result, Attempted::Channel(Outcome::ProviderDown { .. }));
        if let (Attempted::Channel(outcome), Some(error)) = (result, error)
            && !matches!(outcome, Outcome::Suppressed(_))
        {
            app.node.provider_error(c.channel, error, now);
        }
        settled.push(Settled { claimed: c, status, due_at, provider_id, error, refund_attempt });
        kinds.push(kind);
    }
    let mut tx = app.db.begin().await?;
    let saved = deliveries::settle(&mut tx, &settled, now).await?;
    let mut new_events = Vec::new();
    for ((s, kind), saved) in settled.iter().zip(&kinds).zip(&saved) {
        let (Some(kind), true) = (kind, saved) else { continue };
        new_events.push(NewEvent {
            message_id: s.claimed.message_id,
            member_id: s.claimed.member_id,
            channel: Some(s.claimed.channel),
            purpose: Some(s.claimed.purpose),
            kind: *kind,
            at: now,
            detail: s.error.map(|e| serde_json::json!({ "reason": e, "attempts": s.claimed.attempts })),
        });
    }
    events::append(&mut tx, &new_events).await?;
    delivery_leaves(&mut tx, &new_events, now).await?;
    report_failures(&mut tx, &settled, &saved, now).await?;
    if !bounced.is_empty() {
        for member in members::get_many(&mut tx, &bounced).await? {
            suppressions::add(&mut tx, &member.profile.email, "the receiving server refused the address", now).await?;
        }
    }
    tx.commit().await?;
    for (s, _) in settled.iter().zip(&saved).filter(|(_, saved)| **saved) {
        metrics::counter!("tidings_deliveries_total", "channel" => s.claimed.channel.as_str(), "status" => s.status.as_str())
            .increment(1);
    }
    let failed = saved.iter().filter(|s| !**s).count();
    if failed > 0 {
        tracing::warn!(failed, "outcomes not saved: their lease had run out and another worker took them over");
    }
    Ok(())
}
