//! Recurring jobs' next runs, shared by every worker process. A run is claimed by moving
//! the job's `due_at` on from a time that has come: of two workers claiming at once, the
//! second finds the time moved (PostgreSQL re-reads the row after the first commits;
//! SQLite has one writer) and runs nothing.

use tidings_core::Timestamp;

use crate::db::on_tx;
use crate::{Result, Tx};

/// Adds the jobs not yet known, each due at `now`; leaves known ones as they are.
pub async fn ensure(tx: &mut Tx, names: &[&str], now: Timestamp) -> Result<()> {
    for name in names {
        on_tx!(tx, |c| sqlx::query("insert into jobs (name, due_at) values ($1, $2) on conflict do nothing")
            .bind(*name)
            .bind(now.as_millis())
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// The names of the jobs due at `now`.
pub async fn due(tx: &mut Tx, now: Timestamp) -> Result<Vec<String>> {
    let names: Vec<String> =
        on_tx!(tx, |c| sqlx::query_scalar("select name from jobs where due_at <= $1 order by name")
            .bind(now.as_millis())
            .fetch_all(c)
            .await)?;
    Ok(names)
}

/// Claims the job's run due at `now`, moving its next run to `next`. `false` when it is
/// not due (another worker claimed it first).
pub async fn claim(tx: &mut Tx, name: &str, now: Timestamp, next: Timestamp) -> Result<bool> {
    let claimed = on_tx!(tx, |c| sqlx::query(
        "update jobs set due_at = $3, last_started_at = $2 where name = $1 and due_at <= $2"
    )
    .bind(name)
    .bind(now.as_millis())
    .bind(next.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(claimed == 1)
}

/// Records how a run ended.
pub async fn finished(tx: &mut Tx, name: &str, at: Timestamp, error: Option<&str>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("update jobs set last_finished_at = $2, last_error = $3 where name = $1")
        .bind(name)
        .bind(at.as_millis())
        .bind(error)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// One job as kept: when it runs next and how its last run went.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub name: String,
    pub due_at: i64,
    pub last_started_at: Option<i64>,
    pub last_finished_at: Option<i64>,
    pub last_error: Option<String>,
}

pub async fn list(tx: &mut Tx) -> Result<Vec<JobRow>> {
    let rows: Vec<JobRow> = on_tx!(tx, |c| sqlx::query_as(
        "select name, due_at, last_started_at, last_finished_at, last_error from jobs order by name"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows)
}
