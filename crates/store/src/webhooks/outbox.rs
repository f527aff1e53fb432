//! The outbox of webhook requests. A change enqueues its event in its own transaction, one
//! row per enabled endpoint subscribed to it (and, for a partner's endpoint, only events
//! about that partner); workers claim due rows under a lease, send them signed, and save
//! what each attempt came to, keeping each endpoint's failure record.

use sqlx::AssertSqlSafe;
use tidings_core::webhooks::{DISABLE_AFTER_MS, EventType};
use tidings_core::{MemberId, MessageId, PartnerId, Timestamp, WebhookId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Dialect, Error, Result, Tx};

/// Whose event it is: vendor endpoints get every event; a partner's endpoint only those
/// about its partner.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    Partner(PartnerId),
    /// About a member: their partner's endpoints get it.
    MemberOf(MemberId),
    /// About a message: the endpoints of the partners it reached get it.
    PartnersReached(MessageId),
}

/// Whether any enabled endpoint takes `event` (so a busy path can skip building events).
pub async fn any_subscribed(tx: &mut Tx, event: EventType) -> Result<bool> {
    let row: Option<(i32,)> = on_tx!(tx, |c| sqlx::query_as(
        "select 1 from webhook_subscriptions s join webhook_endpoints e on e.id = s.endpoint_id \
         where s.event_type = $1 and e.enabled limit 1"
    )
    .bind(event.as_str())
    .fetch_optional(c)
    .await)?;
    Ok(row.is_some())
}

/// Enqueues `payload` (the whole request body) for every enabled endpoint subscribed to
/// `event` in `scope`; returns how many.
pub async fn enqueue(tx: &mut Tx, event: EventType, scope: Scope, payload: &str, now: Timestamp) -> Result<usize> {
    let (condition, subject) = match scope {
        Scope::Partner(p) => ("e.partner_id = $2", p.as_uuid()),
        Scope::MemberOf(m) => ("e.partner_id = (select partner_id from members where id = $2)", m.as_uuid()),
        Scope::PartnersReached(m) => {
            ("e.partner_id in (select distinct partner_id from recipients where message_id = $2)", m.as_uuid())
        }
    };
    let sql = format!(
        "select e.id from webhook_endpoints e join webhook_subscriptions s on s.endpoint_id = e.id \
         where s.event_type = $1 and e.enabled and (e.partner_id is null or {condition})"
    );
    let endpoints: Vec<(Uuid,)> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(event.as_str()).bind(subject).fetch_all(c).await)?;
    for (endpoint,) in &endpoints {
        insert(tx, WebhookId::from_uuid(*endpoint), event, payload, now).await?;
    }
    Ok(endpoints.len())
}

/// Enqueues a test event for one endpoint, whatever it subscribes to; returns its id.
pub async fn enqueue_test(tx: &mut Tx, endpoint: WebhookId, payload: &str, now: Timestamp) -> Result<Uuid> {
    insert(tx, endpoint, EventType::Test, payload, now).await
}

async fn insert(tx: &mut Tx, endpoint: WebhookId, event: EventType, payload: &str, now: Timestamp) -> Result<Uuid> {
    let id = Uuid::now_v7();
    on_tx!(tx, |c| sqlx::query(
        "insert into webhook_deliveries (id, endpoint_id, event_type, payload, status, attempts, due_at, created_at, \
         updated_at) values ($1, $2, $3, $4, 'queued', 0, $5, $5, $5)"
    )
    .bind(id)
    .bind(endpoint.as_uuid())
    .bind(event.as_str())
    .bind(payload)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(id)
}

/// A request a worker holds under a lease, with where it goes and how it is signed.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The `webhook-id`: the same on every attempt.
    pub id: Uuid,
    pub endpoint_id: WebhookId,
    pub url: String,
    pub secret: String,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: Uuid,
    endpoint_id: Uuid,
    payload: String,
    attempts: i32,
}

/// Claims up to `limit` due requests to enabled endpoints until `lease_until` (a request
/// to a disabled endpoint waits until it is enabled again).
pub async fn claim(tx: &mut Tx, now: Timestamp, lease_until: Timestamp, limit: usize) -> Result<Vec<Claimed>> {
    let lock = if tx.dialect() == Dialect::Postgres { "for update of d skip locked" } else { "" };
    let sql = format!(
        "update webhook_deliveries set status = 'sending', attempts = attempts + 1, due_at = $1, updated_at = $2 \
         where id in (select d.id from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id \
         where d.due_at <= $2 and e.enabled order by d.due_at, d.id limit {limit} {lock}) \
         returning id, endpoint_id, payload, attempts"
    );
    let mut rows: Vec<ClaimedRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_all(c)
        .await)?;
    // RETURNING keeps no order: oldest first (ids are time-ordered), so they start in the
    // order the events happened.
    rows.sort_by_key(|r| r.id);
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let endpoint = WebhookId::from_uuid(r.endpoint_id);
        let (url, secret): (String, String) =
            on_tx!(tx, |c| sqlx::query_as("select url, secret from webhook_endpoints where id = $1")
                .bind(r.endpoint_id)
                .fetch_one(c)
                .await)?;
        claimed.push(Claimed {
            id: r.id,
            endpoint_id: endpoint,
            url,
            secret,
            payload: r.payload,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
        });
    }
    Ok(claimed)
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Settled<'a> {
    pub claimed: &'a Claimed,
    /// 2xx.
    pub ok: bool,
    /// When to try again; `None` with `ok` false: failed for good.
    pub retry_at: Option<Timestamp>,
    pub response_status: Option<u16>,
    pub error: Option<&'a str>,
    /// The endpoint answered 410 Gone: it is disabled.
    pub gone: bool,
}

