//! Prometheus metrics: every request counted and timed by route and status here; the
//! rest (deliveries, provider errors, jobs, worker rounds) where they happen; gauges (the
//! queue, nodes, pool) read from the database at each scrape. `/metrics` is served on a
//! listener of its own (`[metrics] listen`, off by default), never beside the public pages.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tidings_app::App;

/// Upper bounds of the latency histograms' buckets, in seconds: a millisecond to ten seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Installs the process's recorder; what is recorded before (or without) it is dropped.
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())?;
    describe();
    let upkeep = handle.clone();
    // Histograms keep their samples until upkeep drains them into the buckets.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

fn describe() {
    metrics::describe_counter!(
        "tidings_http_requests_total",
        "HTTP requests answered, by route template, method and status"
    );
    metrics::describe_histogram!(
        "tidings_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route template and method"
    );
    metrics::describe_counter!(
        "tidings_deliveries_total",
        "Delivery attempts settled, by channel and resulting status"
    );
    metrics::describe_counter!(
        "tidings_provider_errors_total",
        "Errors from providers (refusals, time-outs, outages), by channel"
    );
    metrics::describe_histogram!(
        "tidings_worker_round_seconds",
        metrics::Unit::Seconds,
        "One worker round: claim, send, record"
    );
    metrics::describe_counter!("tidings_job_runs_total", "Recurring job runs, by job");
    metrics::describe_counter!("tidings_job_failures_total", "Recurring job runs that failed, by job");
    metrics::describe_histogram!(
        "tidings_job_seconds",
        metrics::Unit::Seconds,
        "Time a recurring job's run took, by job"
    );
    metrics::describe_gauge!("tidings_queue_waiting", "Deliveries waiting for an attempt, by channel");
    metrics::describe_gauge!("tidings_queue_due", "Deliveries whose time has come, by channel");
    metrics::describe_gauge!(
        "tidings_queue_oldest_due_age_seconds",
        metrics::Unit::Seconds,
        "How long the oldest due delivery has waited past its time, by channel"
    );
    metrics::describe_gauge!("tidings_nodes", "Nodes by state: alive, stale (silent over 20 s), stopped");
    metrics::describe_gauge!("tidings_report_counts_unfolded", "Report count differences not yet summed into reports");
    metrics::describe_gauge!("tidings_database_bytes", metrics::Unit::Bytes, "The database's size on disk");
    metrics::describe_gauge!("tidings_db_pool_connections", "This process's database connections, idle or in use");
    metrics::describe_gauge!("tidings_db_pool_connections_max", "The most database connections this process opens");
}

/// Counts and times each request by its route template (never the raw path, whose ids
/// would make a series each).
pub async fn record_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("tidings_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("tidings_http_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

#[derive(Clone)]
struct Scrape {
    app: App,
    handle: PrometheusHandle,
}

/// The metrics listener's router: `/metrics` only.
pub fn router(app: App, handle: PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(metrics)).with_state(Scrape { app, handle })
}

/// Serves `/metrics` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    handle: PrometheusHandle,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app, handle)).with_graceful_shutdown(shutdown).await
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    match tidings_app::system::snapshot(&scrape.app).await {
        Ok(status) => tidings_app::system::publish(&status, scrape.app.db.pool_use()),
        // The counters still answer; the gauges keep their last values.
        Err(e) => tracing::warn!(error = %e, "reading the system's state for /metrics failed"),
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], scrape.handle.render())
        .into_response()
}
