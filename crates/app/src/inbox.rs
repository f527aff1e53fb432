//! A member's inbox: what reached them, newest first, with filters; a message as they see
//! it (which marks it viewed); read; and acknowledgment, only ever by an explicit request
//! that names the content hash of the version shown. Every function takes the member as
//! established by authentication and never reaches past them.

use serde::{Deserialize, Serialize};
use tidings_core::attestation::Given;
use tidings_core::deliveries::EventKind;
use tidings_core::messages::{self, Importance, Message, Personalization, Rendered};
use tidings_core::{Action, Member, MemberId, MemberStatus, MessageId, Partner, Timestamp, TopicId};
use tidings_store::events::{self, NewEvent};
pub use tidings_store::inbox::Recipient;
use tidings_store::inbox::{self as store, Acknowledgment, InboxFilter};
use tidings_store::{Page, Tx, members, partners};

use crate::error::not_found;
use crate::{App, AppError, Caller};

/// The longest a member token may live.
pub const MAX_TOKEN_DAYS: i64 = 30;

/// Where a request came from, kept with acknowledgments and engagement events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The origin as event detail.
    pub fn detail(&self) -> serde_json::Value {
        serde_json::json!({ "ip": self.ip, "user_agent": self.user_agent })
    }
}

/// The member a token names, if the token is genuine, unexpired, and the member can sign in.
pub async fn authenticate(app: &App, token: &str) -> Result<Member, AppError> {
    let id = app.signer.verify_member(token, app.clock.now()).ok_or(AppError::Unauthorized)?;
    let mut tx = app.db.read().await?;
    let member = members::get(&mut tx, id).await.map_err(|_| AppError::Unauthorized)?;
    if member.profile.status == MemberStatus::Disabled {
        return Err(AppError::Unauthorized);
    }
    Ok(member)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberToken {
    pub token: String,
    pub expires_at: Timestamp,
}

/// A token a vendor's server (or staff) gives a member for the inbox API.
pub async fn issue_token(
    app: &App,
    caller: &Caller,
    member: MemberId,
    days: Option<i64>,
) -> Result<MemberToken, AppError> {
    caller.require(Action::ManageTokens, "issue member tokens")?;
    let days = days.unwrap_or(1);
    if !(1..=MAX_TOKEN_DAYS).contains(&days) {
        return Err(AppError::invalid("days", format!("must be between 1 and {MAX_TOKEN_DAYS}")));
    }
    let mut tx = app.db.begin().await?;
    members::get(&mut tx, member).await.map_err(not_found("member"))?;
    let expires_at = Timestamp::from_millis(app.clock.now().as_millis() + days * 86_400_000);
    crate::audit::entry(caller, "member.token", member.as_uuid())
        .after(&serde_json::json!({ "expires_at": expires_at }))
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(MemberToken { token: app.signer.member_token(member, expires_at), expires_at })
}

/// Filters for the inbox list.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct InboxQuery {
    pub topic_id: Option<TopicId>,
    pub importance: Option<Importance>,
    /// Only messages not yet read.
    #[serde(default)]
    pub unread: bool,
    /// Only messages awaiting this member's acknowledgment.
    #[serde(default)]
    pub needs_acknowledgment: bool,
    /// Words in the message.
    pub q: Option<String>,
    pub after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxEntry {
    pub message_id: MessageId,
    pub topic_id: TopicId,
    pub importance: Importance,
    pub title: String,
    pub summary: String,
    pub released_at: Timestamp,
    pub viewed_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledgment: Option<messages::Acknowledgment>,
    /// The message asks for an acknowledgment this member has not given.
    pub needs_acknowledgment: bool,
}

fn entry(message: &Message, recipient: &Recipient, title: String, summary: String) -> InboxEntry {
    InboxEntry {
        message_id: message.id,
        topic_id: message.topic_id,
        importance: message.importance,
        title,
        summary,
        released_at: recipient.released_at,
        viewed_at: recipient.viewed_at,
        read_at: recipient.read_at,
        acknowledged_at: recipient.acknowledged_at,
        acknowledgment: message.acknowledgment.clone(),
        needs_acknowledgment: message.acknowledgment.is_some() && recipient.acknowledged_at.is_none(),
    }
}

async fn partner_of(tx: &mut Tx, member: &Member) -> Result<Partner, AppError> {
    Ok(partners::get(tx, member.profile.partner_id).await?)
}

pub async fn list(app: &App, member: &Member, q: &InboxQuery) -> Result<Page<InboxEntry>, AppError> {
    let mut tx = app.db.read().await?;
    let partner = partner_of(&mut tx, member).await?;
    list_in(&mut tx, member, &partner, q).await
}

async fn list_in(
    tx: &mut Tx,
    member: &Member,
    partner: &Partner,
    q: &InboxQuery,
) -> Result<Page<InboxEntry>, AppError> {
    let filter = InboxFilter {
        topic_id: q.topic_id,
        importance: q.importance,
        unread: q.unread,
        needs_acknowledgment: q.needs_acknowledgment,
        q: q.q.clone(),
    };
    let page = store::list(tx, member.id, &filter, q.after.as_deref(), q.limit).await?;
    let who = Personalization::of(&member.profile, &partner.profile);
    let items = page
        .items
        .iter()
        .map(|i| {
            let who = who.with_event_of(&i.message);
            let (_, title, summary) = messages::headline(&i.message.content, &member.profile.locale, &who)
                .unwrap_or_else(|_| (member.profile.locale.clone(), String::new(), String::new()));
            entry(&i.message, &i.recipient, title, summary)
        })
        .collect();
    Ok(Page { items, next: page.next })
}

/// Everything a portal page shows of the inbox, read in one transaction (on PostgreSQL,
/// every statement is a round trip; separate reads would add a BEGIN and COMMIT each).
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// The list asked for, if any.
    pub page: Option<Page<InboxEntry>>,
    /// The topics to filter by, when the list is asked for.
    pub topics: Vec<tidings_core::Topic>,
    /// The first must-know message awaiting acknowledgment, not among `skip`.
    pub popup: Option<InboxEntry>,
}

