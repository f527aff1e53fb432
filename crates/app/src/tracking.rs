//! What comes back from an email: opens (a pixel), clicks (signed links that redirect
//! only to the exact target they were made for), one-click unsubscribes (RFC 8058), the
//! acknowledgment page behind the email's button, and bounce reports (RFC 3464).

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, EventKind, machine_engagement};
use tidings_core::messages::{Message, Rendered};
use tidings_core::{Action, Email, Member, MemberId, MessageId};
use tidings_store::deliveries::{self, DeliveryKey};
use tidings_store::events::{self, NewEvent};
use tidings_store::inbox::{self as inbox_store, Engagement};
use tidings_store::reports::{self, Step};
use tidings_store::{members, suppressions};

use crate::consent::{ConsentInput, record_as};
use crate::inbox::{self, AcknowledgeOutcome, Origin};
use crate::signing::TokenUse;
use crate::{App, AppError, Caller};

async fn append(
    app: &App,
    tx: &mut tidings_store::Tx,
    message: MessageId,
    member: MemberId,
    kind: EventKind,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let e = NewEvent {
        message_id: message,
        member_id: member,
        channel: Some(Channel::Email),
        purpose: None,
        kind,
        at: app.clock.now(),
        detail: Some(detail),
    };
    events::append(tx, &[e]).await?;
    Ok(())
}

/// Records an open or a click: a person's counts on their copy of the message, a
/// machine's (told apart by `machine_engagement`'s rule) stays an event of its own kind.
async fn engagement(
    app: &App,
    message: MessageId,
    member: MemberId,
    origin: &Origin,
    mut detail: serde_json::Value,
    what: Engagement,
) -> Result<(), AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let sent = events::first_at(&mut tx, message, member, EventKind::Sent).await?;
    let since_sent = sent.map(|s| now.as_millis() - s.as_millis());
    let agent = origin.user_agent.as_deref();
    let machine = match what {
        Engagement::Opened => machine_engagement::machine_open(agent, origin.ip.as_deref(), since_sent),
        Engagement::Clicked => machine_engagement::scanner_click(agent, since_sent),
    };
    let kind = match (what, machine) {
        (Engagement::Opened, None) => EventKind::Opened,
        (Engagement::Opened, Some(_)) => EventKind::MachineOpened,
        (Engagement::Clicked, None) => EventKind::Clicked,
        (Engagement::Clicked, Some(_)) => EventKind::ScannerClicked,
    };
    if let (Some(reason), Some(fields)) = (machine, detail.as_object_mut()) {
        fields.insert("automated".into(), reason.into());
    }
    append(app, &mut tx, message, member, kind, detail).await?;
    match kind {
        EventKind::MachineOpened => _ = reports::reach(&mut tx, message, member, Step::MachineOpened, now).await?,
        EventKind::ScannerClicked => _ = reports::reach(&mut tx, message, member, Step::ScannerClicked, now).await?,
        _ => {
            inbox_store::mark_engaged(&mut tx, message, member, what, now).await?;
            members::touch(&mut tx, member, now).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Records an open if the pixel's token is genuine; the pixel is served either way.
pub async fn opened(app: &App, token: &str, origin: &Origin) -> Result<bool, AppError> {
    let Some((message, member)) = app.signer.verify_recipient(TokenUse::Open, token) else { return Ok(false) };
    engagement(app, message, member, origin, origin.detail(), Engagement::Opened).await?;
    Ok(true)
}

/// The target of a genuine click link (recording the click), or `Invalid`: a forged or
/// altered link never redirects anywhere.
pub async fn clicked(app: &App, token: &str, origin: &Origin) -> Result<String, AppError> {
    let invalid = || AppError::invalid("link", "this link is not valid: it was changed or was not made by this server");
    let (message, member, url) = app.signer.verify_click(token).ok_or_else(invalid)?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid());
    }
    let detail = serde_json::json!({ "url": url, "ip": origin.ip, "user_agent": origin.user_agent });
    engagement(app, message, member, origin, detail, Engagement::Clicked).await?;
    Ok(url)
}

/// Who an unsubscribe link is for (to show on its page before the button is pressed).
#[derive(Debug, Clone, Serialize)]
pub struct LinkSubject {
    pub message: Message,
    pub member: Member,
}

async fn link_subject(app: &App, purpose: TokenUse, token: &str) -> Result<LinkSubject, AppError> {
    let (message, member) = app.signer.verify_recipient(purpose, token).ok_or_else(|| {
        AppError::invalid("link", "this link is not valid: it was changed or was not made by this server")
    })?;
    let mut tx = app.db.read().await?;
    let member = members::get(&mut tx, member).await.map_err(|_| AppError::NotFound("member"))?;
    let message = tidings_store::messages::get(&mut tx, message).await.map_err(|_| AppError::NotFound("message"))?;
    Ok(LinkSubject { message, member })
}

pub async fn unsubscribe_subject(app: &App, token: &str) -> Result<LinkSubject, AppError> {
    link_subject(app, TokenUse::Unsubscribe, token).await
}

