//! CSRF protection for every form of the portal and the console, in one place so that no
//! handler can forget it: a request that changes anything (any method but GET and HEAD)
//! must carry the session's token in its `csrf` form field. SameSite=Lax cookies already
//! keep most cross-site posts out; the token also covers older browsers and same-site
//! subdomains.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use tidings_app::AppError;
use tidings_app::i18n::Tr;

/// The session key of the CSRF token.
pub const SESSION_KEY: &str = "csrf";

/// The largest portal form: a few fields.
pub const PORTAL_FORM_LIMIT: usize = 64 * 1024;
/// The largest console form: a CSV file pasted or read into the import form.
pub const CONSOLE_FORM_LIMIT: usize = 16 * 1024 * 1024;

/// How a refused form is answered: a page in the surface's own style.
pub type Refusal = fn(&Tr, StatusCode) -> Response;

#[derive(Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

pub async fn verify(session: Session, request: Request, next: Next, refusal: Refusal, limit: usize) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let tr = Tr::for_accept_language(request.headers().get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    let refuse = |tr: &Tr| refusal(tr, StatusCode::FORBIDDEN);
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refuse(&tr);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return refusal(&tr, StatusCode::PAYLOAD_TOO_LARGE);
    };
    let sent = serde_urlencoded::from_bytes::<TokenField>(&bytes).ok().and_then(|f| f.csrf);
    let expected = session.get::<String>(SESSION_KEY).await.ok().flatten();
    match (sent, expected) {
        (Some(sent), Some(expected)) if same(&sent, &expected) => {
            next.run(Request::from_parts(parts, Body::from(bytes))).await
        }
        _ => refuse(&tr),
    }
}

/// The session's CSRF token, made on first need.
pub async fn token(session: &Session) -> Result<String, AppError> {
    let unexpected = |e: tower_sessions::session::Error| AppError::Unexpected(anyhow::anyhow!("session: {e}"));
    if let Some(token) = session.get::<String>(SESSION_KEY).await.map_err(unexpected)? {
        return Ok(token);
    }
    let token = tidings_app::sign_in::form_token()?;
    session.insert(SESSION_KEY, &token).await.map_err(unexpected)?;
    Ok(token)
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}
