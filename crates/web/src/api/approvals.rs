//! `/messages/{id}/approval` and `/settings/approval-policy`: the four-eyes rule.

use axum::extract::State;
use tidings_app::App;
use tidings_app::approvals::Approval;
use tidings_app::approvals::{self, ApprovalPolicy, ApprovalStatus};
use tidings_core::MessageId;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Staff};

/// Whether the message needs a second person's approval, and the approval it has.
#[utoipa::path(get, path = "/messages/{id}/approval", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ApprovalStatus), (status = 404, body = Problem)))]
pub async fn status(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<ApprovalStatus>, ApiError> {
    Ok(axum::Json(approvals::status(&app, &caller, id).await?))
}

/// Approve a draft as the second pair of eyes (approvers and admins who did not write it;
/// 409 for the message's own writers or a message that is not a draft).
#[utoipa::path(post, path = "/messages/{id}/approval", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Approval), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn approve(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Approval>, ApiError> {
    Ok(axum::Json(approvals::approve(&app, &caller, id).await?))
}

/// Which messages need a second person's approval before they go.
#[utoipa::path(get, path = "/settings/approval-policy", tag = "messages",
    responses((status = 200, body = ApprovalPolicy), (status = 401, body = Problem)))]
pub async fn policy(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<ApprovalPolicy>, ApiError> {
    Ok(axum::Json(approvals::policy(&app, &caller).await?))
}

/// Set which importances and topics need approval (admins).
#[utoipa::path(put, path = "/settings/approval-policy", tag = "messages", request_body = ApprovalPolicy,
    responses((status = 200, body = ApprovalPolicy), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_policy(
    State(app): State<App>,
    Permitted(caller, policy): Permitted<ApprovalPolicy>,
) -> Result<axum::Json<ApprovalPolicy>, ApiError> {
    Ok(axum::Json(approvals::set_policy(&app, &caller, &policy).await?))
}
