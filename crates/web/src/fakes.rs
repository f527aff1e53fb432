//! Stand-ins for an SMS provider, Slack and Teams, for `serve --demo` when neither SMS nor
//! Slack is configured: served on a loopback port, they answer as the real APIs do (a
//! Twilio-compatible `Messages.json`; Slack's `users.lookupByEmail` and `chat.postMessage`;
//! a Slack incoming webhook at `/slack/services/...` and a Teams workflow webhook at
//! `/teams/{channel}`, where the demo binds partners' channels), keep what they
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
    let catcher_ = catcher.clone();
    let base_url = format!("http://{}", listener.local_addr()?);
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(text))
        .route("/users.lookupByEmail", post(lookup))
        .route("/chat.postMessage", post(chat))
        .route("/slack/services/{*path}", post(slack_webhook))
        .route("/teams/{channel}", post(teams_webhook))
        .route("/webhooks/receiver", post(webhook_receiver))
        .route("/push/{browser}", post(push_service))
        .with_state(Fakes { catcher: catcher_, auth_token, http });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    catcher.served_at(&base_url);
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

/// A Slack incoming webhook: the channel is named by the webhook's path.
async fn slack_webhook(State(fakes): State<Fakes>, Path(path): Path<String>, Json(body): Json<Value>) -> Response {
    let Some(text) = body["text"].as_str().filter(|t| !t.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let channel = path.rsplit('/').next().unwrap_or_default();
    fakes.catcher.keep(Channel::Slack, &format!("#{channel}"), text);
    (StatusCode::OK, "ok").into_response()
}

/// A Teams workflow webhook ("When a Teams webhook request is received"): takes a message
/// whose attachment is an Adaptive Card, and answers 202 as Power Automate does.
async fn teams_webhook(State(fakes): State<Fakes>, Path(channel): Path<String>, Json(body): Json<Value>) -> Response {
    let card = &body["attachments"][0];
    if card["contentType"] != "application/vnd.microsoft.card.adaptive" || card["content"]["type"] != "AdaptiveCard" {
        return (StatusCode::BAD_REQUEST, "the request carries no Adaptive Card").into_response();
    }
    let texts: Vec<&str> = card["content"]["body"]
        .as_array()
        .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect())
        .unwrap_or_default();
    fakes.catcher.keep(Channel::Teams, &format!("Teams: {channel}"), &texts.join("\n"));
    StatusCode::ACCEPTED.into_response()
}

/// A receiver of Tidings' own signed webhooks, for the demo's endpoint: keeps each event's
/// type and id for the console.
async fn webhook_receiver(
    State(fakes): State<Fakes>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let title = body["data"]["title"].as_str().map(|t| format!(": {t}")).unwrap_or_default();
    let text = format!("{} ({id}){title}", body["type"].as_str().unwrap_or_default());
    fakes.catcher.keep(Channel::Webhook, "Webhook receiver", &text);
    StatusCode::NO_CONTENT
}

/// A browser's push service (RFC 8030): takes the encrypted notification, as a real one
/// does, and keeps what it can see of it (the payload is for the browser's eyes only).
async fn push_service(
    State(fakes): State<Fakes>,
    Path(browser): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if header("content-encoding") != "aes128gcm" || !header("authorization").starts_with("vapid ") {
        return StatusCode::BAD_REQUEST;
    }
    let text = format!("an encrypted notification, {} bytes, urgency {}", body.len(), header("urgency"));
    fakes.catcher.keep(Channel::WebPush, &format!("browser of {browser}"), &text);
    StatusCode::CREATED
}
