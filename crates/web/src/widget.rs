//! `/widget`: the embeddable inbox. `tidings-inbox.js` is the web component; `/widget/v1`
//! serves it the member's inbox (the same handlers as `/api/v1/inbox`) to pages on the
//! origins in `[widget] allowed_origins`, with a member token the vendor's server signed.
//! Cookies are never used here, so another site cannot act on a member's behalf.

use std::time::Duration;

use axum::Router;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tidings_app::App;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::inbox;

pub fn router(app: &App) -> Router<App> {
    let origins: Vec<HeaderValue> = app.widget_origins.iter().filter_map(|o| o.parse().ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    // A service of its own, so that the CORS layer also answers preflights (OPTIONS) and
    // wraps the not-found and wrong-method answers; the app's own fallbacks would bypass it.
    let api = Router::new()
        .route("/inbox", get(inbox::list))
        .route("/inbox/pending-acknowledgments", get(inbox::pending))
        .route("/inbox/{id}", get(inbox::view))
        .route("/inbox/{id}/read", post(inbox::read))
        .route("/inbox/{id}/acknowledge", post(inbox::acknowledge))
        .fallback(crate::error::not_found)
        .method_not_allowed_fallback(crate::error::method_not_allowed)
        .layer(cors)
        .with_state(app.clone());
    Router::new().nest_service("/v1", api).route("/tidings-inbox.js", get(script))
}

/// A public file; `type="module"` scripts are fetched with CORS, so any page may load it.
async fn script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        include_str!("../static/tidings-inbox.js"),
    )
}
