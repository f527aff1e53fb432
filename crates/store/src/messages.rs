//! Messages. Content, audience, channels and acknowledgment travel as JSON; state and
//! times are plain columns, for the scheduler and lists.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::audiences::AudienceDraft;
use tidings_core::consent::Channel;
use tidings_core::messages::{Acknowledgment, Content, Importance, Message, MessageState, TriggeredBy};
use tidings_core::{MessageId, TimeZone, Timestamp, TopicId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, placeholders};
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: Uuid,
    topic_id: Uuid,
    importance: String,
    state: String,
    content: Json<Content>,
    audience: Json<AudienceDraft>,
    channels: Option<Json<Vec<Channel>>>,
    acknowledgment: Option<Json<Acknowledgment>>,
    version: i64,
    send_at: Option<i64>,
    time_zone: String,
    expires_at: Option<i64>,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    triggered_by: Option<Json<TriggeredBy>>,
}

const SELECT: &str = "select id, topic_id, importance, state, content, audience, channels, acknowledgment, version, send_at, \
    time_zone, expires_at, created_by, created_at, updated_at, triggered_by from messages";

impl TryFrom<MessageRow> for Message {
    type Error = Error;
    fn try_from(r: MessageRow) -> Result<Self> {
        Ok(Message {
            id: MessageId::from_uuid(r.id),
            topic_id: TopicId::from_uuid(r.topic_id),
            importance: r.importance.parse::<Importance>().map_err(Error::corrupt)?,
            state: r.state.parse::<MessageState>().map_err(Error::corrupt)?,
            content: r.content.0,
            audience: r.audience.0,
            channels: r.channels.map(|c| c.0),
            acknowledgment: r.acknowledgment.map(|a| a.0),
            version: u32::try_from(r.version).map_err(Error::corrupt)?,
            send_at: r.send_at.map(Timestamp::from_millis),
            time_zone: TimeZone::parse(&r.time_zone).map_err(Error::corrupt)?,
            expires_at: r.expires_at.map(Timestamp::from_millis),
            created_by: r.created_by,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
            triggered_by: r.triggered_by.map(|t| t.0),
        })
    }
}

pub async fn insert(tx: &mut Tx, m: &Message) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into messages (id, topic_id, importance, state, content, audience, channels, acknowledgment, send_at, \
         expires_at, created_by, created_at, updated_at, time_zone, triggered_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )
    .bind(m.id.as_uuid())
    .bind(m.topic_id.as_uuid())
    .bind(m.importance.as_str())
    .bind(m.state.as_str())
    .bind(Json(m.content.clone()))
    .bind(Json(m.audience.clone()))
    .bind(m.channels.clone().map(Json))
    .bind(m.acknowledgment.clone().map(Json))
    .bind(m.send_at.map(Timestamp::as_millis))
    .bind(m.expires_at.map(Timestamp::as_millis))
    .bind(m.created_by.clone())
    .bind(m.created_at.as_millis())
    .bind(m.updated_at.as_millis())
    .bind(m.time_zone.as_str())
    .bind(m.triggered_by.clone().map(Json))
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Saves every field of `m`, but only if the stored state is still `expected`: two
/// writers racing (an edit and a release) cannot both win.
pub async fn update(tx: &mut Tx, m: &Message, expected: MessageState) -> Result<()> {
    let done = on_tx!(tx, |c| {
        sqlx::query(
        "update messages set topic_id = $2, importance = $3, state = $4, content = $5, audience = $6, channels = $7, \
         acknowledgment = $8, send_at = $9, expires_at = $10, updated_at = $11, time_zone = $13 \
         where id = $1 and state = $12"
    )
    .bind(m.id.as_uuid())
    .bind(m.topic_id.as_uuid())
    .bind(m.importance.as_str())
    .bind(m.state.as_str())
    .bind(Json(m.content.clone()))
    .bind(Json(m.audience.clone()))
    .bind(m.channels.clone().map(Json))
    .bind(m.acknowledgment.clone().map(Json))
    .bind(m.send_at.map(Timestamp::as_millis))
    .bind(m.expires_at.map(Timestamp::as_millis))
    .bind(m.updated_at.as_millis())
    .bind(expected.as_str())
    .bind(m.time_zone.as_str())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(Error::Conflict("the message changed meanwhile; reload it".into()));
    }
    Ok(())
}

pub async fn get(tx: &mut Tx, id: MessageId) -> Result<Message> {
    let sql = format!("{SELECT} where id = $1");
    let row: Option<MessageRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// The messages with these ids (those that exist), by id.
pub async fn get_many(tx: &mut Tx, ids: &[MessageId]) -> Result<HashMap<MessageId, Message>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!("{SELECT} where id in ({})", placeholders(tx.dialect(), 1, ids.len()));
    let values: Vec<Value> = ids.iter().map(|id| Value::Uuid(id.as_uuid())).collect();
    let rows: Vec<MessageRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    rows.into_iter().map(|r| Message::try_from(r).map(|m| (m.id, m))).collect()
}

#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub state: Option<MessageState>,
    pub topic_id: Option<TopicId>,
    /// Newest first (the console); oldest first otherwise (the API's stable order).
    pub newest_first: bool,
}

