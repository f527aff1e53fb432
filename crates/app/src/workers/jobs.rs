//! The registry of recurring jobs: each names how often it runs and what it does. Every
//! worker process offers to run each due job; the store lets exactly one take each run
//! (`tidings_store::jobs::claim`), so two workers on one PostgreSQL never run a job twice
//! for one due time. Due times come from the app's clock, so tests drive days in
//! milliseconds. Work with a due time of its own (a scheduled release, later a reminder)
//! is a recurring job that takes the rows whose time has come.

use std::future::Future;
use std::pin::Pin;

use tidings_core::Timestamp;
use tidings_store::jobs as store;
use tracing::Instrument;

use crate::{App, AppError};

/// What a job does when it runs; it opens its own transactions.
pub type Run = for<'a> fn(&'a App) -> Pin<Box<dyn Future<Output = Result<(), AppError>> + Send + 'a>>;

/// One recurring job.
#[derive(Clone, Copy)]
pub struct Job {
    /// Its key in the `jobs` table.
    pub name: &'static str,
    /// From one run's start to the next one's due time.
    pub every_ms: i64,
    pub run: Run,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("name", &self.name).field("every_ms", &self.every_ms).finish()
    }
}

/// Every job Tidings runs.
pub const REGISTRY: &[Job] = &[
    // Releases scheduled messages, resumes interrupted releases, and marks messages sent.
    Job { name: "release_scheduled", every_ms: 1_000, run: |app| Box::pin(crate::release::tick(app)) },
    // Answers the events that came in with their triggers' messages.
    Job { name: "fire_triggers", every_ms: 1_000, run: |app| Box::pin(crate::automation::firing::run_due(app)) },
    // Moves on the sequences' runs whose next step is due.
    Job {
        name: "advance_sequences",
        every_ms: 10_000,
        run: |app| Box::pin(async { crate::automation::stepping::advance(app).await.map(|_| ()) }),
    },
    // Takes into each sequence with an entry rule the members it selects, once each.
    Job {
        name: "enrol_sequences_by_rule",
        every_ms: 600_000,
        run: |app| Box::pin(async { crate::automation::sequences::enrol_by_rule(app).await.map(|_| ()) }),
    },
    // Finds partners gone quiet and opens tasks for their managers.
    Job {
        name: "find_silent_partners",
        every_ms: 86_400_000,
        run: |app| Box::pin(async { crate::automation::silence::find(app).await.map(|_| ()) }),
    },
    // Runs escalation ladders' steps that have come due.
    Job { name: "chase", every_ms: 60_000, run: |app| Box::pin(crate::chase::tick(app)) },
    // Sends escalation ladders' notices to partner managers.
    Job { name: "staff_notices", every_ms: 10_000, run: |app| Box::pin(crate::staff_notices::send_due(app)) },
    // Sums the report counts' differences, so reports stay fast.
    Job {
        name: "fold_report_counts",
        every_ms: 5_000,
        run: |app| Box::pin(async { crate::reports::fold(app).await.map(|_| ()) }),
    },
    // Gives the evidence log's new entries their places in its tree.
    Job {
        name: "sequence_evidence",
        every_ms: 2_000,
        run: |app| Box::pin(async { crate::evidence::sequence(app).await.map(|_| ()) }),
    },
    // Signs a checkpoint of the evidence log when it has grown.
    Job {
        name: "checkpoint_evidence",
        every_ms: 60_000,
        run: |app| Box::pin(async { crate::evidence::seal(app).await.map(|_| ()) }),
    },
    // Forgets expired sign-in links and sessions.
    Job {
        name: "purge_expired",
        every_ms: 60_000,
        run: |app| Box::pin(async { crate::workers::housekeeping::purge_expired(app).await.map(|_| ()) }),
    },
];

/// Runs the registry's jobs that are due now and that no other worker took first;
/// returns the names of those this call ran.
pub async fn run_due(app: &App) -> Result<Vec<&'static str>, AppError> {
    run_due_of(app, REGISTRY).await
}

/// Runs the due jobs of `jobs` (a registry of a test's own).
pub async fn run_due_of(app: &App, jobs: &[Job]) -> Result<Vec<&'static str>, AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let names: Vec<&str> = jobs.iter().map(|j| j.name).collect();
    store::ensure(&mut tx, &names, now).await?;
    let due = store::due(&mut tx, now).await?;
    tx.commit().await?;
    let mut ran = Vec::new();
    for job in jobs.iter().filter(|j| due.iter().any(|d| d == j.name)) {
        let mut tx = app.db.begin().await?;
        let next = Timestamp::from_millis(now.as_millis() + job.every_ms);
        let claimed = store::claim(&mut tx, job.name, now, next).await?;
        tx.commit().await?;
        if !claimed {
            continue;
        }
        let started = std::time::Instant::now();
        let result = (job.run)(app).instrument(tracing::info_span!("job", name = job.name)).await;
        metrics::histogram!("tidings_job_seconds", "job" => job.name).record(started.elapsed().as_secs_f64());
        metrics::counter!("tidings_job_runs_total", "job" => job.name).increment(1);
        let error = result.as_ref().err().map(ToString::to_string);
        if let Some(e) = &error {
            metrics::counter!("tidings_job_failures_total", "job" => job.name).increment(1);
            tracing::error!(job = job.name, error = %e, "a job failed; it runs again when next due");
        }
        let mut tx = app.db.begin().await?;
        store::finished(&mut tx, job.name, app.clock.now(), error.as_deref()).await?;
        tx.commit().await?;
        ran.push(job.name);
    }
    Ok(ran)
}