/// Saves outcomes (each only if it is still the attempt its worker claimed) and keeps each
/// endpoint's failure record: a success clears it; a 410, or failures for
/// `DISABLE_AFTER_MS` without a success, disable the endpoint. Returns how many it saved.
pub async fn settle(tx: &mut Tx, outcomes: &[Settled<'_>], now: Timestamp) -> Result<usize> {
    let mut saved = 0;
    for o in outcomes {
        let status = match (o.ok, o.retry_at) {
            (true, _) => "sent",
            (false, Some(_)) => "queued",
            (false, None) => "failed",
        };
        let n = on_tx!(tx, |c| {
            sqlx::query(
            "update webhook_deliveries set status = $2, due_at = $3, response_status = $4, error = $5, updated_at = $6 \
             where id = $1 and status = 'sending' and attempts = $7"
        )
        .bind(o.claimed.id)
        .bind(status)
        .bind(o.retry_at.map(Timestamp::as_millis))
        .bind(o.response_status.map(i32::from))
        .bind(o.error)
        .bind(now.as_millis())
        .bind(i32::try_from(o.claimed.attempts).unwrap_or(i32::MAX))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
        })?;
        if n == 0 {
            continue;
        }
        saved += 1;
        let endpoint = o.claimed.endpoint_id.as_uuid();
        if o.ok {
            on_tx!(tx, |c| sqlx::query("update webhook_endpoints set failing_since = null where id = $1")
                .bind(endpoint)
                .execute(c)
                .await
                .map(|_| ()))?;
            continue;
        }
        on_tx!(tx, |c| sqlx::query(
            "update webhook_endpoints set failing_since = coalesce(failing_since, $2) where id = $1"
        )
        .bind(endpoint)
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|_| ()))?;
        let reason = if o.gone {
            Some("the endpoint answered 410 Gone".to_owned())
        } else {
            let since: Option<(Option<i64>,)> =
                on_tx!(tx, |c| sqlx::query_as("select failing_since from webhook_endpoints where id = $1")
                    .bind(endpoint)
                    .fetch_optional(c)
                    .await)?;
            since
                .and_then(|(s,)| s)
                .filter(|s| now.as_millis() - s >= DISABLE_AFTER_MS)
                .map(|_| format!("every request failed for {} days", DISABLE_AFTER_MS / 86_400_000))
        };
        if let Some(reason) = reason {
            on_tx!(tx, |c| sqlx::query(
                "update webhook_endpoints set enabled = false, disabled_reason = $2, updated_at = $3 where id = $1"
            )
            .bind(endpoint)
            .bind(reason)
            .bind(now.as_millis())
            .execute(c)
            .await
            .map(|_| ()))?;
        }
    }
    Ok(saved)
}

/// One request in an endpoint's delivery log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    /// The `webhook-id` it is sent with.
    pub id: String,
    pub event_type: EventType,
    /// `queued` (waiting, or to be tried again), `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    /// When it is tried next, while queued.
    pub next_attempt_at: Option<Timestamp>,
    /// The endpoint's last HTTP status.
    pub response_status: Option<u16>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The body as sent.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub payload: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct LogRow {
    id: Uuid,
    event_type: String,
    payload: String,
    status: String,
    attempts: i32,
    due_at: Option<i64>,
    response_status: Option<i32>,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

/// The webhook id as sent: `msg_` and the row's id.
pub fn webhook_id(id: Uuid) -> String {
    format!("msg_{}", id.simple())
}

/// An endpoint's latest requests, newest first.
pub async fn log(tx: &mut Tx, endpoint: WebhookId, limit: u32) -> Result<Vec<WebhookDelivery>> {
    let sql = format!(
        "select id, event_type, payload, status, attempts, due_at, response_status, error, created_at, updated_at \
         from webhook_deliveries where endpoint_id = $1 order by created_at desc, id desc limit {limit}"
    );
    let rows: Vec<LogRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(endpoint.as_uuid()).fetch_all(c).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(WebhookDelivery {
                id: webhook_id(r.id),
                event_type: r.event_type.parse::<EventType>().map_err(Error::corrupt)?,
                next_attempt_at: if r.status == "queued" { r.due_at.map(Timestamp::from_millis) } else { None },
                status: r.status,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                response_status: r.response_status.and_then(|s| u16::try_from(s).ok()),
                error: r.error,
                payload: serde_json::from_str(&r.payload).map_err(Error::corrupt)?,
                created_at: Timestamp::from_millis(r.created_at),
                updated_at: Timestamp::from_millis(r.updated_at),
            })
        })
        .collect()
}
