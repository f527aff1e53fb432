//! The running system as its operator sees it: the nodes serving and working (each beats
//! its heart into the database with what only it knows: its providers' outages and the
//! provider errors it met), the queue by channel, the jobs, the database. The console's
//! system page, its JSON in the API and the gauges of `/metrics` all read `snapshot`.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tidings_core::consent::Channel;
use tidings_core::{Action, Timestamp};
use tidings_store::{Dialect, nodes};
use uuid::Uuid;

use crate::{App, AppError, Caller};

/// How often a node reports that it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A node silent for this long is stale: dead, hung or cut off.
const STALE_AFTER_MS: i64 = 20_000;
/// Nodes silent for a week are forgotten.
const FORGOTTEN_AFTER_MS: i64 = 7 * 86_400_000;
/// The provider errors a node keeps to report.
const ERRORS_KEPT: usize = 20;

/// This process: who it is, since when, and the provider errors it met lately.
#[derive(Debug)]
pub struct ThisNode {
    pub id: Uuid,
    pub started_at: Timestamp,
    errors: Mutex<VecDeque<ProviderError>>,
}

impl Default for ThisNode {
    fn default() -> Self {
        Self {
            id: Uuid::now_v7(),
            started_at: Timestamp::from_millis(jiff::Timestamp::now().as_millisecond()),
            errors: Mutex::default(),
        }
    }
}

impl ThisNode {
    /// Keeps a provider's error (a refusal, a time-out, an outage) to report.
    pub fn provider_error(&self, channel: Channel, error: &str, at: Timestamp) {
        metrics::counter!("tidings_provider_errors_total", "channel" => channel.as_str()).increment(1);
        let Ok(mut errors) = self.errors.lock() else { return };
        if errors.len() == ERRORS_KEPT {
            errors.pop_front();
        }
        errors.push_back(ProviderError { channel, error: error.chars().take(500).collect(), at });
    }

    fn recent_errors(&self) -> Vec<ProviderError> {
        self.errors.lock().map(|e| e.iter().rev().cloned().collect()).unwrap_or_default()
    }
}

/// A provider's error as a node met it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProviderError {
    pub channel: Channel,
    pub error: String,
    pub at: Timestamp,
}

/// A provider a node found unreachable (its circuit breaker is open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outage {
    pub channel: Channel,
    pub since: Timestamp,
    pub reason: String,
}

impl NodeState {
    pub const ALL: [NodeState; 3] = [NodeState::Alive, NodeState::Stale, NodeState::Stopped];

    /// As the API, the page and `/metrics` name it.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Alive => "alive",
            NodeState::Stale => "stale",
            NodeState::Stopped => "stopped",
        }
    }
}

/// What a node reports at each heartbeat, beside who it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Report {
    outages: Vec<Outage>,
    recent_errors: Vec<ProviderError>,
}

/// Reports this node alive now.
pub async fn heartbeat(app: &App, kind: &str) -> Result<(), AppError> {
    let report = Report {
        outages: app
            .channels
            .outages()
            .into_iter()
            .map(|(channel, o)| Outage { channel, since: Timestamp::from_millis(o.since_ms), reason: o.reason })
            .collect(),
        recent_errors: app.node.recent_errors(),
    };
    let beat = nodes::Heartbeat {
        id: app.node.id,
        kind: kind.to_owned(),
        host: host_name(),
        pid: i64::from(std::process::id()),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        started_at: app.node.started_at,
        report: serde_json::to_value(&report).unwrap_or_default(),
    };
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    nodes::beat(&mut tx, &beat, now).await?;
    nodes::forget(&mut tx, Timestamp::from_millis(now.as_millis() - FORGOTTEN_AFTER_MS)).await?;
    tx.commit().await?;
    Ok(())
}

/// Beats every `HEARTBEAT` until `stop`, then records a clean stop.
pub async fn keep_beating(app: App, kind: &'static str, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = heartbeat(&app, kind).await {
            tracing::warn!(error = %e, "recording this node's heartbeat failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(HEARTBEAT) => {}
            _ = stop.changed() => break,
        }
    }
    let stopped = async {
        let mut tx = app.db.begin().await?;
        nodes::stopped(&mut tx, app.node.id, app.clock.now()).await?;
        tx.commit().await?;
        Ok::<_, AppError>(())
    };
    if let Err(e) = stopped.await {
        tracing::warn!(error = %e, "recording this node's stop failed");
    }
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether a node is working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// It reported within the last 20 seconds.
    Alive,
    /// It has not reported for longer: dead, hung or cut off from the database.
    Stale,
    /// It stopped cleanly.
    Stopped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeStatus {
    pub id: Uuid,
    /// `serve`, `worker`, or `serve+worker`.
    pub kind: String,
    pub host: String,
    pub pid: i64,
    pub version: String,
    pub started_at: Timestamp,
    pub seen_at: Timestamp,
    pub state: NodeState,
    /// This is the node answering.
    pub this_node: bool,
    pub outages: Vec<Outage>,
    pub recent_errors: Vec<ProviderError>,
}

