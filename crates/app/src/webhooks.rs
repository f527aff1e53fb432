//! Signed webhooks to the vendor's own systems or a partner's: admins add endpoints with
//! the events they take; each event is written to the outbox in the transaction of the
//! change it reports (so no change goes unreported and nothing is reported that rolled
//! back), then sent by workers signed per the Standard Webhooks specification, retried on
//! a schedule, and logged per endpoint. A partner's endpoint gets only events about that
//! partner.

use serde::Deserialize;
use serde_json::{Value, json};
use tidings_channels::webhook::Secret;
use tidings_core::webhooks::EventType;
use tidings_core::{Action, FieldErrors, PartnerId, Timestamp, WebhookId};
use tidings_store::webhooks::{self as store, EndpointChange, Scope};
pub use tidings_store::webhooks::{Endpoint, WebhookDelivery};
use tidings_store::{Tx, partners};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const MANAGE: &str = "manage webhooks";
const DESCRIPTION_LIMIT: usize = 200;
/// Requests an endpoint's log shows.
pub const LOGGED: u32 = 100;

/// An endpoint as given: every field optional, so that a change overlays the endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointDraft {
    /// An https URL that is not an internal address.
    pub url: Option<String>,
    pub description: Option<String>,
    /// The events it takes: `message.released`, `delivery.failed`,
    /// `acknowledgment.recorded`, `obligation.met`.
    pub events: Option<Vec<String>>,
    /// The partner whose events it gets (only on creation); none: the vendor's own.
    pub partner_id: Option<PartnerId>,
    pub enabled: Option<bool>,
}

/// A new endpoint and its signing secret, which is shown this once.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub endpoint: Endpoint,
    /// `whsec_...`: verify each request's `webhook-signature` with it.
    pub secret: String,
}

fn events(list: &[String], errors: &mut FieldErrors) -> Vec<EventType> {
    let mut out: Vec<EventType> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        match e.parse::<EventType>() {
            Ok(EventType::Test) => {
                errors.add(&format!("events[{i}]"), "webhook.test is sent on request, not subscribed to")
            }
            Ok(t) if !out.contains(&t) => out.push(t),
            Ok(_) => {}
            Err(err) => errors.add(&format!("events[{i}]"), err.to_string()),
        }
    }
    if list.is_empty() {
        errors.add("events", "choose at least one event");
    }
    out.sort();
    out
}

fn sender(app: &App) -> Result<&tidings_channels::webhook::Sender, AppError> {
    app.channels.webhooks().ok_or_else(|| AppError::Conflict("webhooks are not set up on this instance".into()))
}

fn check_url(app: &App, url: &str, errors: &mut FieldErrors) -> Option<String> {
    match sender(app).map(|s| s.check_url(url)) {
        Ok(Ok(u)) => Some(u),
        Ok(Err(e)) => {
            errors.add("url", e);
            None
        }
        Err(e) => {
            errors.add("url", e.to_string());
            None
        }
    }
}

fn description(text: Option<&str>, errors: &mut FieldErrors) -> Option<String> {
    match tidings_core::text::identifier(text.unwrap_or_default(), DESCRIPTION_LIMIT) {
        Ok(d) => Some(d.unwrap_or_default()),
        Err(e) => {
            errors.add("description", e.to_string());
            None
        }
    }
}

pub async fn create(app: &App, caller: &Caller, draft: &EndpointDraft) -> Result<Created, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut errors = FieldErrors::new();
    let url = match draft.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) => check_url(app, u, &mut errors),
        None => {
            errors.add("url", "is required");
            None
        }
    };
    let chosen = events(draft.events.as_deref().unwrap_or_default(), &mut errors);
    let description = description(draft.description.as_deref(), &mut errors);
    let (Some(url), Some(description), true) = (url, description, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = app.db.begin().await?;
    let partner_name = match draft.partner_id {
        Some(p) => Some(partners::get(&mut tx, p).await.map_err(not_found("partner"))?.profile.name),
        None => None,
    };
    let now = app.clock.now();
    let endpoint = Endpoint {
        id: WebhookId::new(),
        partner_id: draft.partner_id,
        partner_name,
        url,
        description,
        events: chosen,
        enabled: draft.enabled.unwrap_or(true),
        disabled_reason: None,
        failing_since: None,
        created_by: caller.name.clone(),
        created_at: now,
        updated_at: now,
    };
    let secret = Secret::generate().reveal();
    store::insert(&mut tx, &endpoint, &secret).await?;
    audit::entry(caller, "webhook.create", endpoint.id.as_uuid()).after(&endpoint).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(Created { endpoint, secret })
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Endpoint>, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.read().await?;
    Ok(store::list(&mut tx).await?)
}