/// Withdraws the member's email consent (recorded with its source) and notes the event.
/// Doing it twice is harmless.
pub async fn unsubscribe(app: &App, token: &str, origin: &Origin) -> Result<LinkSubject, AppError> {
    let subject = link_subject(app, TokenUse::Unsubscribe, token).await?;
    let input = ConsentInput {
        purpose: "email".into(),
        granted: false,
        lawful_basis: Some("consent".into()),
        text_version: "one-click-unsubscribe".into(),
    };
    record_as(app, subject.member.id, &input, "unsubscribe", None).await?;
    let mut tx = app.db.begin().await?;
    let (message, member) = (subject.message.id, subject.member.id);
    append(app, &mut tx, message, member, EventKind::Unsubscribed, origin.detail()).await?;
    reports::reach(&mut tx, message, member, Step::Unsubscribed, app.clock.now()).await?;
    tx.commit().await?;
    Ok(subject)
}

/// Which link opened the message page: an email's acknowledgment link, or a text
/// message's one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageLink {
    Email,
    Text,
}

impl PageLink {
    fn token_use(self) -> TokenUse {
        match self {
            Self::Email => TokenUse::Acknowledge,
            Self::Text => TokenUse::Text,
        }
    }
}

/// The acknowledgment page's content: the message as the member sees it.
pub async fn acknowledgment_page(
    app: &App,
    link: PageLink,
    token: &str,
    origin: &Origin,
) -> Result<(Member, inbox::InboxMessage), AppError> {
    let subject = link_subject(app, link.token_use(), token).await?;
    let view = inbox::view(app, &subject.member, subject.message.id, origin).await?;
    Ok((subject.member, view))
}

/// The deliberate press of the button on the acknowledgment page.
pub async fn acknowledge_by_link(
    app: &App,
    link: PageLink,
    token: &str,
    content_hash: &str,
    answers: &tidings_core::attestation::Given,
    origin: &Origin,
) -> Result<(Rendered, AcknowledgeOutcome), AppError> {
    let subject = link_subject(app, link.token_use(), token).await?;
    let how = crate::evidence::record::AckContext::LINK;
    let id = subject.message.id;
    let outcome = inbox::acknowledge(app, &subject.member, id, content_hash, answers, origin, how).await?;
    let view = inbox::view(app, &subject.member, subject.message.id, origin).await?;
    Ok((view.rendered, outcome))
}

#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BounceReport {
    /// Deliveries marked bounced, their addresses suppressed.
    pub bounced: u32,
    /// Recipients reported delayed or delivered (4.x.x, 2.x.x): nothing changes.
    pub ignored: u32,
    /// Recipients the report names that match no delivery of ours.
    pub unmatched: u32,
}

/// Reads a delivery status notification (RFC 3464) and, for each recipient that failed
/// permanently (5.x.x), marks the delivery bounced and suppresses the address. The
/// delivery is found through the Message-ID of the returned headers.
pub async fn bounce(app: &App, caller: &Caller, raw: &[u8]) -> Result<BounceReport, AppError> {
    caller.require(Action::WriteDirectory, "report bounces")?;
    let dsn = crate::dsn::parse(raw).map_err(|m| AppError::invalid("body", m))?;
    let mut report = BounceReport::default();
    let target = dsn.original_message_id.as_deref().and_then(tidings_channels::email::parse_message_id);
    let now = app.clock.now();
    for r in dsn.recipients {
        if !r.status.starts_with('5') {
            report.ignored += 1;
            continue;
        }
        let Some((message, member, purpose)) = target else {
            report.unmatched += 1;
            continue;
        };
        let mut tx = app.db.begin().await?;
        let Ok(m) = members::get(&mut tx, member).await else {
            report.unmatched += 1;
            continue;
        };
        if !m.profile.email.as_str().eq_ignore_ascii_case(&r.address) {
            report.unmatched += 1;
            continue;
        }
        let reason = format!("bounced {}: {}", r.status, r.diagnostic.as_deref().unwrap_or("no diagnostic"));
        let key = DeliveryKey { message_id: message, member_id: member, channel: Channel::Email, purpose };
        match deliveries::mark(&mut tx, key, DeliveryStatus::Bounced, Some(&reason), now).await {
            Ok(()) => {}
            Err(tidings_store::Error::NotFound) => {
                report.unmatched += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let email = Email::parse(&r.address).map_err(|e| AppError::invalid("body", e.to_string()))?;
        suppressions::add(&mut tx, &email, &reason, now).await?;
        let e = NewEvent {
            message_id: message,
            member_id: member,
            channel: Some(Channel::Email),
            purpose: Some(purpose),
            kind: EventKind::Bounced,
            at: now,
            detail: Some(serde_json::json!({ "status": r.status, "diagnostic": r.diagnostic })),
        };
        events::append(&mut tx, &[e]).await?;
        crate::audit::entry(caller, "delivery.bounce", member.as_uuid())
            .after(&serde_json::json!({ "message_id": message, "purpose": purpose, "reason": reason }))
            .write(app, &mut tx)
            .await?;
        tx.commit().await?;
        report.bounced += 1;
    }
    Ok(report)
}
