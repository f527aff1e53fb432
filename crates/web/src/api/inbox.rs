//! `/inbox`: the member's own inbox, with a member token. Nothing here reaches past the
//! member the token names.

use axum::extract::State;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::inbox::Recipient;
use tidings_app::inbox::{self, AcknowledgeOutcome, InboxEntry, InboxMessage, InboxQuery};
use tidings_core::MessageId;
use utoipa::ToSchema;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Json, MemberCaller, Path, Query, RequestOrigin};

/// The member's inbox, newest first.
#[utoipa::path(get, path = "/inbox", tag = "inbox", params(InboxQuery),
    responses((status = 200, body = Page<InboxEntry>), (status = 401, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    MemberCaller(member, _): MemberCaller,
    Query(q): Query<InboxQuery>,
) -> Result<axum::Json<Page<InboxEntry>>, ApiError> {
    Ok(axum::Json(inbox::list(&app, &member, &q).await?.into()))
}

/// Critical messages still awaiting this member's acknowledgment.
#[utoipa::path(get, path = "/inbox/pending-acknowledgments", tag = "inbox",
    responses((status = 200, body = Vec<InboxEntry>), (status = 401, body = Problem)))]
pub async fn pending(
    State(app): State<App>,
    MemberCaller(member, _): MemberCaller,
) -> Result<axum::Json<Vec<InboxEntry>>, ApiError> {
    Ok(axum::Json(inbox::pending_acknowledgments(&app, &member).await?))
}

/// One message as the member sees it, with its content hash; the first view is recorded.
#[utoipa::path(get, path = "/inbox/{id}", tag = "inbox", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = InboxMessage), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn view(
    State(app): State<App>,
    MemberCaller(member, _): MemberCaller,
    Path(id): Path<MessageId>,
    RequestOrigin(origin): RequestOrigin,
) -> Result<axum::Json<InboxMessage>, ApiError> {
    Ok(axum::Json(inbox::view(&app, &member, id, &origin).await?))
}

/// Mark the message read.
#[utoipa::path(post, path = "/inbox/{id}/read", tag = "inbox", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Recipient), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn read(
    State(app): State<App>,
    MemberCaller(member, _): MemberCaller,
    Path(id): Path<MessageId>,
    RequestOrigin(origin): RequestOrigin,
) -> Result<axum::Json<Recipient>, ApiError> {
    Ok(axum::Json(inbox::read(&app, &member, id, &origin).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeRequest {
    /// The `content_hash` of the version the member was shown.
    content_hash: String,
    /// Answers to the message's attestation form, by field key: a whole number, a string
    /// (a choice, a text, a file reference; serial numbers one a line) or a list of
    /// strings (choices, serial numbers).
    #[serde(default)]
    #[schema(value_type = Object, additional_properties)]
    answers: tidings_core::attestation::Given,
}

/// Acknowledge the message: records the member, time, IP, user agent and the content hash
/// of the version shown. Answers after a durable commit; a repeat returns the first record.
#[utoipa::path(post, path = "/inbox/{id}/acknowledge", tag = "inbox", params(("id" = uuid::Uuid, Path)), request_body = AcknowledgeRequest,
    responses((status = 200, body = AcknowledgeOutcome), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn acknowledge(
    State(app): State<App>,
    caller: MemberCaller,
    Path(id): Path<MessageId>,
    RequestOrigin(origin): RequestOrigin,
    Json(body): Json<AcknowledgeRequest>,
) -> Result<axum::Json<AcknowledgeOutcome>, ApiError> {
    let how = caller.acknowledging();
    let answers = &body.answers;
    Ok(axum::Json(inbox::acknowledge(&app, &caller.0, id, &body.content_hash, answers, &origin, how).await?))
}
