//! Escalation ladders: those staff define, a topic's ladder, and each released message's
//! copy of its ladder with the next step to run.

use sqlx::AssertSqlSafe;
use tidings_core::escalation::Ladder;
use tidings_core::{MessageId, Slug, Timestamp, TopicId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

fn decode(json: &str) -> Result<Ladder> {
    serde_json::from_str(json).map_err(Error::corrupt)
}

fn encode(ladder: &Ladder) -> Result<String> {
    serde_json::to_string(ladder).map_err(Error::corrupt)
}

/// Saves the ladder under its key, replacing one saved before; returns whether it is new.
pub async fn put(tx: &mut Tx, ladder: &Ladder, now: Timestamp) -> Result<bool> {
    let json = encode(ladder)?;
    let existed: Option<(i64,)> =
        on_tx!(tx, |c| sqlx::query_as("select created_at from escalation_ladders where key = $1")
            .bind(ladder.key.as_str())
            .fetch_optional(c)
            .await)?;
    on_tx!(tx, |c| sqlx::query(
        "insert into escalation_ladders (key, ladder, created_at, updated_at) values ($1, $2, $3, $3) \
         on conflict (key) do update set ladder = excluded.ladder, updated_at = excluded.updated_at"
    )
    .bind(ladder.key.as_str())
    .bind(json)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(existed.is_none())
}

pub async fn get(tx: &mut Tx, key: &Slug) -> Result<Ladder> {
    let row: Option<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select ladder from escalation_ladders where key = $1")
            .bind(key.as_str())
            .fetch_optional(c)
            .await)?;
    decode(&row.ok_or(Error::NotFound)?.0)
}

pub async fn list(tx: &mut Tx) -> Result<Vec<Ladder>> {
    let rows: Vec<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select ladder from escalation_ladders order by key").fetch_all(c).await)?;
    rows.iter().map(|(j,)| decode(j)).collect()
}

/// Deletes the ladder; topics that used it have none after. Messages already released
/// keep their copy.
pub async fn delete(tx: &mut Tx, key: &Slug) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("update topics set ladder_key = null where ladder_key = $1")
        .bind(key.as_str())
        .execute(c)
        .await
        .map(|_| ()))?;
    let gone = on_tx!(tx, |c| sqlx::query("delete from escalation_ladders where key = $1")
        .bind(key.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(gone)
}

/// The ladder of the topic's must-know messages, if it has one.
pub async fn of_topic(tx: &mut Tx, topic: TopicId) -> Result<Option<Slug>> {
    let row: Option<(Option<String>,)> = on_tx!(tx, |c| sqlx::query_as("select ladder_key from topics where id = $1")
        .bind(topic.as_uuid())
        .fetch_optional(c)
        .await)?;
    row.and_then(|(k,)| k).map(|k| Slug::parse(&k).map_err(Error::corrupt)).transpose()
}

/// Gives the topic a ladder (or none).
pub async fn set_for_topic(tx: &mut Tx, topic: TopicId, ladder: Option<&Slug>) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("update topics set ladder_key = $2 where id = $1")
        .bind(topic.as_uuid())
        .bind(ladder.map(Slug::as_str))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}

/// A released message's ladder and how far it has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub message_id: MessageId,
    pub ladder: Ladder,
    pub started_at: Timestamp,
    /// The next step to run (an index into `ladder.schedule`).
    pub next_step: u16,
    /// `None`: every step ran.
    pub next_due_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct RunningRow {
    message_id: Uuid,
    ladder: String,
    started_at: i64,
    next_step: i64,
    next_due_at: Option<i64>,
}

impl TryFrom<RunningRow> for Running {
    type Error = Error;
    fn try_from(r: RunningRow) -> Result<Self> {
        Ok(Self {
            message_id: MessageId::from_uuid(r.message_id),
            ladder: decode(&r.ladder)?,
            started_at: Timestamp::from_millis(r.started_at),
            next_step: u16::try_from(r.next_step).map_err(Error::corrupt)?,
            next_due_at: r.next_due_at.map(Timestamp::from_millis),
        })
    }
}

const RUNNING: &str = "select message_id, ladder, started_at, next_step, next_due_at from message_ladders";

