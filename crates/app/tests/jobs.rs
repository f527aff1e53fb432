//! The job registry across processes: two workers, each with its own connection pool to one
//! database, offer to run the same due job at the same moment, and it runs once; when
//! the clock reaches its next due time it runs once more.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};

use tidings_app::workers::jobs::{Job, run_due_of};
use tidings_app::{App, Clock};
use tidings_core::{Catalog, Timestamp};
use tidings_store::Db;
use tidings_store::testing::{Engine, TestDb};

#[tokio::test]
async fn postgres_two_workers_run_a_due_job_once() {
    two_workers_run_a_due_job_once(Engine::Postgres, &POSTGRES_RUNS).await;
}

#[tokio::test]
async fn sqlite_two_workers_run_a_due_job_once() {
    two_workers_run_a_due_job_once(Engine::Sqlite, &SQLITE_RUNS).await;
}

static POSTGRES_RUNS: AtomicUsize = AtomicUsize::new(0);
static SQLITE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// A job that counts its runs and takes a moment, so the other worker's offer comes while
/// it runs.
fn counting(name: &'static str, runs: &'static AtomicUsize) -> Job {
    let run: tidings_app::workers::jobs::Run = if std::ptr::eq(runs, &POSTGRES_RUNS) {
        |_| {
            Box::pin(async {
                POSTGRES_RUNS.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok(())
            })
        }
    } else {
        |_| {
            Box::pin(async {
                SQLITE_RUNS.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok(())
            })
        }
    };
    Job { name, every_ms: 3_600_000, run }
}

async fn two_workers_run_a_due_job_once(engine: Engine, runs: &'static AtomicUsize) {
    let Some(t) = TestDb::new(engine).await else { return };
    let clock = Clock::fixed(Timestamp::from_millis(1_780_000_000_000));
    let mut first = App::new(t.db.clone(), Catalog::default());
    first.clock = clock.clone();
    let mut second = App::new(Db::connect(&t.url).await.unwrap(), Catalog::default());
    second.clock = clock.clone();
    let jobs = [counting("hourly_digest", runs)];

    for round in 1..=3 {
        let (a, b) = tokio::join!(run_due_of(&first, &jobs), run_due_of(&second, &jobs));
        let ran = a.unwrap().len() + b.unwrap().len();
        assert_eq!(ran, 1, "round {round}: one of the two workers runs it");
        assert_eq!(runs.load(Ordering::SeqCst), round);
        let (a, b) = tokio::join!(run_due_of(&first, &jobs), run_due_of(&second, &jobs));
        assert!(a.unwrap().is_empty() && b.unwrap().is_empty(), "not due again before its time");
        clock.advance(3_600_000);
    }
    let mut tx = first.db.read().await.unwrap();
    let kept = tidings_store::jobs::list(&mut tx).await.unwrap();
    drop(tx);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].due_at, 1_780_000_000_000 + 3 * 3_600_000);
    assert!(kept[0].last_finished_at.is_some() && kept[0].last_error.is_none(), "{kept:?}");
    second.db.close().await;
    t.cleanup().await;
}
