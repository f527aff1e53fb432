//! Composing messages: create, change while editable, schedule, cancel, copy, and preview
//! as a given member would see it. Releasing and delivering build on this.

use serde::Serialize;
use tidings_core::audiences::AudienceDraft;
use tidings_core::consent::{self, Channel, TopicRef};
use tidings_core::messages::{self, Message, MessageDraft, MessageState, Personalization, Rendered};
use tidings_core::{Action, FieldErrors, MessageId, TimeZone, Timestamp};
use tidings_store::messages as store;
pub use tidings_store::messages::MessageFilter;
use tidings_store::{Page, Tx, consent as consent_store, partners, topics};

use crate::audiences::{ChannelDecision, build};
use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

/// What a lifecycle move changes, as the audit log records it.
#[derive(Serialize)]
struct Lifecycle {
    state: MessageState,
    send_at: Option<Timestamp>,
    time_zone: TimeZone,
}

impl Lifecycle {
    fn of(m: &Message) -> Self {
        Self { state: m.state, send_at: m.send_at, time_zone: m.time_zone.clone() }
    }
}

const COMPOSE: &str = "compose messages";

/// Checks what the message points at: its topic exists, a non-empty audience builds, and
/// every channel the author chose can be sent (a channel Tidings cannot send yet, or one
/// with no provider configured, would be accepted and then deliver nothing).
async fn check_references(app: &App, tx: &mut Tx, m: &Message, before: Option<&Message>) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    // A channel the message had already (such as a default written on it) was checked then.
    let had = |c: Channel| before.and_then(|b| b.channels.as_ref()).is_some_and(|list| list.contains(&c));
    for channel in m.channels.iter().flatten().copied().filter(|c| !had(*c)) {
        if can_reach_someone(app, tx, channel).await? {
            continue;
        }
        let posts = tidings_channels::posts::takes_posts(channel);
        if posts && !app.channels.provides(channel) {
            let service = crate::partner_channels::service(channel);
            errors
                .add("channels", format!("no partner has bound a {service} channel, so {channel} would reach nobody"));
        } else if channel == Channel::Webhook {
            errors.add(
                "channels",
                "webhook is not a channel a message is sent on: webhooks report events (message.released, \
                 acknowledgment.recorded, ...) to the endpoints added at /api/v1/webhooks",
            );
        } else if !tidings_channels::Channels::can_send(channel) {
            errors.add(
                "channels",
                format!("Tidings cannot send {channel} yet: choose the inbox, the pop-up, email, sms, slack, teams or web_push"),
            );
        } else if !app.channels.provides(channel) {
            errors.add("channels", format!("no {channel} provider is configured, so {channel} would reach nobody"));
        }
    }
    if let Some(key) = m.acknowledgment.as_ref().and_then(|a| a.ladder.as_ref()) {
        match tidings_store::ladders::get(tx, key).await {
            Ok(_) => {}
            Err(tidings_store::Error::NotFound) => {
                errors.add("acknowledgment.ladder", format!("no escalation ladder '{key}'"));
            }
            Err(other) => return Err(other.into()),
        }
    }
    if let Err(e) = topics::get(tx, m.topic_id).await {
        match e {
            tidings_store::Error::NotFound => errors.add("topic_id", "no such topic"),
            other => return Err(other.into()),
        }
    }
    if m.audience != AudienceDraft::default() {
        match build(app, tx, &m.audience).await {
            Ok(_) => {}
            Err(AppError::Invalid(e)) => {
                e.iter().for_each(|e| errors.add(&format!("audience.{}", e.field), e.message.clone()))
            }
            Err(other) => return Err(other),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// Whether this server can send a message on `channel` to anyone now: the inbox and
/// pop-up always; Teams and Slack where a partner has bound a channel; every other channel
/// when its provider is set up.
pub(crate) async fn can_reach_someone(app: &App, tx: &mut Tx, channel: Channel) -> Result<bool, AppError> {
    Ok(match channel {
        Channel::Inbox | Channel::Popup => true,
        Channel::Webhook => false,
        // Teams and Slack also reach partners' shared channels, where some are bound.
        Channel::Teams | Channel::Slack
            if app.channels.poster().is_some() && tidings_store::partner_channels::any_bound(tx, channel).await? =>
        {
            true
        }
        other => app.channels.provides(other),
    })
}

/// A message whose author chose no channels takes its importance's defaults that can
/// reach someone now, written on it so the author sees where it will go (after the
/// author's own choices are checked: email stays a default without a mail server, whose
/// absence the message page shows).
async fn with_default_channels(app: &App, tx: &mut Tx, mut m: Message) -> Result<Message, AppError> {
    if m.channels.is_none() {
        m.channels = Some(crate::channel_defaults::resolve(app, tx, m.importance).await?);
    }
    Ok(m)
}

/// The draft with its topic named by id: a topic given by key (`"topic": "support"`) is
/// looked up, as the command line does.
async fn with_topic_id(tx: &mut Tx, draft: &MessageDraft) -> Result<MessageDraft, AppError> {
    let topic_id = crate::topics::named(tx, draft.topic.as_deref(), draft.topic_id).await?;
    Ok(MessageDraft { topic_id, topic: None, ..draft.clone() })
}

pub async fn create(app: &App, caller: &Caller, draft: &MessageDraft) -> Result<Message, AppError> {
    caller.require(Action::Compose, COMPOSE)?;
    let draft = with_topic_id(&mut app.db.read().await?, draft).await?;
    let message = draft.create(MessageId::new(), &caller.name, app.clock.now())?;
    let mut tx = app.db.begin().await?;
    check_references(app, &mut tx, &message, None).await?;
    let message = with_default_channels(app, &mut tx, message).await?;
    store::insert(&mut tx, &message).await?;
    audit::entry(caller, "message.create", message.id.as_uuid()).after(&message).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(message)
}

pub async fn get(app: &App, caller: &Caller, id: MessageId) -> Result<Message, AppError> {
    caller.require(Action::ReadDirectory, "read messages")?;
    let mut tx = app.db.read().await?;
    store::get(&mut tx, id).await.map_err(not_found("message"))
}

/// When the message was released, if it was.
pub async fn released_at(app: &App, caller: &Caller, id: MessageId) -> Result<Option<Timestamp>, AppError> {
    caller.require(Action::ReadDirectory, "read messages")?;
    let mut tx = app.db.read().await?;
    store::released_at(&mut tx, id).await.map_err(not_found("message"))
}

pub async fn list(
    app: &App,
    caller: &Caller,
    filter: &MessageFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Message>, AppError> {
    caller.require(Action::ReadDirectory, "read messages")?;
    let mut tx = app.db.read().await?;
    Ok(store::list(&mut tx, filter, after, limit).await?)
}

pub async fn update(app: &App, caller: &Caller, id: MessageId, draft: &MessageDraft) -> Result<Message, AppError> {
    caller.require(Action::Compose, COMPOSE)?;
    let mut tx = app.db.begin().await?;
    let stored = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let state = stored.state;
    if state == MessageState::Scheduled && crate::approvals::policy_in(&mut tx).await?.requires(&stored) {
        return Err(AppError::Conflict(
            "this message was approved as it is and then scheduled: unschedule it to change it, then have it approved again"
                .into(),
        ));
    }
    let entry = audit::entry(caller, "message.update", id.as_uuid()).before(&stored);
    let draft = with_topic_id(&mut tx, draft).await?;
    let message = draft.apply(stored.clone(), app.clock.now())??;
    check_references(app, &mut tx, &message, Some(&stored)).await?;
    let message = with_default_channels(app, &mut tx, message).await?;
    store::update(&mut tx, &message, state).await?;
    // What was approved is not what will go: the approval no longer holds.
    tidings_store::approvals::remove(&mut tx, id).await?;
    entry.after(&message).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(message)
}

/// Applies a lifecycle move and saves it, refusing it if another writer moved first.
async fn transition(
    app: &App,
    caller: &Caller,
    id: MessageId,
    action: &'static str,
    change: impl FnOnce(&mut Message, Timestamp) -> Result<(), AppError>,
) -> Result<Message, AppError> {
    caller.require(Action::Compose, COMPOSE)?;
    let mut tx = app.db.begin().await?;
    let mut message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let before = message.state;
    if action == "message.schedule" {
        // Scheduled, it goes without anyone pressing a button: it is approved now or not at all.
        crate::approvals::check_approved(&mut tx, &message).await?;
    }
    let entry = audit::entry(caller, action, id.as_uuid()).before(&Lifecycle::of(&message));
    let now = app.clock.now();
    change(&mut message, now)?;
    message.updated_at = now;
    store::update(&mut tx, &message, before).await?;
    entry.after(&Lifecycle::of(&message)).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(message)
}

pub async fn schedule(app: &App, caller: &Caller, id: MessageId, send_at: Timestamp) -> Result<Message, AppError> {
    transition(app, caller, id, "message.schedule", |m, now| {
        m.state = m.state.schedule(send_at, now)?;
        m.send_at = Some(send_at);
        Ok(())
    })
    .await
}

/// Schedules at a time as a person or a form gives it: an RFC 3339 instant, or a wall-clock
/// time (a browser's `datetime-local`) in `zone`, which becomes the message's time zone;
/// without a zone, in the message's own. A time in the past is refused.
pub async fn schedule_at(
    app: &App,
    caller: &Caller,
    id: MessageId,
    send_at: &str,
    zone: Option<&str>,
) -> Result<Message, AppError> {
    let zone = zone
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .map(|z| TimeZone::parse(z).map_err(|e| AppError::invalid("time_zone", e.to_string())))
        .transpose()?;
    transition(app, caller, id, "message.schedule", |m, now| {
        if let Some(zone) = zone {
            m.time_zone = zone;
        }
        let at = Timestamp::parse_in(send_at, &m.time_zone).map_err(|e| AppError::invalid("send_at", e.to_string()))?;
        m.state = m.state.schedule(at, now)?;
        m.send_at = Some(at);
        Ok(())
    })
    .await
}

pub async fn unschedule(app: &App, caller: &Caller, id: MessageId) -> Result<Message, AppError> {
    transition(app, caller, id, "message.unschedule", |m, _| {
        m.state = m.state.unschedule()?;
        m.send_at = None;
        Ok(())
    })
    .await
}

pub async fn cancel(app: &App, caller: &Caller, id: MessageId) -> Result<Message, AppError> {
    transition(app, caller, id, "message.cancel", |m, _| {
        m.state = m.state.cancel()?;
        Ok(())
    })
    .await
}

/// A new draft with the same content, audience and settings: how a sent message changes.
pub async fn copy(app: &App, caller: &Caller, id: MessageId) -> Result<Message, AppError> {
    caller.require(Action::Compose, COMPOSE)?;
    let mut tx = app.db.begin().await?;
    let original = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let copy = draft_copy(original, caller, app.clock.now());
    store::insert(&mut tx, &copy).await?;
    audit::entry(caller, "message.copy", copy.id.as_uuid())
        .before(&serde_json::json!({ "copied_from": id }))
        .after(&copy)
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(copy)
}

/// A new draft with `original`'s content, audience and settings, by `caller`.
pub(crate) fn draft_copy(original: Message, caller: &Caller, now: Timestamp) -> Message {
    Message {
        id: MessageId::new(),
        state: MessageState::Draft,
        version: 1,
        send_at: None,
        created_by: caller.name.clone(),
        created_at: now,
        updated_at: now,
        ..original
    }
}

/// The message as one member would see it, and which of its channels may reach them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessagePreview {
    pub member_email: String,
    pub rendered: Rendered,
    pub channels: Vec<ChannelDecision>,
    /// The email as the member would get it, when the message goes by email: links go
    /// straight to their targets and nothing is tracked.
    pub email: Option<EmailPreview>,
    /// The text message as the member would get it, when the message goes by SMS, with
    /// what it costs.
    pub sms: Option<SmsPreview>,
    /// The Slack direct message as the member would get it, when the message goes by Slack.
    pub slack: Option<SlackPreview>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlackPreview {
    /// The plain-text fallback notifications show.
    pub text: String,
    /// The Block Kit blocks, as posted (the link is a placeholder, as for SMS).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub blocks: Vec<serde_json::Value>,
    /// The blocks' texts in order, for reading.
    pub lines: Vec<String>,
    /// The buttons: label and link.
    pub buttons: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SmsPreview {
    /// The text; its link is a placeholder of the real link's length, so opening the
    /// preview records nothing for the member.
    pub text: String,
    pub characters: usize,
    /// `gsm7` (160 a segment, 153 when split) or `ucs2` (70, 67).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub encoding: tidings_channels::sms::Encoding,
    pub segments: usize,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailPreview {
    pub subject: String,
    pub html: String,
}

pub async fn preview(app: &App, caller: &Caller, id: MessageId, member: &str) -> Result<MessagePreview, AppError> {
    caller.require(Action::ReadDirectory, "preview messages")?;
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let member = crate::audiences::find_member(&mut tx, member).await?;
    let partner = partners::get(&mut tx, member.profile.partner_id).await?;
    let who = Personalization::of(&member.profile, &partner.profile).for_message(&message);
    let mut errors = FieldErrors::new();
    for e in messages::check(&message.content, &who) {
        errors.add(&format!("content.{}", e.field), e.message);
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let rendered = messages::render(&message.content, &member.profile.locale, &who)
        .map_err(|e| AppError::invalid(&format!("content.{}", e.field), e.message))?;
    let topic = topics::get(&mut tx, message.topic_id).await?;
    let due = message.acknowledgment.as_ref().and_then(|a| a.due_at).map(|d| d.stated(&member.profile.time_zone));
    let email = if message.effective_channels().contains(&tidings_core::consent::Channel::Email) {
        let layout = tidings_channels::email::Layout::new(&message, rendered.clone(), &topic.name)
            .map_err(|e| AppError::Unexpected(anyhow::anyhow!("laying out the email: {e}")))?;
        let (subject, html) =
            layout.preview(&member.profile.name, &partner.profile.name, due.as_deref().unwrap_or_default());
        Some(EmailPreview { subject, html })
    } else {
        None
    };
    // The one link of a text or chat message, as a placeholder of its length: opening a
    // preview records nothing for the member.
    let token = app.signer.recipient_token(crate::signing::TokenUse::Text, message.id, member.id);
    let link = format!("{}/s/{}", app.public_url.trim_end_matches('/'), "x".repeat(token.len()));
    let sms = message.effective_channels().contains(&tidings_core::consent::Channel::Sms).then(|| {
        let layout = tidings_channels::sms::Layout::new(&message, rendered.clone());
        let text = layout.fill(&link, due.as_deref());
        let cost = tidings_channels::sms::segments::count(&text);
        SmsPreview { characters: text.chars().count(), encoding: cost.encoding, segments: cost.count, text }
    });
    let slack = message.effective_channels().contains(&tidings_core::consent::Channel::Slack).then(|| {
        let layout = tidings_channels::slack::Layout::new(&message, rendered.clone());
        let (blocks, text) = layout.fill(&link, due.as_deref());
        let lines = blocks
            .iter()
            .filter_map(|b| b["text"]["text"].as_str().or(b["elements"][0]["text"].as_str()).map(str::to_owned))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>();
        let buttons = blocks
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
            .map(|e| {
                (
                    e["text"]["text"].as_str().unwrap_or_default().to_owned(),
                    e["url"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        SlackPreview { text, blocks, lines, buttons }
    });
    let prefs = consent_store::preferences(&mut tx, member.id).await?;
    let channels = message
        .effective_channels()
        .into_iter()
        .map(|channel| {
            let d = consent::may_reach(
                &member.profile,
                &prefs,
                TopicRef { key: &topic.key, policies: &topic.policies },
                channel,
            );
            ChannelDecision { channel, allowed: d.allowed, reason: d.reason }
        })
        .collect();
    Ok(MessagePreview { member_email: member.profile.email.to_string(), rendered, channels, email, sms, slack })
}
