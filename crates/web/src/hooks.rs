//! Callbacks from providers: the SMS provider's status reports and the texts members send
//! back. They authenticate by the provider's signature, not by a session or a token, and
//! sit outside `/api/v1`: providers call them, not API clients.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Router};
use tidings_app::{App, sms_hooks};

use crate::error::ApiError;

pub fn router() -> Router<App> {
    Router::new().route(sms_hooks::STATUS_PATH, post(sms_status)).route(sms_hooks::INBOUND_PATH, post(sms_inbound))
}

fn signature(headers: &HeaderMap) -> Option<&str> {
    headers.get("x-twilio-signature").and_then(|v| v.to_str().ok())
}

async fn sms_status(State(app): State<App>, headers: HeaderMap, Form(fields): Form<Vec<(String, String)>>) -> Response {
    match sms_hooks::status(&app, &fields, signature(&headers)).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// Answers with an empty TwiML document: Tidings sends no reply text of its own (the
/// provider confirms opt-outs as carriers require).
async fn sms_inbound(
    State(app): State<App>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    match sms_hooks::inbound(&app, &fields, signature(&headers)).await {
        Ok(_) => (
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
        )
            .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
