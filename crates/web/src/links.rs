//! The links in an email: the open pixel, click tracking, the one-click unsubscribe
//! (RFC 8058: the POST works without cookies and answers without a redirect) and the
//! acknowledgment page. A GET never changes anything a person decides: mail scanners
//! open every link, so unsubscribing and acknowledging take a button (a POST).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use serde::Deserialize;
use tidings_app::{App, AppError, tracking};

use crate::extract::RequestOrigin;

pub fn router() -> Router<App> {
    Router::new()
        .route("/t/o/{token}", get(open))
        .route("/t/c/{token}", get(click))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/a/{token}", get(acknowledge_page).post(acknowledge))
}

/// The smallest transparent GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn open(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    if let Err(e) = tracking::opened(&app, &token, &origin).await {
        tracing::warn!(error = %e, "an open could not be recorded");
    }
    ([(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store")], PIXEL).into_response()
}

async fn click(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    match tracking::clicked(&app, &token, &origin).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(AppError::Invalid(_)) => page(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "<p>This link was changed or was not made by this server, so it leads nowhere.</p>",
        ),
        Err(e) => failure(e),
    }
}

async fn unsubscribe_page(State(app): State<App>, axum::extract::Path(token): axum::extract::Path<String>) -> Response {
    match tracking::unsubscribe_subject(&app, &token).await {
        Ok(s) => page(
            StatusCode::OK,
            "Unsubscribe",
            &format!(
                "<p>Stop email from this sender to <strong>{}</strong>? Messages stay in your partner portal inbox.</p>\
                 <form method=\"post\"><button type=\"submit\">Unsubscribe from email</button></form>",
                escape(s.member.profile.email.as_str())
            ),
        ),
        Err(e) => failure(e),
    }
}

async fn unsubscribe(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    match tracking::unsubscribe(&app, &token, &origin).await {
        Ok(s) => page(
            StatusCode::OK,
            "Unsubscribed",
            &format!(
                "<p><strong>{}</strong> will get no more email from us. You can opt in again in your preferences.</p>",
                escape(s.member.profile.email.as_str())
            ),
        ),
        Err(e) => failure(e),
    }
}

async fn acknowledge_page(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    match tracking::acknowledgment_page(&app, &token, &origin).await {
        Ok((member, view)) => {
            let r = &view.rendered;
            let statement = view.entry.acknowledgment.as_ref().map(|a| a.statement.clone()).unwrap_or_default();
            let action = match &view.acknowledgment_record {
                Some(done) => format!(
                    "<p class=\"done\">You acknowledged this on {}.</p>",
                    escape(&done.acknowledged_at.to_string())
                ),
                None if view.entry.acknowledgment.is_some() => format!(
                    "<form method=\"post\"><input type=\"hidden\" name=\"content_hash\" value=\"{}\">\
                     <p><strong>{}</strong>, please confirm:</p><blockquote>{}</blockquote>\
                     <button type=\"submit\">I acknowledge</button></form>",
                    escape(&r.content_hash),
                    escape(&member.profile.name),
                    escape(&statement)
                ),
                None => "<p>This message does not ask for an acknowledgment.</p>".into(),
            };
            page(StatusCode::OK, &r.title, &format!("{}{action}", message_body(r)))
        }
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
struct AckForm {
    content_hash: String,
}

async fn acknowledge(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
    Form(form): Form<AckForm>,
) -> Response {
    match tracking::acknowledge_by_link(&app, &token, &form.content_hash, &origin).await {
        Ok((rendered, outcome)) => page(
            StatusCode::OK,
            "Acknowledged",
            &format!(
                "<p class=\"done\">Thank you. Your acknowledgment of <strong>{}</strong> was recorded on {}.</p>",
                escape(&rendered.title),
                escape(&outcome.acknowledgment.acknowledged_at.to_string())
            ),
        ),
        Err(e) => failure(e),
    }
}

fn message_body(r: &tidings_core::messages::Rendered) -> String {
    let cta = r
        .call_to_action
        .as_ref()
        .map(|c| format!("<p><a href=\"{}\">{}</a></p>", escape(&c.url), escape(&c.label)))
        .unwrap_or_default();
    // The sections are sanitized HTML (comrak, then ammonia).
    format!(
        "<p>{}</p><h2>What changed</h2>{}<h2>Why it matters</h2>{}<h2>What to do next</h2>{}{cta}",
        escape(&r.summary),
        r.what_changed,
        r.why_it_matters,
        r.what_to_do
    )
}

fn failure(e: AppError) -> Response {
    match e {
        AppError::Invalid(_) | AppError::NotFound(_) => page(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "<p>This link was changed, was not made by this server, or what it points to no longer exists.</p>",
        ),
        AppError::Conflict(m) => page(StatusCode::CONFLICT, "Please reload", &format!("<p>{}</p>", escape(&m))),
        other => {
            tracing::error!(error = %other, "a link page failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "<p>Please try again later.</p>")
        }
    }
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#111827}}\
         button{{font-size:1rem;padding:.6rem 1.2rem;background:#b91c1c;color:#fff;border:0;border-radius:6px;cursor:pointer}}\
         button:focus{{outline:3px solid #1d4ed8;outline-offset:2px}}blockquote{{border-left:4px solid #b91c1c;margin:1rem 0;padding-left:1rem}}\
         .done{{color:#065f46;font-weight:600}}</style></head><body><main><h1>{t}</h1>{body}</main></body></html>",
        t = escape(title)
    );
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}