/// The deliveries waiting on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueStatus {
    pub channel: Channel,
    /// Waiting for an attempt: queued, retrying later, or held by a worker now.
    pub waiting: i64,
    /// Of those, the ones whose time has come.
    pub due: i64,
    pub oldest_due_at: Option<Timestamp>,
    /// How long the oldest due delivery has waited past its time, in seconds (0 when none is late).
    pub oldest_due_age_seconds: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStatus {
    pub name: String,
    /// From one run's start to the next one's due time.
    pub every_seconds: i64,
    pub next_due_at: Timestamp,
    pub last_started_at: Option<Timestamp>,
    pub last_finished_at: Option<Timestamp>,
    /// How its last run failed; `None` when it succeeded.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemStatus {
    pub version: String,
    /// `sqlite` or `postgresql`.
    pub engine: String,
    pub schema_version: i64,
    pub database_bytes: i64,
    pub nodes: Vec<NodeStatus>,
    pub queue: Vec<QueueStatus>,
    pub jobs: Vec<JobStatus>,
    /// Report count differences not yet summed into the reports (the fold job runs every 5 seconds).
    pub unfolded_report_counts: i64,
    pub at: Timestamp,
}

/// The system's state, for admins.
pub async fn status(app: &App, caller: &Caller) -> Result<SystemStatus, AppError> {
    caller.require(Action::Configure, "read the system's state")?;
    snapshot(app).await
}

/// The system's state, unchecked (for `/metrics`, which its own listener guards).
pub async fn snapshot(app: &App) -> Result<SystemStatus, AppError> {
    let now = app.clock.now();
    let mut tx = app.db.read().await?;
    let since = Timestamp::from_millis(now.as_millis() - FORGOTTEN_AFTER_MS);
    let nodes = nodes::seen_since(&mut tx, since).await?.into_iter().map(|n| node_status(app, n, now)).collect();
    let queue = tidings_store::system::queue(&mut tx, now)
        .await?
        .into_iter()
        .map(|q| QueueStatus {
            channel: q.channel,
            waiting: q.waiting,
            due: q.due,
            oldest_due_at: q.oldest_due_at,
            oldest_due_age_seconds: q.oldest_due_at.map_or(0, |t| ((now.as_millis() - t.as_millis()) / 1000).max(0)),
        })
        .collect();
    let every =
        |name: &str| crate::workers::jobs::REGISTRY.iter().find(|j| j.name == name).map_or(0, |j| j.every_ms / 1000);
    let jobs = tidings_store::jobs::list(&mut tx)
        .await?
        .into_iter()
        .map(|j| JobStatus {
            every_seconds: every(&j.name),
            name: j.name,
            next_due_at: Timestamp::from_millis(j.due_at),
            last_started_at: j.last_started_at.map(Timestamp::from_millis),
            last_finished_at: j.last_finished_at.map(Timestamp::from_millis),
            last_error: j.last_error,
        })
        .collect();
    let unfolded_report_counts = tidings_store::system::unfolded_report_counts(&mut tx).await?;
    let database_bytes = tidings_store::system::database_bytes(&mut tx).await?;
    drop(tx);
    Ok(SystemStatus {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        engine: match app.db.dialect() {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
        }
        .to_owned(),
        schema_version: app.db.schema_version().await?.unwrap_or(0),
        database_bytes,
        nodes,
        queue,
        jobs,
        unfolded_report_counts,
        at: now,
    })
}

fn node_status(app: &App, node: nodes::Node, now: Timestamp) -> NodeStatus {
    let report: Report = serde_json::from_value(node.heartbeat.report.clone()).unwrap_or_default();
    let state = match node.stopped_at {
        Some(_) => NodeState::Stopped,
        None if now.as_millis() - node.seen_at.as_millis() > STALE_AFTER_MS => NodeState::Stale,
        None => NodeState::Alive,
    };
    let h = node.heartbeat;
    NodeStatus {
        this_node: h.id == app.node.id,
        id: h.id,
        kind: h.kind,
        host: h.host,
        pid: h.pid,
        version: h.version,
        started_at: h.started_at,
        seen_at: node.seen_at,
        state,
        outages: report.outages,
        recent_errors: report.recent_errors,
    }
}

/// Sets `/metrics`' gauges from a snapshot, just before they are rendered.
pub fn publish(status: &SystemStatus, pool: tidings_store::PoolUse) {
    for q in &status.queue {
        let channel = q.channel.as_str();
        metrics::gauge!("tidings_queue_waiting", "channel" => channel).set(q.waiting as f64);
        metrics::gauge!("tidings_queue_due", "channel" => channel).set(q.due as f64);
        metrics::gauge!("tidings_queue_oldest_due_age_seconds", "channel" => channel)
            .set(q.oldest_due_age_seconds as f64);
    }
    // A channel whose queue emptied reads 0, not its last value.
    for channel in Channel::ALL.into_iter().filter(|c| !status.queue.iter().any(|q| q.channel == *c)) {
        metrics::gauge!("tidings_queue_waiting", "channel" => channel.as_str()).set(0.0);
        metrics::gauge!("tidings_queue_due", "channel" => channel.as_str()).set(0.0);
        metrics::gauge!("tidings_queue_oldest_due_age_seconds", "channel" => channel.as_str()).set(0.0);
    }
    for state in NodeState::ALL {
        let n = status.nodes.iter().filter(|n| n.state == state).count();
        metrics::gauge!("tidings_nodes", "state" => state.as_str()).set(n as f64);
    }
    metrics::gauge!("tidings_report_counts_unfolded").set(status.unfolded_report_counts as f64);
    metrics::gauge!("tidings_database_bytes").set(status.database_bytes as f64);
    metrics::gauge!("tidings_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("tidings_db_pool_connections", "state" => "in_use").set(pool.in_use as f64);
    metrics::gauge!("tidings_db_pool_connections_max").set(f64::from(pool.max));
}
