//! Triggers staff define, the custom event types they answer, and what each trigger did
//! with each event.

use serde::Serialize;
use tidings_core::automation::{EventSchema, EventType, Trigger};
use tidings_core::{MessageId, PartnerEventId, Slug, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

fn decode(json: &str) -> Result<Trigger> {
    serde_json::from_str(json).map_err(Error::corrupt)
}

/// Saves the trigger under its key, replacing one saved before; returns whether it is new.
pub async fn put(tx: &mut Tx, t: &Trigger) -> Result<bool> {
    let json = serde_json::to_string(t).map_err(Error::corrupt)?;
    let existed = get(tx, &t.key).await.map(|_| true).or_else(|e| match e {
        Error::NotFound => Ok(false),
        other => Err(other),
    })?;
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into triggers (key, event_type, enabled, trigger, created_at, updated_at) values ($1, $2, $3, $4, $5, $6) \
         on conflict (key) do update set event_type = excluded.event_type, enabled = excluded.enabled, \
         trigger = excluded.trigger, updated_at = excluded.updated_at"
    )
    .bind(t.key.as_str())
    .bind(t.event_type.as_str())
    .bind(t.enabled)
    .bind(json.as_str())
    .bind(t.created_at.as_millis())
    .bind(t.updated_at.as_millis())
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(!existed)
}

pub async fn get(tx: &mut Tx, key: &Slug) -> Result<Trigger> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as("select trigger from triggers where key = $1")
        .bind(key.as_str())
        .fetch_optional(c)
        .await)?;
    decode(&row.ok_or(Error::NotFound)?.0)
}

pub async fn list(tx: &mut Tx) -> Result<Vec<Trigger>> {
    let rows: Vec<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select trigger from triggers order by key").fetch_all(c).await)?;
    rows.iter().map(|(j,)| decode(j)).collect()
}

/// The enabled triggers that answer events of `event_type`.
pub async fn enabled_for(tx: &mut Tx, event_type: &EventType) -> Result<Vec<Trigger>> {
    let rows: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "select trigger from triggers where event_type = $1 and enabled = $2 order by key"
    )
    .bind(event_type.as_str())
    .bind(true)
    .fetch_all(c)
    .await)?;
    rows.iter().map(|(j,)| decode(j)).collect()
}

pub async fn delete(tx: &mut Tx, key: &Slug) -> Result<()> {
    let gone = on_tx!(tx, |c| sqlx::query("delete from triggers where key = $1")
        .bind(key.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(gone)
}

/// What a trigger did with one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Firing {
    pub trigger: String,
    pub event_id: PartnerEventId,
    /// The message it made, if it made one.
    pub message_id: Option<MessageId>,
    /// `sent` (a message was made; it goes at its time), `task for <manager>` (a trigger
    /// for the partner manager), `condition_not_met`, `no_recipient: ...` or `failed: <why>`.
    pub outcome: String,
    pub fired_at: Timestamp,
}

/// Records a firing; `false` when the trigger already answered the event (it never does twice).
pub async fn record_firing(tx: &mut Tx, f: &Firing) -> Result<bool> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "insert into trigger_firings (trigger_key, event_id, message_id, outcome, fired_at) values ($1, $2, $3, $4, $5) \
         on conflict do nothing"
    )
    .bind(f.trigger.as_str())
    .bind(f.event_id.as_uuid())
    .bind(f.message_id.map(|m| m.as_uuid()))
    .bind(f.outcome.as_str())
    .bind(f.fired_at.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

type FiringRow = (String, Uuid, Option<Uuid>, String, i64);

fn firing((trigger, event, message, outcome, at): FiringRow) -> Firing {
    Firing {
        trigger,
        event_id: PartnerEventId::from_uuid(event),
        message_id: message.map(MessageId::from_uuid),
        outcome,
        fired_at: Timestamp::from_millis(at),
    }
}

/// What the triggers did with one event.
pub async fn firings_of_event(tx: &mut Tx, event: PartnerEventId) -> Result<Vec<Firing>> {
    let rows: Vec<FiringRow> = on_tx!(tx, |c| sqlx::query_as(
        "select trigger_key, event_id, message_id, outcome, fired_at from trigger_firings where event_id = $1 \
         order by trigger_key"
    )
    .bind(event.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(firing).collect())
}

/// A trigger's counts: events it answered (a message, or a task for the partner manager),
/// and events it let pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FiringCounts {
    pub sent: i64,
    pub passed: i64,
}

pub async fn counts(tx: &mut Tx, key: &Slug) -> Result<FiringCounts> {
    let (sent, all): (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "select coalesce(sum(case when message_id is not null or outcome like 'task for %' then 1 else 0 end), 0), \
         count(*) \
         from trigger_firings where trigger_key = $1"
    )
    .bind(key.as_str())
    .fetch_one(c)
    .await)?;
    Ok(FiringCounts { sent, passed: all - sent })
}

/// A custom event type as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclaredType {
    pub name: EventType,
    pub description: String,
    pub schema: EventSchema,
}

pub async fn put_type(tx: &mut Tx, t: &DeclaredType, now: Timestamp) -> Result<()> {
    let schema = serde_json::to_string(&t.schema).map_err(Error::corrupt)?;
    on_tx!(tx, |c| sqlx::query(
        "insert into event_types (name, description, schema, created_at, updated_at) values ($1, $2, $3, $4, $4) \
         on conflict (name) do update set description = excluded.description, schema = excluded.schema, \
         updated_at = excluded.updated_at"
    )
    .bind(t.name.as_str())
    .bind(t.description.as_str())
    .bind(schema)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn get_type(tx: &mut Tx, name: &EventType) -> Result<DeclaredType> {
    let row: Option<(String, String)> =
        on_tx!(tx, |c| sqlx::query_as("select description, schema from event_types where name = $1")
            .bind(name.as_str())
            .fetch_optional(c)
            .await)?;
    let (description, schema) = row.ok_or(Error::NotFound)?;
    Ok(DeclaredType { name: name.clone(), description, schema: serde_json::from_str(&schema).map_err(Error::corrupt)? })
}

pub async fn list_types(tx: &mut Tx) -> Result<Vec<DeclaredType>> {
    let rows: Vec<(String, String, String)> =
        on_tx!(tx, |c| sqlx::query_as("select name, description, schema from event_types order by name")
            .fetch_all(c)
            .await)?;
    rows.into_iter()
        .map(|(name, description, schema)| {
            Ok(DeclaredType {
                name: EventType::parse(&name).map_err(Error::corrupt)?,
                description,
                schema: serde_json::from_str(&schema).map_err(Error::corrupt)?,
            })
        })
        .collect()
}

pub async fn delete_type(tx: &mut Tx, name: &EventType) -> Result<()> {
    let gone = on_tx!(tx, |c| sqlx::query("delete from event_types where name = $1")
        .bind(name.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(gone)
}