pub async fn overview(
    app: &App,
    member: &Member,
    list: Option<&InboxQuery>,
    skip: &[MessageId],
) -> Result<Overview, AppError> {
    let mut tx = app.db.read().await?;
    let partner = partner_of(&mut tx, member).await?;
    let (page, topics) = match list {
        Some(q) => (
            Some(list_in(&mut tx, member, &partner, q).await?),
            tidings_store::topics::list(&mut tx, None, Some(500)).await?.items,
        ),
        None => (None, Vec::new()),
    };
    let waiting = InboxQuery {
        importance: Some(Importance::Critical),
        needs_acknowledgment: true,
        limit: Some(u32::try_from(skip.len() + 1).unwrap_or(u32::MAX)),
        ..InboxQuery::default()
    };
    let popup =
        list_in(&mut tx, member, &partner, &waiting).await?.items.into_iter().find(|e| !skip.contains(&e.message_id));
    Ok(Overview { page, topics, popup })
}

/// Critical messages still waiting for this member's acknowledgment, newest first.
pub async fn pending_acknowledgments(app: &App, member: &Member) -> Result<Vec<InboxEntry>, AppError> {
    let q = InboxQuery { needs_acknowledgment: true, limit: Some(500), ..Default::default() };
    Ok(list(app, member, &q).await?.items)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxMessage {
    #[serde(flatten)]
    pub entry: InboxEntry,
    /// The text as this member sees it, with the content hash an acknowledgment names.
    pub rendered: Rendered,
    /// The evidence, once the member acknowledged.
    pub acknowledgment_record: Option<Acknowledgment>,
    /// The latest correction, for a message corrected after it went out.
    pub correction: Option<crate::corrections::CorrectionShown>,
}

/// Loads the member's copy and renders it; `NotFound` when it never reached them.
async fn load(tx: &mut Tx, member: &Member, id: MessageId) -> Result<(Message, Recipient, Rendered), AppError> {
    let recipient = store::get(tx, id, member.id).await.map_err(not_found("message"))?;
    let message = tidings_store::messages::get(tx, id).await?;
    let partner = partner_of(tx, member).await?;
    let who = Personalization::of(&member.profile, &partner.profile).for_message(&message);
    let rendered = messages::render(&message.content, &member.profile.locale, &who)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("a released message does not render: {e}")))?;
    Ok((message, recipient, rendered))
}

