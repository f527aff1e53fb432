//! The HTTP surface: `/api/v1` (JSON, described by OpenAPI), health checks, and one
//! error-to-response mapping for all of it.

mod admin;
mod api;
mod csrf;
mod error;
mod extract;
pub mod fakes;
mod health;
mod hooks;
mod links;
mod portal;
mod redirect;
pub mod scrape;
pub mod sessions;
mod widget;

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use tidings_app::App;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use api::openapi;
pub use error::ApiError;

/// The whole application router.
pub fn router(app: App) -> Router {
    let (api, _) = api::router().split_for_parts();
    Router::new()
        .nest("/api/v1", api)
        .merge(health::router())
        .merge(links::router())
        .merge(hooks::router())
        .nest("/portal", portal::router(&app))
        .nest("/admin", admin::router(&app))
        .nest("/widget", widget::router(&app))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .with_state(app)
        .layer(axum::middleware::from_fn(scrape::record_request))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(300)))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Each request's span: its route template (never the raw path, which may hold a
/// sign-in token) and its `x-request-id`, so every line it logs names both.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = request.extensions().get::<axum::extract::MatchedPath>().map_or("unmatched", |p| p.as_str());
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    tracing::info_span!("request", method = %request.method(), route, request_id = id)
}

/// Serves `app` on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
