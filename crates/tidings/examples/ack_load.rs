//! The acknowledgment benchmark's load generator (`bench/acknowledge.sh`): each request
//! acknowledges a message as a different member, so no answer is a cheap repeat. oha and
//! wrk send one body and one header to every request; this sends the member's own token.
//!
//! It signs a widget token for each email it reads (as a vendor's server would), then
//! sends `POST /widget/v1/inbox/{id}/acknowledge` at a fixed rate for the whole duration,
//! open loop: a request's latency counts from when it was due, so a stall cannot hide the
//! requests queued behind it. It prints one JSON summary.
//!
//!   ack_load BASE_URL MESSAGE_ID CONTENT_HASH WIDGET_SECRET EMAILS_FILE RATE SECONDS

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tidings_app::widget::{WidgetClaims, sign};
use tokio::sync::{Semaphore, mpsc};

/// Requests in flight at most: beyond this the generator waits, and the wait counts in
/// the latency of the requests that were due.
const MAX_IN_FLIGHT: usize = 2048;

struct Outcome {
    status: u16,
    micros: u64,
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, message, hash, secret, emails, rate, seconds] = args.as_slice() else {
        bail!("usage: ack_load BASE_URL MESSAGE_ID CONTENT_HASH WIDGET_SECRET EMAILS_FILE RATE SECONDS");
    };
    let rate: u64 = rate.parse().context("RATE")?;
    let seconds: u64 = seconds.parse().context("SECONDS")?;
    let wanted = usize::try_from(rate * seconds)?;
    let exp = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs())? + 86_400;
    let tokens: Vec<String> = std::fs::read_to_string(emails)
        .context("EMAILS_FILE")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(wanted)
        .map(|email| sign(secret, &WidgetClaims { email: Some(email.trim().to_owned()), exp, ..Default::default() }))
        .collect();
    if tokens.len() < wanted {
        bail!("{} emails for {wanted} requests: each request needs a member of its own", tokens.len());
    }
    let url = format!("{base}/widget/v1/inbox/{message}/acknowledge");
    let body = serde_json::json!({ "content_hash": hash }).to_string();
    // One thread drives the load: the server under test has the other core.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let summary = runtime.block_on(run(url, body, tokens, rate))?;
    println!("{summary}");
    Ok(())
}

async fn run(url: String, body: String, tokens: Vec<String>, rate: u64) -> anyhow::Result<serde_json::Value> {
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(MAX_IN_FLIGHT).build()?;
    let (done, mut results) = mpsc::unbounded_channel::<Outcome>();
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let count = tokens.len();
    for (i, token) in tokens.into_iter().enumerate() {
        let due = start + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = permits.clone().acquire_owned().await?;
        let (client, url, body, done) = (client.clone(), url.clone(), body.clone(), done.clone());
        tokio::spawn(async move {
            let sent =
                client.post(&url).bearer_auth(token).header("content-type", "application/json").body(body).send().await;
            let status = match sent {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let _ = response.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            let micros = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
            let _ = done.send(Outcome { status, micros });
            drop(permit);
        });
    }
    drop(done);
    let mut latencies = Vec::with_capacity(count);
    let mut statuses: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(o) = results.recv().await {
        latencies.push(o.micros);
        *statuses.entry(if o.status == 0 { "error".into() } else { o.status.to_string() }).or_default() += 1;
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |&us| us as f64 / 1000.0)
    };
    let ok = statuses.get("200").copied().unwrap_or(0);
    Ok(serde_json::json!({
        "requests": latencies.len(),
        "ok": ok,
        "seconds": elapsed,
        "per_second": ok as f64 / elapsed,
        "p50_ms": at(0.50), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0),
        "statuses": statuses,
    }))
}
