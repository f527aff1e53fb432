//! Webhook endpoints: where, for whom (the vendor, or one partner), which events.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::webhooks::EventType;
use tidings_core::{PartnerId, Timestamp, WebhookId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

/// An endpoint as shown (its secret apart).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endpoint {
    pub id: WebhookId,
    /// The partner whose events it gets; `None`: the vendor's own, every event.
    pub partner_id: Option<PartnerId>,
    pub partner_name: Option<String>,
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub enabled: bool,
    /// Why it was disabled (a 410 answer, days of failures, or by hand).
    pub disabled_reason: Option<String>,
    /// Failing since then, without one success.
    pub failing_since: Option<Timestamp>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: Uuid,
    partner_id: Option<Uuid>,
    partner_name: Option<String>,
    url: String,
    description: String,
    enabled: bool,
    disabled_reason: Option<String>,
    failing_since: Option<i64>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "select e.id, e.partner_id, p.name as partner_name, e.url, e.description, e.enabled, \
     e.disabled_reason, e.failing_since, e.created_by, e.created_at, e.updated_at \
     from webhook_endpoints e left join partners p on p.id = e.partner_id";

async fn with_events(tx: &mut Tx, rows: Vec<EndpointRow>) -> Result<Vec<Endpoint>> {
    let subscriptions: Vec<(Uuid, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select endpoint_id, event_type from webhook_subscriptions order by event_type"
    )
    .fetch_all(c)
    .await)?;
    let mut events: HashMap<Uuid, Vec<EventType>> = HashMap::new();
    for (endpoint, event) in subscriptions {
        events.entry(endpoint).or_default().push(event.parse::<EventType>().map_err(Error::corrupt)?);
    }
    Ok(rows
        .into_iter()
        .map(|r| Endpoint {
            id: WebhookId::from_uuid(r.id),
            partner_id: r.partner_id.map(PartnerId::from_uuid),
            partner_name: r.partner_name,
            url: r.url,
            description: r.description,
            events: events.remove(&r.id).unwrap_or_default(),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            failing_since: r.failing_since.map(Timestamp::from_millis),
            created_by: r.created_by,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
        .collect())
}

/// Every endpoint, newest first.
pub async fn list(tx: &mut Tx) -> Result<Vec<Endpoint>> {
    let sql = format!("{SELECT} order by e.created_at desc, e.id");
    let rows: Vec<EndpointRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).fetch_all(c).await)?;
    with_events(tx, rows).await
}

pub async fn get(tx: &mut Tx, id: WebhookId) -> Result<Endpoint> {
    let sql = format!("{SELECT} where e.id = $1");
    let row: Option<EndpointRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    let row = row.ok_or(Error::NotFound)?;
    with_events(tx, vec![row]).await?.pop().ok_or(Error::NotFound)
}

/// The endpoint's signing secret (`whsec_...`).
pub async fn secret(tx: &mut Tx, id: WebhookId) -> Result<String> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as("select secret from webhook_endpoints where id = $1")
        .bind(id.as_uuid())
        .fetch_optional(c)
        .await)?;
    row.map(|(s,)| s).ok_or(Error::NotFound)
}

async fn subscribe(tx: &mut Tx, id: WebhookId, events: &[EventType]) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from webhook_subscriptions where endpoint_id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|_| ()))?;
    for event in events {
        on_tx!(tx, |c| sqlx::query("insert into webhook_subscriptions (endpoint_id, event_type) values ($1, $2)")
            .bind(id.as_uuid())
            .bind(event.as_str())
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Saves a new endpoint with its secret and subscriptions.
pub async fn insert(tx: &mut Tx, endpoint: &Endpoint, secret: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into webhook_endpoints (id, partner_id, url, description, secret, enabled, created_by, created_at, \
         updated_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $8)"
    )
    .bind(endpoint.id.as_uuid())
    .bind(endpoint.partner_id.map(|p| p.as_uuid()))
    .bind(&endpoint.url)
    .bind(&endpoint.description)
    .bind(secret)
    .bind(endpoint.enabled)
    .bind(&endpoint.created_by)
    .bind(endpoint.created_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    subscribe(tx, endpoint.id, &endpoint.events).await
}

/// What a change sets; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub url: Option<String>,
    pub description: Option<String>,
    pub events: Option<Vec<EventType>>,
    /// Enabling clears the failure record; disabling by hand says so.
    pub enabled: Option<bool>,
    /// A new secret (`whsec_...`).
    pub secret: Option<String>,
}

pub async fn update(tx: &mut Tx, id: WebhookId, change: &EndpointChange, now: Timestamp) -> Result<Endpoint> {
    let before = get(tx, id).await?;
    let enabled = change.enabled.unwrap_or(before.enabled);
    let reason = match (change.enabled, before.enabled) {
        (Some(true), _) => None,
        (Some(false), true) => Some("disabled by hand".to_owned()),
        _ => before.disabled_reason.clone(),
    };
    let failing_since = if change.enabled == Some(true) { None } else { before.failing_since.map(|t| t.as_millis()) };
    on_tx!(tx, |c| sqlx::query(
        "update webhook_endpoints set url = $2, description = $3, enabled = $4, disabled_reason = $5, \
         failing_since = $6, updated_at = $7, secret = coalesce($8, secret) where id = $1"
    )
    .bind(id.as_uuid())
    .bind(change.url.as_deref().unwrap_or(&before.url))
    .bind(change.description.as_deref().unwrap_or(&before.description))
    .bind(enabled)
    .bind(reason)
    .bind(failing_since)
    .bind(now.as_millis())
    .bind(change.secret.as_deref())
    .execute(c)
    .await
    .map(|_| ()))?;
    if let Some(events) = &change.events {
        subscribe(tx, id, events).await?;
    }
    get(tx, id).await
}

/// Deletes an endpoint with its subscriptions and its delivery log; whether it existed.
pub async fn delete(tx: &mut Tx, id: WebhookId) -> Result<bool> {
    let n = on_tx!(tx, |c| sqlx::query("delete from webhook_endpoints where id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}
