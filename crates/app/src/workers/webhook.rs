//! Webhook workers: claim due requests from the outbox under a lease, send each signed
//! with its endpoint's secret (the same `webhook-id` on every attempt, so receivers drop
//! repeats), and record what each came to: retried on the schedule of
//! `tidings_core::webhooks::RETRY_SCHEDULE_MS`, the endpoint disabled on a 410 or after
//! days of failures.

use futures_util::StreamExt;
use tidings_channels::webhook::{Answer, Secret};
use tidings_core::Timestamp;
use tidings_core::webhooks::retry_after_ms;
use tidings_store::webhooks::{self, Claimed, Settled};

use super::deliver::WorkerConfig;
use crate::{App, AppError};

const BATCH: usize = 100;
const CONCURRENCY: usize = 8;

/// One round: claims due requests, sends them, records them. Returns how many it handled.
pub async fn work_webhooks(app: &App, config: &WorkerConfig) -> Result<usize, AppError> {
    let Some(sender) = app.channels.webhooks() else { return Ok(0) };
    let now = app.clock.now();
    let lease_until = Timestamp::from_millis(now.as_millis() + config.lease.as_millis() as i64);
    let mut tx = app.db.begin().await?;
    let claimed = webhooks::claim(&mut tx, now, lease_until, BATCH).await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let timestamp = now.as_millis().div_euclid(1000);
    let claimed_ref = &claimed;
    // Indices as the stream's items: see `deliver::work_lane`.
    let answers: Vec<Answer> = futures_util::stream::iter(0..claimed.len())
        .map(move |i| async move {
            let c = &claimed_ref[i];
            match Secret::parse(&c.secret) {
                Ok(secret) => sender.send(&c.url, &secret, &webhooks::webhook_id(c.id), timestamp, &c.payload).await,
                Err(e) => Answer::Refused(format!("the endpoint's secret is unusable: {e}")),
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await;
    record(app, &claimed, &answers).await?;
    Ok(claimed.len())
}

async fn record(app: &App, claimed: &[Claimed], answers: &[Answer]) -> Result<(), AppError> {
    let now = app.clock.now();
    let settled: Vec<Settled<'_>> = claimed
        .iter()
        .zip(answers)
        .map(|(c, answer)| {
            let retry = |attempts| retry_after_ms(attempts).map(|wait| Timestamp::from_millis(now.as_millis() + wait));
            match answer {
                Answer::Delivered(status) => Settled {
                    claimed: c,
                    ok: true,
                    retry_at: None,
                    response_status: Some(*status),
                    error: None,
                    gone: false,
                },
                Answer::Gone => Settled {
                    claimed: c,
                    ok: false,
                    retry_at: None,
                    response_status: Some(410),
                    error: Some("410 Gone: the endpoint is disabled"),
                    gone: true,
                },
                Answer::Retry { status, reason } => Settled {
                    claimed: c,
                    ok: false,
                    retry_at: retry(c.attempts),
                    response_status: *status,
                    error: Some(reason.as_str()),
                    gone: false,
                },
                Answer::Refused(reason) => Settled {
                    claimed: c,
                    ok: false,
                    retry_at: None,
                    response_status: None,
                    error: Some(reason.as_str()),
                    gone: false,
                },
            }
        })
        .collect();
    let mut tx = app.db.begin().await?;
    let saved = webhooks::settle(&mut tx, &settled, now).await?;
    tx.commit().await?;
    if saved < settled.len() {
        tracing::warn!(lost = settled.len() - saved, "webhook outcomes not saved: another worker took them over");
    }
    Ok(())
}