pub async fn list(
    tx: &mut Tx,
    filter: &MessageFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Message>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(state) = filter.state {
        let n = f.bind(Value::Text(state.as_str().to_owned()));
        f.push(format!("state = {n}"));
    }
    if let Some(topic) = filter.topic_id {
        let n = f.bind(Value::Uuid(topic.as_uuid()));
        f.push(format!("topic_id = {n}"));
    }
    let (before_or_after, order) = if filter.newest_first { ("<", "desc") } else { (">", "asc") };
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id {before_or_after} {n}"));
    }
    let sql = format!("{SELECT} {} order by id {order} limit {}", f.sql(), limit + 1);
    let rows: Vec<MessageRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let items = rows.into_iter().map(Message::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(items, limit, |m| m.id.to_string()))
}

/// Moves a message to sending and stamps its release time, if it is still in `expected`.
pub async fn start_release(tx: &mut Tx, id: MessageId, expected: MessageState, now: Timestamp) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query(
        "update messages set state = 'sending', released_at = $3, updated_at = $3 where id = $1 and state = $2"
    )
    .bind(id.as_uuid())
    .bind(expected.as_str())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        return Err(Error::Conflict("the message changed meanwhile; reload it".into()));
    }
    Ok(())
}

/// Scheduled messages whose time has come.
pub async fn due(tx: &mut Tx, now: Timestamp) -> Result<Vec<MessageId>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(
        "select id from messages where state = 'scheduled' and send_at <= $1 order by send_at"
    )
    .bind(now.as_millis())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| MessageId::from_uuid(id)).collect())
}

/// Messages whose release started and has not finished (a process stopped during it).
pub async fn unfinished_releases(tx: &mut Tx) -> Result<Vec<MessageId>> {
    let rows: Vec<(Uuid,)> =
        on_tx!(tx, |c| sqlx::query_as("select id from messages where state = 'sending' and not release_done")
            .fetch_all(c)
            .await)?;
    Ok(rows.into_iter().map(|(id,)| MessageId::from_uuid(id)).collect())
}

/// When the message was released, if it was.
pub async fn released_at(tx: &mut Tx, id: MessageId) -> Result<Option<Timestamp>> {
    let at: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar("select released_at from messages where id = $1")
        .bind(id.as_uuid())
        .fetch_one(c)
        .await)?;
    Ok(at.map(Timestamp::from_millis))
}

/// Released must-know messages that ask for acknowledgment, newest release first, with
/// their release time; test-send copies left out.
pub async fn released_critical(tx: &mut Tx, limit: i64) -> Result<Vec<(Message, Timestamp)>> {
    let ids: Vec<(Uuid, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select id, released_at from messages where importance = 'critical' and acknowledgment is not null \
         and released_at is not null order by released_at desc, id desc limit $1"
    )
    .bind(limit.saturating_mul(2))
    .fetch_all(c)
    .await)?;
    let mut found = Vec::with_capacity(ids.len());
    for (id, released_at) in ids {
        let message = get(tx, MessageId::from_uuid(id)).await?;
        if !message.audience.test_send && found.len() < usize::try_from(limit).unwrap_or(0) {
            found.push((message, Timestamp::from_millis(released_at)));
        }
    }
    Ok(found)
}

/// Which of these messages are must-know (their deliveries are evidence).
/// The messages of `importance` released at or after `since`, other than `except`: what a
/// frequency cap counts.
pub async fn released_since(
    tx: &mut Tx,
    importance: tidings_core::messages::Importance,
    since: Timestamp,
    except: MessageId,
) -> Result<Vec<MessageId>> {
    let rows: Vec<Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
        "select id from messages where importance = $1 and released_at >= $2 and id <> $3 order by id"
    )
    .bind(importance.as_str())
    .bind(since.as_millis())
    .bind(except.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(MessageId::from_uuid).collect())
}

pub async fn critical_among(tx: &mut Tx, ids: &[MessageId]) -> Result<std::collections::HashSet<MessageId>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "select id from messages where importance = 'critical' and id in ({})",
        placeholders(tx.dialect(), 1, ids.len())
    );
    let rows: Vec<Uuid> = on_tx!(tx, |c| {
        let mut q = sqlx::query_scalar(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.as_uuid());
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(MessageId::from_uuid).collect())
}