pub async fn get(app: &App, caller: &Caller, id: WebhookId) -> Result<Endpoint, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.read().await?;
    store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))
}

/// Changes an endpoint: its URL, description, events, or whether it is enabled (enabling
/// it again clears its failure record; requests waiting for it are sent).
pub async fn update(app: &App, caller: &Caller, id: WebhookId, draft: &EndpointDraft) -> Result<Endpoint, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut errors = FieldErrors::new();
    if draft.partner_id.is_some() {
        errors.add("partner_id", "is set when the endpoint is created; delete it and create another");
    }
    let url = draft.url.as_deref().and_then(|u| check_url(app, u.trim(), &mut errors));
    let chosen = draft.events.as_deref().map(|e| events(e, &mut errors));
    let description = match &draft.description {
        Some(d) => description(Some(d), &mut errors),
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))?;
    let change = EndpointChange { url, description, events: chosen, enabled: draft.enabled, secret: None };
    let after = store::update(&mut tx, id, &change, app.clock.now()).await?;
    audit::entry(caller, "webhook.update", id.as_uuid()).before(&before).after(&after).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(after)
}

/// Gives the endpoint a new secret, shown this once; requests from now on are signed with it.
pub async fn rotate_secret(app: &App, caller: &Caller, id: WebhookId) -> Result<Created, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.begin().await?;
    store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))?;
    let secret = Secret::generate().reveal();
    let change = EndpointChange { secret: Some(secret.clone()), ..Default::default() };
    let endpoint = store::update(&mut tx, id, &change, app.clock.now()).await?;
    audit::entry(caller, "webhook.rotate_secret", id.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(Created { endpoint, secret })
}

pub async fn delete(app: &App, caller: &Caller, id: WebhookId) -> Result<(), AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))?;
    store::delete(&mut tx, id).await?;
    audit::entry(caller, "webhook.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The endpoint's latest requests, newest first.
pub async fn log(app: &App, caller: &Caller, id: WebhookId) -> Result<Vec<WebhookDelivery>, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.read().await?;
    store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))?;
    Ok(store::log(&mut tx, id, LOGGED).await?)
}

/// Queues a `webhook.test` event for the endpoint; workers send it within a second or so,
/// and it shows in the log like any other. Returns its webhook id.
pub async fn test(app: &App, caller: &Caller, id: WebhookId) -> Result<String, AppError> {
    caller.require(Action::Configure, MANAGE)?;
    let mut tx = app.db.begin().await?;
    let endpoint = store::get(&mut tx, id).await.map_err(not_found("webhook endpoint"))?;
    let now = app.clock.now();
    let data = json!({"endpoint_id": endpoint.id, "note": "A test event from Tidings: nothing to do."});
    let row = store::enqueue_test(&mut tx, id, &body(EventType::Test, now, data), now).await?;
    tx.commit().await?;
    Ok(tidings_store::webhooks::webhook_id(row))
}

/// The request body of an event, as the Standard Webhooks specification shapes it.
fn body(event: EventType, at: Timestamp, data: Value) -> String {
    json!({"type": event, "timestamp": at.to_rfc3339(), "data": data}).to_string()
}

/// Writes `event` to the outbox in the caller's transaction, for every endpoint that takes
/// it in `scope`.
pub(crate) async fn emit(
    tx: &mut Tx,
    event: EventType,
    scope: Scope,
    data: Value,
    at: Timestamp,
) -> Result<(), AppError> {
    store::enqueue(tx, event, scope, &body(event, at, data), at).await?;
    Ok(())
}
