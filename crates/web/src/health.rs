//! The root index, and liveness and readiness for load balancers and orchestrators.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tidings_app::App;

pub fn router() -> Router<App> {
    Router::new().route("/", get(index)).route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// Where to go from the root URL that `serve` prints.
async fn index() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "name": "Tidings",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "/api/v1",
        "openapi": "/api/v1/openapi.json",
        "health": "/healthz",
        "ready": "/readyz",
        "authentication": "Authorization: Bearer <API token> (tidings token create --role admin)",
    }))
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers.
async fn readyz(State(app): State<App>) -> (StatusCode, &'static str) {
    match app.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "database not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
