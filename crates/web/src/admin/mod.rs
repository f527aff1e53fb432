//! `/admin`: the console for the vendor's staff, server-rendered like the portal. Staff
//! sign in with a password; sessions live in the database under their own cookie, scoped
//! to /admin, and end after a working day without a request. Every form is checked for
//! its CSRF token by the shared middleware, sign-in is rate limited per client address,
//! and every page asks the app, as the signed-in person, for what their role allows.

mod audit;
mod automation;
mod charts;
mod compliance;
pub(crate) mod console;
mod corrections;
mod directory;
pub(crate) mod download;
mod engagement;
mod forms;
mod home;
mod ladders;
mod mail;
mod messages;
mod overdue;
mod partner_channels;
pub(crate) mod partner_defaults;
mod people;
mod report;
mod segments;
mod sequences;
mod settings;
mod shell;
mod sign_in;
mod system;
mod tasks;
mod topics;
mod webhooks;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tidings_app::App;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::sessions::DbSessionStore;

/// A console session ends after this long without a request.
const IDLE_HOURS: i64 = 10;

pub fn router(app: &App) -> Router<App> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(app.clone()))
        .with_name("tidings_admin")
        .with_path("/admin")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(app.public_url.starts_with("https://"))
        .with_expiry(Expiry::OnInactivity(Duration::hours(IDLE_HOURS)));
    let limit = crate::portal::limits::sign_in();
    Router::new()
        .route("/", get(home::show))
        .route("/sign-in", get(sign_in::form).merge(post(sign_in::submit).layer(limit)))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/messages", get(messages::list).post(messages::create))
        .route("/messages/new", get(messages::new))
        .route("/messages/{id}", get(messages::show).post(messages::update))
        .route("/messages/{id}/edit", get(messages::edit))
        .route("/messages/{id}/email", get(messages::email))
        .route("/messages/{id}/report", get(report::show))
        .route("/messages/{id}/schedule", post(messages::schedule))
        .route("/messages/{id}/unschedule", post(messages::unschedule))
        .route("/messages/{id}/cancel", post(messages::cancel))
        .route("/messages/{id}/release", post(messages::release))
        .route("/messages/{id}/test-send", post(messages::test_send))
        .route("/messages/{id}/test-email", post(messages::test_email))
        .route("/messages/{id}/copy", post(messages::copy))
        .route("/messages/{id}/approve", post(messages::approve))
        .route("/messages/{id}/correct", get(corrections::show).post(corrections::submit))
        .route("/settings", get(settings::show).post(settings::save))
        .route("/system", get(system::show))
        .route("/settings/evidence-key/rotate", post(settings::rotate_evidence_key))
        .route("/settings/noise", post(settings::save_noise))
        .route("/segments", get(segments::list).post(segments::create))
        .route("/segments/new", get(segments::new))
        .route("/segments/{id}", get(segments::show).post(segments::update))
        .route("/segments/{id}/delete", post(segments::delete))
        .route("/audience/count", post(segments::count))
        .route("/compliance", get(compliance::list))
        .route("/overdue", get(overdue::show))
        .route("/overdue/decide", post(overdue::decide))
        .route("/overdue/escalate", post(overdue::escalate))
        .route("/compliance/{message}", get(compliance::report))
        .route("/compliance/{message}/partners/{partner}", get(compliance::partner))
        .route("/compliance/{message}/evidence", get(compliance::evidence))
        .route("/compliance/{message}/chase-now", post(compliance::chase_now))
        .route("/compliance/{message}/export.csv", get(compliance::export))
        .route("/engagement", get(engagement::show))
        .route("/topics", get(topics::list).post(topics::create))
        .route("/topics/{id}", post(topics::update))
        .route("/automation", get(automation::show))
        .route("/automation/events", post(automation::post))
        .route("/automation/triggers", post(automation::save))
        .route("/automation/triggers/new", get(automation::new))
        .route("/automation/triggers/{key}", get(automation::edit))
        .route("/automation/triggers/{key}/delete", post(automation::delete))
        .route("/tasks", get(tasks::list))
        .route("/tasks/find", post(tasks::find))
        .route("/tasks/policy", post(tasks::save_policy))
        .route("/tasks/{id}/done", post(tasks::done))
        .route("/automation/sequences", post(sequences::save))
        .route("/automation/sequences/new", get(sequences::new))
        .route("/automation/sequences/{key}", get(sequences::show))
        .route("/automation/sequences/{key}/delete", post(sequences::delete))
        .route("/ladders", get(ladders::list).post(ladders::save))
        .route("/ladders/{key}/delete", post(ladders::delete))
        .route("/ladders/topics/{id}", post(ladders::set_topic))
        .route("/partners", get(directory::partners))
        .route("/partners/export.csv", get(directory::export_partners))
        .route("/partners/{id}", get(directory::partner))
        .route("/partners/{id}/defaults", post(partner_defaults::save))
        .route("/partners/{id}/channels/{channel}", post(partner_channels::bind))
        .route("/partners/{id}/channels/{channel}/remove", post(partner_channels::unbind))
        .route("/partners/{id}/channels/{channel}/test", post(partner_channels::test))
        .route("/members", get(directory::members))
        .route("/members/export.csv", get(directory::export_members))
        .route("/members/{id}", get(directory::member))
        .route(
            "/import",
            get(directory::import_form)
                .post(directory::import)
                .layer(axum::extract::DefaultBodyLimit::max(crate::csrf::CONSOLE_FORM_LIMIT)),
        )
        .route("/staff", get(people::staff).post(people::add_staff))
        .route("/staff/{id}/role", post(people::set_role))
        .route("/staff/{id}/remove", post(people::remove_staff))
        .route("/tokens", get(people::tokens).post(people::create_token))
        .route("/tokens/{id}/revoke", post(people::revoke_token))
        .route("/audit", get(audit::show))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", get(webhooks::show))
        .route("/webhooks/{id}/test", post(webhooks::test))
        .route("/webhooks/{id}/enabled", post(webhooks::toggle))
        .route("/webhooks/{id}/secret", post(webhooks::rotate))
        .route("/webhooks/{id}/delete", post(webhooks::delete))
        .route("/mail", get(mail::list))
        .route("/chats", get(mail::chats))
        .route("/chats/reply", post(mail::reply))
        .route("/mail/{number}", get(mail::show))
        .route("/mail/{number}/html", get(mail::html))
        .layer(axum::middleware::from_fn(|s, r, n| {
            crate::csrf::verify(s, r, n, shell::form_refused, crate::csrf::CONSOLE_FORM_LIMIT)
        }))
        .layer(sessions)
        .route("/assets/admin.css", get(stylesheet))
        .route("/assets/console.js", get(script))
}

async fn script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/console.js"),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("../../static/admin.css"),
    )
}
