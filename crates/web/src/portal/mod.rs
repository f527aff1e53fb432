//! `/portal`: the partner portal, server-rendered. Sessions live in the database (one
//! cookie, HttpOnly, SameSite=Lax, Secure when the public URL is https); every form is
//! checked for its CSRF token by one middleware; sign-in requests are rate limited per
//! client address (`limits`).

mod attestation;
mod inbox;
pub(crate) mod limits;
pub(crate) mod message;
pub(crate) mod page;
mod preferences;
mod sign_in;
mod team;
pub(crate) mod visitor;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tidings_app::inbox::InboxEntry;
use tidings_app::{App, AppError};
use tidings_core::MessageId;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::sessions::DbSessionStore;
use page::{Frame, Popup};
use visitor::Signed;

/// A session ends after this long without a request.
const IDLE_DAYS: i64 = 14;

pub fn router(app: &App) -> Router<App> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(app.clone()))
        .with_name("tidings_portal")
        .with_path("/portal")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(app.public_url.starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(Duration::days(IDLE_DAYS)));
    let limit = limits::sign_in();
    Router::new()
        .route("/", get(inbox::list))
        .route("/sign-in", get(sign_in::form).merge(post(sign_in::request).layer(limit.clone())))
        .route("/sign-in/password", post(sign_in::password).layer(limit.clone()))
        .route("/sign-in/{token}", get(sign_in::landing).merge(post(sign_in::redeem).layer(limit)))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/preferences", get(preferences::show).post(preferences::save))
        .route("/preferences/password", post(preferences::password))
        .route("/push/subscriptions", post(preferences::subscribe))
        .route("/push/unsubscribe", post(preferences::unsubscribe))
        .route("/team", get(team::show))
        .route("/team/{id}/remind", post(team::remind))
        .route("/team/roles/{role}", post(team::nominate))
        .route("/team/defaults", post(team::save_defaults))
        .route("/team/channels/{channel}", post(team::bind))
        .route("/team/channels/{channel}/remove", post(team::unbind))
        .route("/team/channels/{channel}/test", post(team::test))
        .route("/messages/{id}", get(message::show))
        .route("/messages/{id}/acknowledge", post(message::acknowledge))
        .route("/messages/{id}/dismiss", post(message::dismiss))
        .layer(axum::middleware::from_fn(|s, r, n| {
            crate::csrf::verify(s, r, n, page::form_refused, crate::csrf::PORTAL_FORM_LIMIT)
        }))
        .layer(sessions)
        .route("/assets/portal.css", get(stylesheet))
        .route("/assets/push.js", get(push_script))
        .route("/sw.js", get(service_worker))
}

async fn push_script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/portal-push.js"),
    )
}

/// The service worker, at the portal's root so that its scope is the portal.
async fn service_worker() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")],
        include_str!("../../static/portal-sw.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/portal.css"),
    )
}

/// The frame of a signed-in page: the flash note, and the first must-know message still
/// awaiting this member's acknowledgment that they have not closed for now (none over
/// that message's own page).
async fn frame_for(app: &App, signed: &Signed, current: Option<MessageId>) -> Result<Frame, AppError> {
    let overview = tidings_app::inbox::overview(app, &signed.member, None, &popup_skips(signed, current).await).await?;
    Ok(frame_with(signed, overview.popup).await)
}

/// The messages the pop-up must not show: those closed for now, and the current one.
async fn popup_skips(signed: &Signed, current: Option<MessageId>) -> Vec<MessageId> {
    let mut skip = signed.dismissed().await;
    skip.extend(current);
    skip
}

async fn frame_with(signed: &Signed, popup: Option<InboxEntry>) -> Frame {
    let mut frame = signed.visitor.frame();
    frame.member_name = Some(signed.member.profile.name.clone());
    frame.is_lead = signed.member.profile.roles.contains(tidings_core::members::Role::PartnerLead);
    frame.flash = signed.take_flash().await;
    frame.popup = popup.map(|e| Popup {
        message_id: e.message_id,
        title: e.title,
        summary: e.summary,
        statement: e.acknowledgment.map(|a| a.statement).unwrap_or_default(),
    });
    frame
}
