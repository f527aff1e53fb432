//! `/imports`: CSV in the request body, streamed into the importer as it arrives.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::import::{self, CsvSource, ImportOptions, ImportReport};
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa::IntoParams;

use crate::error::{ApiError, Problem, problem};
use crate::extract::{Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Write nothing at all if any row is bad (answers 422 with the report).
    #[serde(default)]
    strict: bool,
    /// Write nothing: answer with what the import would do (created, updated, unchanged,
    /// and every bad row), as the console's preview does.
    #[serde(default)]
    dry_run: bool,
}

/// Import partners from CSV (upsert by `external_id`).
///
/// Columns: external_id (required), name, partner_type, tier, region, country,
/// lifecycle_stage, groups (keys separated by `;`), partner_manager (staff email),
/// working_hours (such as `mon-fri 09:00-17:00`); any other column becomes a custom
/// attribute.
#[utoipa::path(post, path = "/imports/partners", tag = "imports", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem)))]
pub async fn partners(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let report = import::import_partners(
        &app,
        &caller,
        source(body),
        ImportOptions { strict: query.strict, dry_run: query.dry_run },
    )
    .await?;
    Ok(respond(report))
}

/// Import members from CSV (upsert by `external_id`, else by `email`).
///
/// Columns: email (required), external_id, partner_external_id, phone, name, roles
/// (separated by `;`), locale, time_zone, status, last_seen_at, working_hours; any other
/// column becomes a custom attribute.
#[utoipa::path(post, path = "/imports/members", tag = "imports", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 422, body = Problem)))]
pub async fn members(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let report = import::import_members(
        &app,
        &caller,
        source(body),
        ImportOptions { strict: query.strict, dry_run: query.dry_run },
    )
    .await?;
    Ok(respond(report))
}

fn source(body: Body) -> CsvSource {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    Box::new(SyncIoBridge::new(StreamReader::new(stream)))
}

fn respond(report: ImportReport) -> Response {
    if report.rolled_back {
        let mut p = problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "import_rolled_back",
            format!("{} row(s) are invalid, so nothing was written (strict mode)", report.failed),
        );
        p.report = serde_json::to_value(&report).ok();
        return p.into_response();
    }
    axum::Json(report).into_response()
}
