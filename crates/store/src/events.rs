//! Engagement events, appended per message, member and channel; never changed. "Queued"
//! is not stored as a row of its own: the recipient and delivery rows written by the
//! release are that event, and listing queued events reads them.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::consent::Channel;
use tidings_core::deliveries::{EventKind, Purpose};
use tidings_core::{MemberId, MessageId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit};
use crate::{Error, Result, Tx};

/// An event to append.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Option<Channel>,
    /// Which send of the message a delivery's event is about; `None` for a member's own
    /// steps (opened, read, acknowledged, ...).
    pub purpose: Option<Purpose>,
    pub kind: EventKind,
    pub at: Timestamp,
    /// What else is known: the link clicked, the reason of a failure, IP and user agent.
    pub detail: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    /// Absent for queued events, which are read from the delivery rows.
    pub id: Option<i64>,
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Option<Channel>,
    /// Which send a delivery's event is about (`initial`, `reminder-1`, ...); absent for a
    /// member's own steps and the inbox.
    pub purpose: Option<Purpose>,
    pub kind: EventKind,
    pub at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub detail: Option<serde_json::Value>,
}

const COLUMNS: usize = 7;
const CHUNK: usize = 100;

/// Appends events, many per statement.
pub async fn append(tx: &mut Tx, events: &[NewEvent]) -> Result<()> {
    for chunk in events.chunks(CHUNK) {
        let rows = crate::sql::value_rows(tx.dialect(), chunk.len(), COLUMNS);
        let sql =
            format!("insert into events (message_id, member_id, channel, purpose, kind, at, detail) values {rows}");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(e.message_id.as_uuid())
                    .bind(e.member_id.as_uuid())
                    .bind(e.channel.map(Channel::as_str))
                    .bind(e.purpose.map(|p| p.to_string()))
                    .bind(e.kind.as_str())
                    .bind(e.at.as_millis())
                    .bind(e.detail.as_ref().map(Json));
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub kind: Option<EventKind>,
    pub member_id: Option<MemberId>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Option<i64>,
    message_id: Uuid,
    member_id: Uuid,
    channel: Option<String>,
    purpose: Option<String>,
    kind: String,
    at: i64,
    detail: Option<Json<serde_json::Value>>,
}

impl TryFrom<EventRow> for Event {
    type Error = Error;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(Self {
            id: r.id,
            message_id: MessageId::from_uuid(r.message_id),
            member_id: MemberId::from_uuid(r.member_id),
            channel: r.channel.map(|c| c.parse::<Channel>()).transpose().map_err(Error::corrupt)?,
            purpose: r.purpose.map(|p| p.parse::<Purpose>()).transpose().map_err(Error::corrupt)?,
            kind: r.kind.parse::<EventKind>().map_err(Error::corrupt)?,
            at: Timestamp::from_millis(r.at),
            detail: r.detail.map(|d| d.0),
        })
    }
}

/// A message's events, oldest first, a page at a time. The cursor is opaque.
pub async fn list(
    tx: &mut Tx,
    message: MessageId,
    filter: &EventFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Event>> {
    if filter.kind == Some(EventKind::Queued) {
        return list_queued(tx, message, filter.member_id, after, limit).await;
    }
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    let n = f.bind(Value::Uuid(message.as_uuid()));
    f.push(format!("message_id = {n}"));
    if let Some(kind) = filter.kind {
        let n = f.bind(Value::Text(kind.as_str().to_owned()));
        f.push(format!("kind = {n}"));
    }
    if let Some(member) = filter.member_id {
        let n = f.bind(Value::Uuid(member.as_uuid()));
        f.push(format!("member_id = {n}"));
    }
    if let Some(after) = after.and_then(|a| a.parse::<i64>().ok()) {
        let n = f.bind(Value::Int(after));
        f.push(format!("id > {n}"));
    }
    let sql = format!(
        "select id, message_id, member_id, channel, purpose, kind, at, detail from events {} order by id limit {}",
        f.sql(),
        limit + 1
    );
    let rows: Vec<EventRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let items = rows.into_iter().map(Event::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(items, limit, |e| e.id.unwrap_or_default().to_string()))
}

/// Queued events: one per recipient (the inbox) and one per delivery, by member. The
/// cursor is the last member listed, so a page holds whole members.
async fn list_queued(
    tx: &mut Tx,
    message: MessageId,
    member: Option<MemberId>,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Event>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    let msg = f.bind(Value::Uuid(message.as_uuid()));
    let mut narrow = String::new();
    if let Some(member) = member {
        narrow.push_str(&format!(" and r.member_id = {}", f.bind(Value::Uuid(member.as_uuid()))));
    }
    if let Some(after) = after.and_then(|a| Uuid::parse_str(a).ok()) {
        narrow.push_str(&format!(" and r.member_id > {}", f.bind(Value::Uuid(after))));
    }
    let sql = format!(
        "with page as (select r.member_id, r.released_at from recipients r where r.message_id = {msg}{narrow} \
         order by r.member_id limit {}) \
         select cast(null as bigint) as id, {msg} as message_id, page.member_id, 'inbox' as channel, \
         cast(null as text) as purpose, 'queued' as kind, page.released_at as at, cast(null as jsonb) as detail \
         from page \
         union all \
         select cast(null as bigint), d.message_id, d.member_id, d.channel, d.purpose, 'queued', page.released_at, \
         cast(null as jsonb) from page join deliveries d on d.message_id = {msg} and d.member_id = page.member_id \
         order by member_id, channel, purpose",
        limit + 1
    );
    let rows: Vec<EventRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let mut items = rows.into_iter().map(Event::try_from).collect::<Result<Vec<_>>>()?;
    let mut members: Vec<MemberId> = items.iter().map(|e| e.member_id).collect();
    members.dedup();
    let next = if members.len() > limit {
        let last = members[limit - 1];
        items.retain(|e| e.member_id <= last);
        Some(last.to_string())
    } else {
        None
    };
    Ok(Page { items, next })
}

/// When the first event of a kind happened for one member's copy of a message.
pub async fn first_at(tx: &mut Tx, message: MessageId, member: MemberId, kind: EventKind) -> Result<Option<Timestamp>> {
    let at: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "select min(at) from events where message_id = $1 and kind = $2 and member_id = $3"
    )
    .bind(message.as_uuid())
    .bind(kind.as_str())
    .bind(member.as_uuid())
    .fetch_one(c)
    .await)?;
    Ok(at.map(Timestamp::from_millis))
}
