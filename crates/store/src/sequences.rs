//! Sequences staff define, each subject's runs through them, and the steps each run went
//! through. A run is taken by moving it on in the transaction that makes its step's
//! message, so two workers never run one step twice.

use std::collections::HashSet;

use serde::Serialize;
use sqlx::AssertSqlSafe;
use tidings_core::automation::EventType;
use tidings_core::automation::sequence::{RunState, Sequence};
use tidings_core::{MemberId, MessageId, PartnerEventId, PartnerId, Slug, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{placeholders, value_rows};
use crate::{Dialect, Error, Result, Tx};

/// Rows or ids one statement carries.
const ROWS: usize = 500;

fn decode(json: &str) -> Result<Sequence> {
    serde_json::from_str(json).map_err(Error::corrupt)
}

/// Saves the sequence under its key; returns whether it is new.
pub async fn put(tx: &mut Tx, s: &Sequence) -> Result<bool> {
    let json = serde_json::to_string(s).map_err(Error::corrupt)?;
    let existed = get(tx, &s.key).await.map(|_| true).or_else(|e| match e {
        Error::NotFound => Ok(false),
        other => Err(other),
    })?;
    on_tx!(tx, |c| sqlx::query(
        "insert into sequences (key, entry_event, goal_event, enabled, sequence, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (key) do update set entry_event = excluded.entry_event, \
         goal_event = excluded.goal_event, enabled = excluded.enabled, sequence = excluded.sequence, \
         updated_at = excluded.updated_at"
    )
    .bind(s.key.as_str())
    .bind(s.entry_event.as_str())
    .bind(s.goal_event.as_ref().map(EventType::as_str))
    .bind(s.enabled)
    .bind(json.as_str())
    .bind(s.created_at.as_millis())
    .bind(s.updated_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(!existed)
}

pub async fn get(tx: &mut Tx, key: &Slug) -> Result<Sequence> {
    let row: Option<(String,)> = on_tx!(tx, |c| sqlx::query_as("select sequence from sequences where key = $1")
        .bind(key.as_str())
        .fetch_optional(c)
        .await)?;
    decode(&row.ok_or(Error::NotFound)?.0)
}

pub async fn list(tx: &mut Tx) -> Result<Vec<Sequence>> {
    let rows: Vec<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select sequence from sequences order by key").fetch_all(c).await)?;
    rows.iter().map(|(j,)| decode(j)).collect()
}

/// Deletes the sequence; its active runs end as exited.
pub async fn delete(tx: &mut Tx, key: &Slug, now: Timestamp) -> Result<()> {
    let gone = on_tx!(tx, |c| sqlx::query("delete from sequences where key = $1")
        .bind(key.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(gone)?;
    on_tx!(tx, |c| sqlx::query(
        "update sequence_runs set state = 'exited', next_due_at = null, left_at = $2 \
         where sequence_key = $1 and state = 'active'"
    )
    .bind(key.as_str())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The enabled sequences an event of this type enrols into, or ends as their goal.
pub async fn with_event(tx: &mut Tx, event_type: &EventType, column: EventRole) -> Result<Vec<Sequence>> {
    let sql = format!("select sequence from sequences where {} = $1 and enabled = $2 order by key", column.column());
    let rows: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(event_type.as_str())
        .bind(true)
        .fetch_all(c)
        .await)?;
    rows.iter().map(|(j,)| decode(j)).collect()
}

/// Which part an event plays for a sequence.
#[derive(Debug, Clone, Copy)]
pub enum EventRole {
    Entry,
    Goal,
}

impl EventRole {
    fn column(self) -> &'static str {
        match self {
            Self::Entry => "entry_event",
            Self::Goal => "goal_event",
        }
    }
}

/// A run as the worker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub id: Uuid,
    pub sequence_key: String,
    pub partner_id: PartnerId,
    pub member_id: Option<MemberId>,
    pub next_step: usize,
    pub next_due_at: Timestamp,
}

/// A run to start.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub sequence_key: Slug,
    pub partner_id: PartnerId,
    pub member_id: Option<MemberId>,
    pub first_due_at: Timestamp,
    pub entered_at: Timestamp,
    pub event_id: Option<PartnerEventId>,
}

fn subject(partner: PartnerId, member: Option<MemberId>) -> String {
    match member {
        Some(m) => format!("m:{m}"),
        None => format!("p:{partner}"),
    }
}

/// Starts the run unless the subject is in the sequence already; returns whether it started.
pub async fn enrol(tx: &mut Tx, r: &NewRun) -> Result<bool> {
    Ok(enrol_many(tx, std::slice::from_ref(r)).await? == 1)
}

/// Starts each run whose subject is not in its sequence already, a few hundred a
/// statement; returns how many started.
pub async fn enrol_many(tx: &mut Tx, runs: &[NewRun]) -> Result<u64> {
    let mut started = 0;
    for chunk in runs.chunks(ROWS) {
        let sql = format!(
            "insert into sequence_runs (id, sequence_key, subject, partner_id, member_id, state, next_step, \
             next_due_at, entered_at, event_id) values {} on conflict do nothing",
            value_rows(tx.dialect(), chunk.len(), 10)
        );
        started += on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(Uuid::now_v7())
                    .bind(r.sequence_key.as_str())
                    .bind(subject(r.partner_id, r.member_id))
                    .bind(r.partner_id.as_uuid())
                    .bind(r.member_id.map(|m| m.as_uuid()))
                    .bind("active")
                    .bind(0_i64)
                    .bind(r.first_due_at.as_millis())
                    .bind(r.entered_at.as_millis())
                    .bind(r.event_id.map(|e| e.as_uuid()));
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(started)
}

/// Of `members`, those never in sequence `key` (in any state), with their partners: whom
/// an entry rule may still take in.
pub async fn never_entered(tx: &mut Tx, key: &Slug, members: &[MemberId]) -> Result<Vec<(MemberId, PartnerId)>> {
    let mut out = Vec::new();
    for chunk in members.chunks(500) {
        let sql = format!(
            "select m.id, m.partner_id from members m where m.id in ({}) and not exists \
             (select 1 from sequence_runs r where r.sequence_key = {} and r.member_id = m.id)",
            crate::sql::placeholders(tx.dialect(), 1, chunk.len()),
            crate::sql::placeholders(tx.dialect(), chunk.len() + 1, 1),
        );
        // Planned afresh each time, not from a cached prepared statement: entry by rule
        // fills `sequence_runs` as it goes, and a plan made while the table looked empty
        // (a hash anti-join over every run) took PostgreSQL 470 ms a page instead of 3 ms.
        let rows: Vec<(Uuid, Uuid)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.bind(key.as_str()).fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(m, p)| (MemberId::from_uuid(m), PartnerId::from_uuid(p))));
    }
    Ok(out)
}

/// Ends as converted the active runs of `keys` whose subject met the goal: the member's
/// own, and their partner's (a partner's onboarding ends with any of its people's first deal).
pub async fn convert(
    tx: &mut Tx,
    keys: &[&str],
    partner: PartnerId,
    member: Option<MemberId>,
    now: Timestamp,
) -> Result<u64> {
    let mut total = 0;
    let mut subjects = vec![subject(partner, None)];
    if let Some(m) = member {
        subjects.push(subject(partner, Some(m)));
    }
    for key in keys {
        for s in &subjects {
            total += on_tx!(tx, |c| sqlx::query(
                "update sequence_runs set state = 'converted', next_due_at = null, left_at = $3 \
                 where sequence_key = $1 and subject = $2 and state = 'active'"
            )
            .bind(*key)
            .bind(s.as_str())
            .bind(now.as_millis())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        }
    }
    Ok(total)
}

type RunRow = (Uuid, String, Uuid, Option<Uuid>, i64, i64);

/// Takes up to `limit` runs whose next step is due, soonest first; on PostgreSQL other
/// workers skip them until this transaction ends.
pub async fn take_due(tx: &mut Tx, now: Timestamp, limit: i64) -> Result<Vec<Run>> {
    let lock = if tx.dialect() == Dialect::Postgres { "for update skip locked" } else { "" };
    let sql = format!(
        "select id, sequence_key, partner_id, member_id, next_step, next_due_at from sequence_runs \
         where next_due_at <= $1 and state = 'active' order by next_due_at limit $2 {lock}"
    );
    let rows: Vec<RunRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(now.as_millis())
        .bind(limit)
        .fetch_all(c)
        .await)?;
    rows.into_iter()
        .map(|(id, key, partner, member, step, due)| {
            Ok(Run {
                id,
                sequence_key: key,
                partner_id: PartnerId::from_uuid(partner),
                member_id: member.map(MemberId::from_uuid),
                next_step: usize::try_from(step).map_err(Error::corrupt)?,
                next_due_at: Timestamp::from_millis(due),
            })
        })
        .collect()
}

/// Of `runs`, those whose step `step` was recorded before.
pub async fn recorded(tx: &mut Tx, runs: &[Uuid], step: usize) -> Result<HashSet<Uuid>> {
    let step = i64::try_from(step).map_err(Error::corrupt)?;
    let mut out = HashSet::new();
    for chunk in runs.chunks(ROWS) {
        let sql = format!(
            "select run_id from sequence_run_steps where step = {} and run_id in ({})",
            placeholders(tx.dialect(), 1, 1),
            placeholders(tx.dialect(), 2, chunk.len())
        );
        let rows: Vec<(Uuid,)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(step);
            for run in chunk {
                q = q.bind(*run);
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(out)
}

/// A step of a run, as it went.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub run: Uuid,
    pub step: usize,
    pub message: Option<MessageId>,
    pub outcome: String,
}

/// Records steps of runs (one recorded before stays as it was).
pub async fn record_steps(tx: &mut Tx, steps: &[StepRecord], at: Timestamp) -> Result<()> {
    for chunk in steps.chunks(ROWS) {
        let sql = format!(
            "insert into sequence_run_steps (run_id, step, message_id, outcome, at) values {} on conflict do nothing",
            value_rows(tx.dialect(), chunk.len(), 5)
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.run)
                    .bind(i64::try_from(r.step).unwrap_or(i64::MAX))
                    .bind(r.message.map(|m| m.as_uuid()))
                    .bind(r.outcome.as_str())
                    .bind(at.as_millis());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Where runs go next: on to a step due `after_ms` after the one they were due at, or out
/// in a final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    To { step: usize, after_ms: i64 },
    End { step: usize, state: RunState },
}

/// Moves every run of `runs` the same way.
pub async fn move_on(tx: &mut Tx, runs: &[Uuid], to: Move, now: Timestamp) -> Result<()> {
    for chunk in runs.chunks(ROWS) {
        let ids = placeholders(tx.dialect(), 3, chunk.len());
        let (sql, step, value) = match to {
            Move::To { step, after_ms } => (
                format!(
                    "update sequence_runs set next_step = {}, next_due_at = next_due_at + {}, state = 'active', \
                     left_at = null where id in ({ids})",
                    placeholders(tx.dialect(), 1, 1),
                    placeholders(tx.dialect(), 2, 1)
                ),
                step,
                after_ms,
            ),
            Move::End { step, state } => (
                format!(
                    "update sequence_runs set next_step = {}, next_due_at = null, left_at = {}, state = '{}' \
                     where id in ({ids})",
                    placeholders(tx.dialect(), 1, 1),
                    placeholders(tx.dialect(), 2, 1),
                    state.as_str()
                ),
                step,
                now.as_millis(),
            ),
        };
        let step = i64::try_from(step).map_err(Error::corrupt)?;
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(step).bind(value);
            for run in chunk {
                q = q.bind(*run);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Where a sequence's runs stand: how many entered, wait at each step, met the goal, went
/// through every step without it, were taken out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequenceFunnel {
    pub entered: i64,
    /// Active runs by the step they wait for (index 0: the first step).
    pub waiting_at: Vec<i64>,
    /// Runs that went through each step (its message made, or passed over by its condition).
    pub reached: Vec<i64>,
    pub converted: i64,
    pub finished: i64,
    pub exited: i64,
}

pub async fn funnel(tx: &mut Tx, key: &Slug, steps: usize) -> Result<SequenceFunnel> {
    let states: Vec<(String, i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select state, next_step, count(*) from sequence_runs where sequence_key = $1 group by state, next_step"
    )
    .bind(key.as_str())
    .fetch_all(c)
    .await)?;
    let reached: Vec<(i64, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select s.step, count(*) from sequence_run_steps s join sequence_runs r on r.id = s.run_id \
         where r.sequence_key = $1 group by s.step"
    )
    .bind(key.as_str())
    .fetch_all(c)
    .await)?;
    let mut f = SequenceFunnel { waiting_at: vec![0; steps], reached: vec![0; steps], ..Default::default() };
    for (state, step, n) in states {
        f.entered += n;
        match state.parse::<RunState>().map_err(Error::corrupt)? {
            RunState::Active => {
                if let Some(slot) = usize::try_from(step).ok().and_then(|s| f.waiting_at.get_mut(s)) {
                    *slot += n;
                }
            }
            RunState::Converted => f.converted += n,
            RunState::Finished => f.finished += n,
            RunState::Exited => f.exited += n,
        }
    }
    for (step, n) in reached {
        if let Some(slot) = usize::try_from(step).ok().and_then(|s| f.reached.get_mut(s)) {
            *slot = n;
        }
    }
    Ok(f)
}

/// A subject's run as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunSummary {
    pub sequence: String,
    pub partner_id: PartnerId,
    pub member_id: Option<MemberId>,
    pub state: RunState,
    /// The step it waits for (from 0), while active.
    pub next_step: i64,
    pub next_due_at: Option<Timestamp>,
    pub entered_at: Timestamp,
    pub left_at: Option<Timestamp>,
}

type SummaryRow = (String, Uuid, Option<Uuid>, String, i64, Option<i64>, i64, Option<i64>);

/// The runs of a partner and its members, newest first.
pub async fn runs_of_partner(tx: &mut Tx, partner: PartnerId, limit: i64) -> Result<Vec<RunSummary>> {
    let rows: Vec<SummaryRow> = on_tx!(tx, |c| sqlx::query_as(
        "select sequence_key, partner_id, member_id, state, next_step, next_due_at, entered_at, left_at \
         from sequence_runs where partner_id = $1 order by id desc limit $2"
    )
    .bind(partner.as_uuid())
    .bind(limit)
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(sequence, partner, member, state, next_step, due, entered, left)| {
            Ok(RunSummary {
                sequence,
                partner_id: PartnerId::from_uuid(partner),
                member_id: member.map(MemberId::from_uuid),
                state: state.parse().map_err(Error::corrupt)?,
                next_step,
                next_due_at: due.map(Timestamp::from_millis),
                entered_at: Timestamp::from_millis(entered),
                left_at: left.map(Timestamp::from_millis),
            })
        })
        .collect()
}
