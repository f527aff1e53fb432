//! `/messages`: compose, change while editable (409 once sending), schedule, cancel, copy,
//! and preview as a member.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::messages::MessageFilter;
use tidings_app::messages::{self, MessagePreview};
use tidings_app::{App, AppError};
use tidings_core::messages::{Message, MessageDraft, MessageState};
use tidings_core::{MessageId, TopicId};
use utoipa::{IntoParams, ToSchema};

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, Path, Permitted, Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// draft, scheduled, sending, sent or cancelled.
    #[param(value_type = Option<MessageState>)]
    state: Option<String>,
    topic_id: Option<TopicId>,
    after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// List messages.
#[utoipa::path(get, path = "/messages", tag = "messages", params(MessageQuery),
    responses((status = 200, body = Page<Message>), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(q): Query<MessageQuery>,
) -> Result<axum::Json<Page<Message>>, ApiError> {
    let state = match q.state.as_deref() {
        Some(s) => Some(s.parse::<MessageState>().map_err(|e| AppError::invalid("state", e.to_string()))?),
        None => None,
    };
    let filter = MessageFilter { state, topic_id: q.topic_id, newest_first: false };
    Ok(axum::Json(messages::list(&app, &caller, &filter, q.after.as_deref(), q.limit).await?.into()))
}

/// Compose a message (a draft).
#[utoipa::path(post, path = "/messages", tag = "messages", request_body = MessageDraft,
    responses((status = 201, body = Message), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<MessageDraft>,
) -> Result<(StatusCode, axum::Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(messages::create(&app, &caller, &draft).await?)))
}

/// Get one message.
#[utoipa::path(get, path = "/messages/{id}", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Message>, ApiError> {
    Ok(axum::Json(messages::get(&app, &caller, id).await?))
}

/// Change a draft or scheduled message; one that is sending or sent answers 409 (copy it).
#[utoipa::path(patch, path = "/messages/{id}", tag = "messages", params(("id" = uuid::Uuid, Path)), request_body = MessageDraft,
    responses((status = 200, body = Message), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Permitted(caller, draft): Permitted<MessageDraft>,
) -> Result<axum::Json<Message>, ApiError> {
    Ok(axum::Json(messages::update(&app, &caller, id, &draft).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// When to send, in the future: an RFC 3339 time with its offset
    /// (`2026-12-24T09:00:00+01:00`), or a wall-clock time (`2026-12-24T09:00`) read in
    /// `time_zone`, else in the message's time zone.
    send_at: String,
    /// An IANA time zone (`Europe/Berlin`) for a wall-clock `send_at`; it becomes the
    /// message's time zone.
    #[serde(default)]
    time_zone: Option<String>,
}

/// Schedule a draft (or move a scheduled message's time).
#[utoipa::path(post, path = "/messages/{id}/schedule", tag = "messages", params(("id" = uuid::Uuid, Path)), request_body = ScheduleRequest,
    responses((status = 200, body = Message), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn schedule(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Permitted(caller, request): Permitted<ScheduleRequest>,
) -> Result<axum::Json<Message>, ApiError> {
    let zone = request.time_zone.as_deref();
    Ok(axum::Json(messages::schedule_at(&app, &caller, id, &request.send_at, zone).await?))
}

/// Return a scheduled message to draft.
#[utoipa::path(post, path = "/messages/{id}/unschedule", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Message), (status = 409, body = Problem)))]
pub async fn unschedule(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Message>, ApiError> {
    Ok(axum::Json(messages::unschedule(&app, &caller, id).await?))
}

/// Cancel a draft or scheduled message.
#[utoipa::path(post, path = "/messages/{id}/cancel", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Message), (status = 409, body = Problem)))]
pub async fn cancel(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Message>, ApiError> {
    Ok(axum::Json(messages::cancel(&app, &caller, id).await?))
}

/// Copy any message into a new draft.
#[utoipa::path(post, path = "/messages/{id}/copy", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 201, body = Message), (status = 404, body = Problem)))]
pub async fn copy(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<(StatusCode, axum::Json<Message>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(messages::copy(&app, &caller, id).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    /// The member's id or email.
    member: String,
}

/// The message as a member would see it (personalized, sanitized, with its content hash),
/// and which channels may reach them; an unknown personalization field answers 422.
#[utoipa::path(post, path = "/messages/{id}/preview", tag = "messages", params(("id" = uuid::Uuid, Path)), request_body = PreviewRequest,
    responses((status = 200, body = MessagePreview), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
    Json(request): Json<PreviewRequest>,
) -> Result<axum::Json<MessagePreview>, ApiError> {
    Ok(axum::Json(messages::preview(&app, &caller, id, &request.member).await?))
}

/// Whom the message reaches on each of its channels, before it goes: its members (the
/// inbox), how many of them each outside channel reaches and why the rest are not, and
/// how many of their partners have a Teams or Slack channel bound for partner posts.
#[utoipa::path(get, path = "/messages/{id}/reach", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = tidings_app::reach::Reach), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn reach(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<tidings_app::reach::Reach>, ApiError> {
    Ok(axum::Json(tidings_app::reach::reach(&app, &caller, id).await?))
}
