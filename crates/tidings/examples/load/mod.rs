//! What the benchmarks' load generators share: requests sent at a fixed rate for the
//! whole run, open loop (a request's latency counts from when it was due, so a stall
//! cannot hide the requests queued behind it), on one thread (the server under test has
//! the other core), summed up as one JSON object.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

/// Requests in flight at most: beyond this the generator waits, and the wait counts in
/// the latency of the requests that were due.
const MAX_IN_FLIGHT: usize = 2048;

/// One request: a POST of `body` (JSON) to `url` with `token` as its bearer.
pub struct Request {
    pub url: String,
    pub token: String,
    pub body: String,
}

struct Outcome {
    status: u16,
    micros: u64,
}

/// Sends every request, `rate` a second; the summary counts 200 and 201 as done.
pub fn run(requests: Vec<Request>, rate: u64) -> anyhow::Result<serde_json::Value> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(send(requests, rate))
}

async fn send(requests: Vec<Request>, rate: u64) -> anyhow::Result<serde_json::Value> {
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::builder().pool_max_idle_per_host(MAX_IN_FLIGHT).build()?;
    let (done, mut results) = mpsc::unbounded_channel::<Outcome>();
    let permits = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let start = Instant::now();
    let count = requests.len();
    for (i, r) in requests.into_iter().enumerate() {
        let due = start + interval * u32::try_from(i)?;
        tokio::time::sleep_until(due.into()).await;
        let permit = permits.clone().acquire_owned().await?;
        let (client, done) = (client.clone(), done.clone());
        tokio::spawn(async move {
            let sent = client
                .post(&r.url)
                .bearer_auth(r.token)
                .header("content-type", "application/json")
                .body(r.body)
                .send()
                .await;
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
    let ok = statuses.get("200").copied().unwrap_or(0) + statuses.get("201").copied().unwrap_or(0);
    Ok(serde_json::json!({
        "requests": latencies.len(),
        "ok": ok,
        "seconds": elapsed,
        "per_second": ok as f64 / elapsed,
        "p50_ms": at(0.50), "p99_ms": at(0.99), "p999_ms": at(0.999), "max_ms": at(1.0),
        "statuses": statuses,
    }))
}
