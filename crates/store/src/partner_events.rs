//! Events the vendor's systems post about partners and their people, each stored once
//! under its idempotency key, and the queue of events whose triggers have yet to run.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::automation::{EventType, PartnerEvent};
use tidings_core::{MemberId, PartnerEventId, PartnerId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, placeholders, value_rows};
use crate::{Dialect, Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    idempotency_key: String,
    #[sqlx(rename = "type")]
    event_type: String,
    partner_id: Uuid,
    member_id: Option<Uuid>,
    data: Json<serde_json::Value>,
    occurred_at: i64,
    received_at: i64,
}

const SELECT: &str = "select id, idempotency_key, type, partner_id, member_id, data, occurred_at, received_at \
    from partner_events";

impl TryFrom<EventRow> for PartnerEvent {
    type Error = Error;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(PartnerEvent {
            id: PartnerEventId::from_uuid(r.id),
            idempotency_key: r.idempotency_key,
            event_type: EventType::parse(&r.event_type).map_err(Error::corrupt)?,
            partner_id: PartnerId::from_uuid(r.partner_id),
            member_id: r.member_id.map(MemberId::from_uuid),
            data: r.data.0,
            occurred_at: Timestamp::from_millis(r.occurred_at),
            received_at: Timestamp::from_millis(r.received_at),
        })
    }
}

/// What storing an event came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored {
    /// New: stored, and its triggers queued.
    New,
    /// The same event again (same key, same body): the one stored first.
    Repeat(PartnerEvent),
    /// Another body under a key already used.
    KeyReused,
}

/// An event ready to store, with what tells a repeat from another event under its key.
#[derive(Debug, Clone)]
pub struct NewPartnerEvent {
    pub event: PartnerEvent,
    pub body_hash: String,
}

/// Rows one insert statement carries (nine values a row, within SQLite's limit).
const INSERT_BATCH: usize = 500;

/// Stores each event unless its key is taken (before, or by an event earlier in the
/// list) and queues the triggers of those stored to run at their `received_at`, in the
/// caller's transaction, a few statements for all of them. Returns what each came to, in
/// order.
pub async fn insert_many<E: Borrow<NewPartnerEvent> + Sync>(tx: &mut Tx, events: &[E]) -> Result<Vec<Stored>> {
    let events: Vec<&NewPartnerEvent> = events.iter().map(Borrow::borrow).collect();
    let mut stored: HashSet<Uuid> = HashSet::with_capacity(events.len());
    for chunk in events.chunks(INSERT_BATCH) {
        let rows = value_rows(tx.dialect(), chunk.len(), 9);
        let sql = format!(
            "insert into partner_events (id, idempotency_key, body_hash, type, partner_id, member_id, data, \
             occurred_at, received_at) values {rows} on conflict (idempotency_key) do nothing returning id"
        );
        let ids: Vec<(Uuid,)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for NewPartnerEvent { event: e, body_hash } in chunk {
                q = q
                    .bind(e.id.as_uuid())
                    .bind(e.idempotency_key.as_str())
                    .bind(body_hash.as_str())
                    .bind(e.event_type.as_str())
                    .bind(e.partner_id.as_uuid())
                    .bind(e.member_id.map(|m| m.as_uuid()))
                    .bind(Json(&e.data))
                    .bind(e.occurred_at.as_millis())
                    .bind(e.received_at.as_millis());
            }
            q.fetch_all(c).await
        })?;
        stored.extend(ids.into_iter().map(|(id,)| id));
    }
    let queued: Vec<&PartnerEvent> =
        events.iter().map(|n| &n.event).filter(|e| stored.contains(&e.id.as_uuid())).collect();
    for chunk in queued.chunks(INSERT_BATCH) {
        let rows = value_rows(tx.dialect(), chunk.len(), 2);
        let sql = format!("insert into pending_triggers (event_id, due_at) values {rows}");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q.bind(e.id.as_uuid()).bind(e.received_at.as_millis());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    let taken: Vec<String> = events
        .iter()
        .filter(|n| !stored.contains(&n.event.id.as_uuid()))
        .map(|n| n.event.idempotency_key.clone())
        .collect();
    let first = by_keys(tx, &taken).await?;
    events
        .iter()
        .map(|n| {
            if stored.contains(&n.event.id.as_uuid()) {
                return Ok(Stored::New);
            }
            match first.get(&n.event.idempotency_key) {
                Some((hash, event)) if *hash == n.body_hash => Ok(Stored::Repeat(event.clone())),
                Some(_) => Ok(Stored::KeyReused),
                // Deleted between the two statements (its partner was): the key is free again.
                None => Err(Error::Conflict("the event's key was released while it was stored: send it again".into())),
            }
        })
        .collect()
}