/// Copies the ladder onto the released message, its first step due on schedule.
pub async fn start(tx: &mut Tx, message: MessageId, ladder: &Ladder, started_at: Timestamp) -> Result<()> {
    let first = ladder.schedule(started_at).first().map(|s| s.due_at.as_millis());
    let json = encode(ladder)?;
    on_tx!(tx, |c| sqlx::query(
        "insert into message_ladders (message_id, ladder, started_at, next_step, next_due_at) \
         values ($1, $2, $3, 0, $4) on conflict (message_id) do nothing"
    )
    .bind(message.as_uuid())
    .bind(&json)
    .bind(started_at.as_millis())
    .bind(first)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn running(tx: &mut Tx, message: MessageId) -> Result<Option<Running>> {
    let sql = format!("{RUNNING} where message_id = $1");
    let row: Option<RunningRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_optional(c).await)?;
    row.map(Running::try_from).transpose()
}

/// `running`, its row locked on PostgreSQL until the transaction ends: of two workers
/// about to run one step, the second waits and then sees it ran.
pub async fn running_locked(tx: &mut Tx, message: MessageId) -> Result<Option<Running>> {
    let lock = if tx.dialect() == crate::Dialect::Postgres { " for update" } else { "" };
    let sql = format!("{RUNNING} where message_id = $1{lock}");
    let row: Option<RunningRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_optional(c).await)?;
    row.map(Running::try_from).transpose()
}

/// The ladders with a step due at `now`, oldest first.
pub async fn due(tx: &mut Tx, now: Timestamp, limit: i64) -> Result<Vec<Running>> {
    let sql = format!("{RUNNING} where next_due_at is not null and next_due_at <= $1 order by next_due_at limit $2");
    let rows: Vec<RunningRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(now.as_millis()).bind(limit).fetch_all(c).await)?;
    rows.into_iter().map(Running::try_from).collect()
}

/// Moves the ladder on from step `from` to the next (due at `next_due_at`, `None` when
/// none is left); false when another worker moved it first. Called in the transaction
/// that queues step `from`'s sends, so the step runs once, whole.
pub async fn advance(tx: &mut Tx, message: MessageId, from: u16, next_due_at: Option<Timestamp>) -> Result<bool> {
    let moved = on_tx!(tx, |c| sqlx::query(
        "update message_ladders set next_step = next_step + 1, next_due_at = $3 \
         where message_id = $1 and next_step = $2"
    )
    .bind(message.as_uuid())
    .bind(i64::from(from))
    .bind(next_due_at.map(Timestamp::as_millis))
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(moved == 1)
}

/// Stops the ladder: nothing more is sent (the message was withdrawn or every partner met).
pub async fn stop(tx: &mut Tx, message: MessageId) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("update message_ladders set next_due_at = null where message_id = $1")
        .bind(message.as_uuid())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Sets a stopped ladder's next step due at `at` (a material correction asks everyone
/// again, so it chases again).
pub async fn resume(tx: &mut Tx, message: MessageId, at: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("update message_ladders set next_due_at = $2 where message_id = $1")
        .bind(message.as_uuid())
        .bind(at.as_millis())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// A step that ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRun {
    pub step: u16,
    pub purpose: String,
    pub target: String,
    pub ran_at: Timestamp,
    pub queued: i64,
}

pub async fn record_step(tx: &mut Tx, message: MessageId, run: &StepRun) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into ladder_steps (message_id, step, purpose, target, ran_at, queued) values ($1, $2, $3, $4, $5, $6)"
    )
    .bind(message.as_uuid())
    .bind(i64::from(run.step))
    .bind(&run.purpose)
    .bind(&run.target)
    .bind(run.ran_at.as_millis())
    .bind(run.queued)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn steps_run(tx: &mut Tx, message: MessageId) -> Result<Vec<StepRun>> {
    let rows: Vec<(i64, String, String, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select step, purpose, target, ran_at, queued from ladder_steps where message_id = $1 order by step"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(step, purpose, target, ran_at, queued)| {
            Ok(StepRun {
                step: u16::try_from(step).map_err(Error::corrupt)?,
                purpose,
                target,
                ran_at: Timestamp::from_millis(ran_at),
                queued,
            })
        })
        .collect()
}
