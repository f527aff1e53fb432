//! The processes serving and working on this database, each as it last reported itself.

use sqlx::types::Json;
use tidings_core::Timestamp;
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Result, Tx};

/// A node as it reports itself at each heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub id: Uuid,
    /// `serve`, `worker`, or `serve+worker`.
    pub kind: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started_at: Timestamp,
    /// What only this process knows (outages, recent provider errors), as JSON.
    pub report: serde_json::Value,
}

/// A node as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub heartbeat: Heartbeat,
    pub seen_at: Timestamp,
    /// Set when the node stopped cleanly; a node that died keeps `None` and goes stale.
    pub stopped_at: Option<Timestamp>,
}

/// Records that the node is alive at `now`.
pub async fn beat(tx: &mut Tx, node: &Heartbeat, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into nodes (id, kind, host, pid, version, started_at, seen_at, stopped_at, report) \
         values ($1, $2, $3, $4, $5, $6, $7, null, $8) \
         on conflict (id) do update set seen_at = excluded.seen_at, report = excluded.report, stopped_at = null"
    )
    .bind(node.id)
    .bind(&node.kind)
    .bind(&node.host)
    .bind(node.pid)
    .bind(&node.version)
    .bind(node.started_at.as_millis())
    .bind(now.as_millis())
    .bind(Json(&node.report))
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Records that the node stopped cleanly.
pub async fn stopped(tx: &mut Tx, id: Uuid, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("update nodes set stopped_at = $2, seen_at = $2 where id = $1")
        .bind(id)
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

type Row = (Uuid, String, String, i64, String, i64, i64, Option<i64>, Json<serde_json::Value>);

/// The nodes seen since `since`, the latest first.
pub async fn seen_since(tx: &mut Tx, since: Timestamp) -> Result<Vec<Node>> {
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(
        "select id, kind, host, pid, version, started_at, seen_at, stopped_at, report from nodes \
         where seen_at >= $1 order by started_at desc, id"
    )
    .bind(since.as_millis())
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, host, pid, version, started, seen, stopped, report)| Node {
            heartbeat: Heartbeat {
                id,
                kind,
                host,
                pid,
                version,
                started_at: Timestamp::from_millis(started),
                report: report.0,
            },
            seen_at: Timestamp::from_millis(seen),
            stopped_at: stopped.map(Timestamp::from_millis),
        })
        .collect())
}

/// Forgets nodes not seen since `before`.
pub async fn forget(tx: &mut Tx, before: Timestamp) -> Result<u64> {
    let gone = on_tx!(tx, |c| sqlx::query("delete from nodes where seen_at < $1")
        .bind(before.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(gone)
}
