//! `/compliance` and `/messages/{id}/compliance`: who has acknowledged each must-know
//! message, partner by partner, with the same numbers as the console's compliance pages,
//! and the evidence of every copy as CSV.

use axum::extract::State;
use axum::response::Response;
use tidings_app::App;
use tidings_app::compliance::{self, PartnerReport, Report, Summary};
use tidings_core::{MessageId, PartnerId};

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Staff};

/// The latest released must-know messages that ask for acknowledgment (at most 100), with
/// how far their acknowledgments have come and whether they are overdue.
#[utoipa::path(get, path = "/compliance", tag = "compliance",
    responses((status = 200, body = Vec<Summary>), (status = 401, body = Problem)))]
pub async fn list(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Vec<Summary>>, ApiError> {
    Ok(axum::Json(compliance::messages(&app, &caller, 100).await?))
}

/// One message's acknowledgments, partner by partner, those with the most outstanding first.
#[utoipa::path(get, path = "/messages/{id}/compliance", tag = "compliance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Report), (status = 404, body = Problem)))]
pub async fn report(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Report>, ApiError> {
    Ok(axum::Json(compliance::report(&app, &caller, id).await?))
}

/// One partner's members on one message: when each read and acknowledged, and the
/// evidence of each acknowledgment.
#[utoipa::path(get, path = "/messages/{id}/compliance/partners/{partner_id}", tag = "compliance",
    params(("id" = uuid::Uuid, Path), ("partner_id" = uuid::Uuid, Path)),
    responses((status = 200, body = PartnerReport), (status = 404, body = Problem)))]
pub async fn partner(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, partner)): Path<(MessageId, PartnerId)>,
) -> Result<axum::Json<PartnerReport>, ApiError> {
    Ok(axum::Json(compliance::partner(&app, &caller, id, partner).await?))
}

/// Every copy of the message as CSV (streamed): the member, their partner, when it was
/// released, read and acknowledged, and the acknowledgment's locale, statement, content
/// hash, IP address and user agent. Cells a spreadsheet would run as formulas are text.
#[utoipa::path(get, path = "/messages/{id}/compliance.csv", tag = "compliance", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
pub async fn export(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<Response, ApiError> {
    let receiver = compliance::export_csv(&app, &caller, id).await?;
    Ok(crate::admin::download::chunks(&format!("acknowledgments-{id}.csv"), receiver))
}
