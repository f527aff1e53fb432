//! `/obligations/overdue`: the partner managers' queue; and a decision on one partner's
//! obligation (`/messages/{id}/compliance/partners/{partner_id}/waiver`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::overdue::{self, OverdueItem, Waiver, WaiverDraft};
use tidings_core::{MessageId, PartnerId};
use utoipa::IntoParams;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Every partner, not only those the signed-in staff person manages.
    #[serde(default)]
    all: bool,
}

/// Partners whose obligation on a recent must-know message is overdue or at risk (overdue
/// first), not snoozed: those the signed-in staff person manages, or all (`all=true`, and
/// always for an API token).
#[utoipa::path(get, path = "/obligations/overdue", tag = "compliance", params(QueueQuery),
    responses((status = 200, body = Vec<OverdueItem>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
pub async fn queue(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(q): Query<QueueQuery>,
) -> Result<axum::Json<Vec<OverdueItem>>, ApiError> {
    Ok(axum::Json(overdue::queue(&app, &caller, q.all).await?))
}

/// Exempt a partner from a message's obligation, or snooze it in the overdue queue, with
/// the reason (authors and admins; in the audit log).
#[utoipa::path(put, path = "/messages/{id}/compliance/partners/{partner_id}/waiver", tag = "compliance",
    params(("id" = uuid::Uuid, Path), ("partner_id" = uuid::Uuid, Path)), request_body = WaiverDraft,
    responses((status = 200, body = Waiver), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn decide(
    State(app): State<App>,
    Path((id, partner)): Path<(MessageId, PartnerId)>,
    Permitted(caller, draft): Permitted<WaiverDraft>,
) -> Result<axum::Json<Waiver>, ApiError> {
    Ok(axum::Json(overdue::decide(&app, &caller, id, partner, &draft).await?))
}

/// Take a partner's exemption or snooze back.
#[utoipa::path(delete, path = "/messages/{id}/compliance/partners/{partner_id}/waiver", tag = "compliance",
    params(("id" = uuid::Uuid, Path), ("partner_id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn undo(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, partner)): Path<(MessageId, PartnerId)>,
) -> Result<StatusCode, ApiError> {
    overdue::undo(&app, &caller, id, partner).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What an escalation queued.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Escalated {
    /// Notices queued to the partner's leads.
    pub queued: u64,
}

/// Tell the partner's lead now, whatever the hour, who at the partner still owes an
/// acknowledgment (authors and admins; in the audit log). 409 when the partner owes
/// nothing or has no lead Tidings can reach.
#[utoipa::path(post, path = "/messages/{id}/compliance/partners/{partner_id}/escalate", tag = "compliance",
    params(("id" = uuid::Uuid, Path), ("partner_id" = uuid::Uuid, Path)),
    responses((status = 200, body = Escalated), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn escalate(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, partner)): Path<(MessageId, PartnerId)>,
) -> Result<axum::Json<Escalated>, ApiError> {
    let queued = tidings_app::chase::escalate_partner(&app, &caller, id, partner).await?;
    Ok(axum::Json(Escalated { queued }))
}
