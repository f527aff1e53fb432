//! `/members/{id}/consent` and `/members/{id}/preferences`.

use axum::extract::State;
use axum::http::StatusCode;
use tidings_app::App;
use tidings_app::consent::{self, ConsentInput, PreferencesPatch, PreferencesView};
use tidings_core::MemberId;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Staff};

/// The member's consent history, oldest first: who changed what, when, how and on which text.
#[utoipa::path(get, path = "/members/{id}/consent", tag = "consent", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<Object>), (status = 404, body = Problem)))]
pub async fn history(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MemberId>,
) -> Result<axum::Json<Vec<tidings_app::consent::ConsentRecord>>, ApiError> {
    Ok(axum::Json(consent::history(&app, &caller, id).await?))
}

/// Record a consent change (such as an email opt-in collected by the vendor's own systems).
#[utoipa::path(post, path = "/members/{id}/consent", tag = "consent", params(("id" = uuid::Uuid, Path)), request_body = ConsentInput,
    responses((status = 201, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn record(
    State(app): State<App>,
    Path(id): Path<MemberId>,
    Permitted(caller, input): Permitted<ConsentInput>,
) -> Result<(StatusCode, axum::Json<tidings_app::consent::ConsentRecord>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(consent::record(&app, &caller, id, &input).await?)))
}

/// The member's topic and channel choices and opt-ins, with each topic's policy for them.
#[utoipa::path(get, path = "/members/{id}/preferences", tag = "consent", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PreferencesView), (status = 404, body = Problem)))]
pub async fn preferences(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MemberId>,
) -> Result<axum::Json<PreferencesView>, ApiError> {
    Ok(axum::Json(consent::preferences(&app, &caller, id).await?))
}

/// Change topic and channel choices; a required topic cannot be turned off (422).
#[utoipa::path(patch, path = "/members/{id}/preferences", tag = "consent", params(("id" = uuid::Uuid, Path)),
    request_body = PreferencesPatch,
    responses((status = 200, body = PreferencesView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_preferences(
    State(app): State<App>,
    Path(id): Path<MemberId>,
    Permitted(caller, patch): Permitted<PreferencesPatch>,
) -> Result<axum::Json<PreferencesView>, ApiError> {
    Ok(axum::Json(consent::set_preferences(&app, &caller, id, &patch).await?))
}
