//! What the SMS provider tells Tidings: the fate of each text (status callbacks) and the
//! texts members send back (STOP and START, as the member's SMS consent). Both are
//! signed by the provider with the account's auth token over the URL it called, which is
//! this instance's public URL: a request that is not signed so is refused before anything
//! is read from it.

use tidings_channels::sms::{DeliveryReport, verify_signature};
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, EventKind};
use tidings_store::deliveries;
use tidings_store::events::{self, NewEvent};
use tidings_store::members;

use crate::consent::{ConsentInput, record_as};
use crate::{App, AppError};

/// Where the provider calls back, under the public URL.
pub const STATUS_PATH: &str = "/hooks/sms/status";
pub const INBOUND_PATH: &str = "/hooks/sms/inbound";

/// Keywords carriers and providers treat as opting out, and back in.
const STOP: [&str; 7] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT"];
const START: [&str; 4] = ["START", "UNSTOP", "YES", "OPTIN"];

/// Refuses a callback that the configured account did not sign.
fn check(app: &App, path: &str, fields: &[(String, String)], signature: Option<&str>) -> Result<(), AppError> {
    let account = app.channels.sms_account().ok_or(AppError::NotFound("SMS provider"))?;
    let url = format!("{}{path}", app.public_url.trim_end_matches('/'));
    match signature {
        Some(s) if verify_signature(&account.auth_token, &url, fields, s) => Ok(()),
        _ => Err(AppError::Forbidden("the request is not signed by the configured SMS account")),
    }
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A status callback: a delivered text is marked delivered; one that will not arrive is
/// marked bounced with the provider's error (the member's email is not touched). Reports
/// for texts Tidings does not know, or that are still on their way, change nothing.
pub async fn status(app: &App, fields: &[(String, String)], signature: Option<&str>) -> Result<(), AppError> {
    check(app, STATUS_PATH, fields, signature)?;
    let Some(sid) = field(fields, "MessageSid").or(field(fields, "SmsSid")) else { return Ok(()) };
    let (status, kind, reason) = match DeliveryReport::of(fields) {
        DeliveryReport::Underway => return Ok(()),
        DeliveryReport::Delivered => (DeliveryStatus::Delivered, EventKind::Delivered, None),
        DeliveryReport::Failed(why) => (DeliveryStatus::Bounced, EventKind::Bounced, Some(why)),
    };
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let Some(key) = deliveries::by_provider_id(&mut tx, Channel::Sms, sid).await? else {
        tracing::info!(sid, "a status callback for a text Tidings does not know");
        return Ok(());
    };
    let current = deliveries::get(&mut tx, key).await?;
    if current.status == status {
        return Ok(());
    }
    deliveries::mark(&mut tx, key, status, reason.as_deref(), now).await?;
    let event = NewEvent {
        message_id: key.message_id,
        member_id: key.member_id,
        channel: Some(Channel::Sms),
        purpose: Some(key.purpose),
        kind,
        at: now,
        detail: Some(serde_json::json!({ "provider_id": sid, "reason": reason })),
    };
    events::append(&mut tx, &[event]).await?;
    tx.commit().await?;
    Ok(())
}

/// What an inbound text did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    OptedOut(usize),
    OptedIn(usize),
    /// Not a keyword, or from a number no member has.
    Ignored,
}

/// An inbound text: STOP (and its synonyms) withdraws the SMS consent of every member
/// with the sender's number, START gives it back; each is a consent record with its
/// source, so the member's consent history says what happened.
pub async fn inbound(app: &App, fields: &[(String, String)], signature: Option<&str>) -> Result<Inbound, AppError> {
    check(app, INBOUND_PATH, fields, signature)?;
    let (Some(from), Some(body)) = (field(fields, "From"), field(fields, "Body")) else { return Ok(Inbound::Ignored) };
    let keyword = body.trim().trim_end_matches(['.', '!']).to_uppercase();
    let granted = if STOP.contains(&keyword.as_str()) {
        false
    } else if START.contains(&keyword.as_str()) {
        true
    } else {
        return Ok(Inbound::Ignored);
    };
    let mut tx = app.db.read().await?;
    let ids = members::ids_by_phone(&mut tx, from.trim()).await?;
    drop(tx);
    let input = ConsentInput {
        purpose: "sms".into(),
        granted,
        lawful_basis: Some("consent".into()),
        text_version: format!("sms-keyword-{}", keyword.to_lowercase()),
    };
    for id in &ids {
        record_as(app, *id, &input, "sms", None).await?;
    }
    Ok(match (ids.len(), granted) {
        (0, _) => Inbound::Ignored,
        (n, false) => Inbound::OptedOut(n),
        (n, true) => Inbound::OptedIn(n),
    })
}
