//! `/messages/{id}/corrections` and `/messages/{id}/versions`: correcting a message that
//! went out, as a new version, and every version with what changed.

use axum::extract::State;
use axum::http::StatusCode;
use tidings_app::App;
use tidings_app::corrections::{self, CorrectionOutcome, VersionWithChanges};
use tidings_core::MessageId;
use tidings_core::messages::CorrectionDraft;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Staff};

/// Correct a message that went out: its text becomes a new version. A `material`
/// correction sets earlier acknowledgments aside (they stay bound to the old text), asks
/// every recipient to acknowledge the new text and tells them; an `editorial` one leaves
/// acknowledgments standing. Both are recorded in the evidence log.
#[utoipa::path(post, path = "/messages/{id}/corrections", tag = "messages", params(("id" = uuid::Uuid, Path)),
    request_body = CorrectionDraft,
    responses((status = 201, body = CorrectionOutcome), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn correct(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Permitted(caller, draft): Permitted<CorrectionDraft>,
) -> Result<(StatusCode, axum::Json<CorrectionOutcome>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(corrections::correct(&app, &caller, id, &draft).await?)))
}

/// Every version of a corrected message, oldest first, each with what changed from the
/// one before, word by word; empty for a message never corrected.
#[utoipa::path(get, path = "/messages/{id}/versions", tag = "messages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<VersionWithChanges>), (status = 404, body = Problem)))]
pub async fn versions(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Vec<VersionWithChanges>>, ApiError> {
    Ok(axum::Json(corrections::versions(&app, &caller, id).await?))
}
