//! Stand-ins for an SMS provider and Slack, for `serve --demo` when neither is configured:
//! served on a loopback port, they answer as the real APIs do (a Twilio-compatible
//! `Messages.json`; Slack's `users.lookupByEmail` and `chat.postMessage`), keep what they
//! were asked to send for the console, and report each text delivered a moment later
//! through its signed status callback, as a provider would. Never used outside the demo.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{Value, json};
use tidings_channels::fake::ChatCatcher;
use tidings_channels::outbound::{Outbound, OutboundPolicy};
use tidings_core::consent::Channel;

#[derive(Clone)]
struct Fakes {
    catcher: ChatCatcher,
    /// Signs the status callbacks, as the account's auth token does.
    auth_token: String,
    http: Outbound,
}

/// The address the stand-ins answer at.
pub struct Running {
    pub base_url: String,
}

/// Starts the stand-ins on a free loopback port.
pub async fn start(catcher: ChatCatcher, auth_token: String) -> std::io::Result<Running> {
    start_on(tokio::net::TcpListener::bind("127.0.0.1:0").await?, catcher, auth_token).await
}

/// Starts the stand-ins on `listener`.
pub async fn start_on(
    listener: tokio::net::TcpListener,
    catcher: ChatCatcher,
    auth_token: String,
) -> std::io::Result<Running> {
    let http = Outbound::new(OutboundPolicy { allow_loopback: true }).map_err(std::io::Error::other)?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(text))
        .route("/users.lookupByEmail", post(lookup))
        .route("/chat.postMessage", post(chat))
        .with_state(Fakes { catcher, auth_token, http });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Running { base_url })
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

async fn text(
    State(fakes): State<Fakes>,
    Path(sid): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let number = fakes.catcher.keep(Channel::Sms, field(&fields, "To"), field(&fields, "Body"));
    let message_sid = format!("SMdemo{number:08}");
    let callback = field(&fields, "StatusCallback").to_owned();
    if !callback.is_empty() {
        let report = vec![
            ("MessageSid".to_owned(), message_sid.clone()),
            ("MessageStatus".to_owned(), "delivered".to_owned()),
            ("AccountSid".to_owned(), sid),
        ];
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let signature = tidings_channels::sms::signature(&fakes.auth_token, &callback, &report);
            if let Ok(request) = fakes.http.post(&callback) {
                let request = request.header("x-twilio-signature", signature).form(&report);
                if let Err(e) = fakes.http.execute(request).await {
                    tracing::debug!(error = ?e, "the demo SMS provider's status callback failed");
                }
            }
        });
    }
    (StatusCode::CREATED, Json(json!({"sid": message_sid, "status": "queued"}))).into_response()
}

async fn lookup(Form(fields): Form<Vec<(String, String)>>) -> Json<Value> {
    Json(json!({"ok": true, "user": {"id": format!("U{}", field(&fields, "email"))}}))
}

async fn chat(State(fakes): State<Fakes>, Json(body): Json<Value>) -> Json<Value> {
    let user = body["channel"].as_str().unwrap_or_default();
    let to = user.strip_prefix('U').unwrap_or(user);
    fakes.catcher.keep(Channel::Slack, to, body["text"].as_str().unwrap_or_default());
    Json(json!({"ok": true, "ts": "1700000000.000100", "channel": user}))
}