/// The message as the member sees it; the first view is recorded.
pub async fn view(app: &App, member: &Member, id: MessageId, origin: &Origin) -> Result<InboxMessage, AppError> {
    let mut tx = app.db.begin().await?;
    let (message, mut recipient, rendered) = load(&mut tx, member, id).await?;
    let now = app.clock.now();
    if store::mark_viewed(&mut tx, id, member.id, now).await? {
        recipient.viewed_at = Some(now);
        append(&mut tx, id, member.id, EventKind::Viewed, now, origin).await?;
    }
    let record = store::acknowledgment(&mut tx, id, member.id).await?;
    let correction = crate::corrections::shown(&mut tx, &message, member.id, rendered.locale.as_str()).await?;
    tx.commit().await?;
    let e = entry(&message, &recipient, rendered.title.clone(), rendered.summary.clone());
    Ok(InboxMessage { entry: e, rendered, acknowledgment_record: record, correction })
}

/// Marks the message read (the first time counts).
pub async fn read(app: &App, member: &Member, id: MessageId, origin: &Origin) -> Result<Recipient, AppError> {
    let mut tx = app.db.begin().await?;
    store::get(&mut tx, id, member.id).await.map_err(not_found("message"))?;
    let now = app.clock.now();
    if store::mark_read(&mut tx, id, member.id, now).await? {
        append(&mut tx, id, member.id, EventKind::Read, now, origin).await?;
        if app.evidence_log {
            crate::evidence::record::read(&mut tx, id, member.id, now, origin).await?;
        }
    }
    let recipient = store::get(&mut tx, id, member.id).await?;
    tx.commit().await?;
    Ok(recipient)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcknowledgeOutcome {
    /// False when the member had already acknowledged: the first record stands.
    pub created: bool,
    pub acknowledgment: Acknowledgment,
}

/// Records the member's acknowledgment of exactly the version they were shown. The
/// client answers only after the durable commit, which the acknowledgment writer shares
/// among the acknowledgments that arrive together (`acknowledging`).
pub async fn acknowledge(
    app: &App,
    member: &Member,
    id: MessageId,
    content_hash: &str,
    answers: &Given,
    origin: &Origin,
    how: crate::evidence::record::AckContext,
) -> Result<AcknowledgeOutcome, AppError> {
    let mut tx = app.db.read().await?;
    let (message, _, rendered) = load(&mut tx, member, id).await?;
    let existing = store::acknowledgment(&mut tx, id, member.id).await?;
    tx.rollback().await?;
    if let Some(existing) = existing {
        return Ok(AcknowledgeOutcome { created: false, acknowledgment: existing });
    }
    let Some(ask) = &message.acknowledgment else {
        return Err(AppError::Conflict("this message does not ask for an acknowledgment".into()));
    };
    if content_hash.trim() != rendered.content_hash {
        return Err(AppError::Conflict(
            "the text you saw is not the current version of this message: reload it, read it, then acknowledge".into(),
        ));
    }
    let attestation = match &ask.attestation {
        Some(form) => Some(form.answer(answers)?),
        None if answers.is_empty() => None,
        None => return Err(AppError::invalid("answers", "this message asks for no answers")),
    };
    let shown = tidings_core::evidence::facts::ShownText::of(&rendered);
    let record = Acknowledgment {
        message_id: id,
        version: message.version,
        member_id: member.id,
        partner_id: member.profile.partner_id,
        roles: member.profile.roles,
        locale: rendered.locale.to_string(),
        statement: ask.statement.clone(),
        content_hash: rendered.content_hash.clone(),
        acknowledged_at: app.clock.now(),
        ip: origin.ip.clone(),
        user_agent: origin.user_agent.clone(),
        attestation,
    };
    let work = crate::acknowledging::Acknowledging {
        record,
        shown: serde_json::to_string(&shown).map_err(|e| AppError::Unexpected(e.into()))?,
        how,
        origin: origin.clone(),
        title: message.title().to_owned(),
        email: member.profile.email.to_string(),
        obligation: ask.obligation.describe(),
    };
    let committer = crate::acknowledging::AckCommit { db: app.db.clone(), log: app.evidence_log };
    app.acks.write(&committer, work).await
}

async fn append(
    tx: &mut Tx,
    message: MessageId,
    member: MemberId,
    kind: EventKind,
    at: Timestamp,
    origin: &Origin,
) -> Result<(), AppError> {
    // Reading and acknowledging are what "active" means for the engagement overview.
    tidings_store::members::touch(tx, member, at).await?;
    let event = NewEvent {
        message_id: message,
        member_id: member,
        channel: Some(tidings_core::consent::Channel::Inbox),
        purpose: None,
        kind,
        at,
        detail: Some(origin.detail()),
    };
    events::append(tx, &[event]).await?;
    Ok(())
}