/// The events stored under these keys, with their body hashes, by key.
async fn by_keys(tx: &mut Tx, keys: &[String]) -> Result<HashMap<String, (String, PartnerEvent)>> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(INSERT_BATCH) {
        let sql = format!(
            "select body_hash, id, idempotency_key, type, partner_id, member_id, data, occurred_at, received_at \
             from partner_events where idempotency_key in ({})",
            placeholders(tx.dialect(), 1, chunk.len())
        );
        let values: Vec<Value> = chunk.iter().cloned().map(Value::Text).collect();
        let rows: Vec<HashedRow> =
            on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
        for HashedRow { body_hash, event } in rows {
            let event = PartnerEvent::try_from(event)?;
            out.insert(event.idempotency_key.clone(), (body_hash, event));
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct HashedRow {
    body_hash: String,
    #[sqlx(flatten)]
    event: EventRow,
}

pub async fn get(tx: &mut Tx, id: PartnerEventId) -> Result<PartnerEvent> {
    let sql = format!("{SELECT} where id = $1");
    let row: Option<EventRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id.as_uuid()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// Which events a list holds.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub partner: Option<PartnerId>,
    pub member: Option<MemberId>,
    pub event_type: Option<String>,
}

/// Events newest first; `after` is the last id of the page before.
pub async fn list(
    tx: &mut Tx,
    filter: &EventFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<PartnerEvent>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(p) = filter.partner {
        let n = f.bind(Value::Uuid(p.as_uuid()));
        f.push(format!("partner_id = {n}"));
    }
    if let Some(m) = filter.member {
        let n = f.bind(Value::Uuid(m.as_uuid()));
        f.push(format!("member_id = {n}"));
    }
    if let Some(t) = &filter.event_type {
        let n = f.bind(Value::Text(t.clone()));
        f.push(format!("type = {n}"));
    }
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id < {n}"));
    }
    let sql = format!("{SELECT} {} order by id desc limit {}", f.sql(), limit + 1);
    let rows: Vec<EventRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let items = rows.into_iter().map(PartnerEvent::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(items, limit, |e| e.id.to_string()))
}

/// Takes up to `limit` events whose triggers are due, oldest first. On PostgreSQL the rows
/// stay locked until the transaction ends and other workers skip them, so each event is
/// taken by one worker; the caller removes each with [`done`] in the same transaction.
pub async fn take_pending(tx: &mut Tx, now: Timestamp, limit: i64) -> Result<Vec<PartnerEventId>> {
    let lock = if tx.dialect() == Dialect::Postgres { "for update skip locked" } else { "" };
    // Ties in time go in id order, which is the order they came in on one node.
    let sql =
        format!("select event_id from pending_triggers where due_at <= $1 order by due_at, event_id limit $2 {lock}");
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(now.as_millis())
        .bind(limit)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(|(id,)| PartnerEventId::from_uuid(id)).collect())
}

/// The event's triggers have run.
pub async fn done(tx: &mut Tx, id: PartnerEventId) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from pending_triggers where event_id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Whether the event still waits for its triggers.
pub async fn is_pending(tx: &mut Tx, id: PartnerEventId) -> Result<bool> {
    let row: Option<(i64,)> =
        on_tx!(tx, |c| sqlx::query_as("select due_at from pending_triggers where event_id = $1")
            .bind(id.as_uuid())
            .fetch_optional(c)
            .await)?;
    Ok(row.is_some())
}

/// How many events wait for their triggers.
pub async fn pending(tx: &mut Tx) -> Result<i64> {
    let (n,): (i64,) = on_tx!(tx, |c| sqlx::query_as("select count(*) from pending_triggers").fetch_one(c).await)?;
    Ok(n)
}
