//! `/partner-groups`

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::{App, groups};
use tidings_core::{GroupId, KeyedDraft, PartnerGroup};
use utoipa::IntoParams;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// List partner groups, with how many partners each has.
#[utoipa::path(get, path = "/partner-groups", tag = "partner-groups", params(PageQuery),
    responses((status = 200, body = Page<PartnerGroup>), (status = 401, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<PartnerGroup>>, ApiError> {
    Ok(axum::Json(groups::list(&app, &caller, query.after.as_deref(), query.limit).await?.into()))
}

/// Create a partner group; partners join it through their `groups` field.
#[utoipa::path(post, path = "/partner-groups", tag = "partner-groups", request_body = KeyedDraft,
    responses((status = 201, body = PartnerGroup), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<KeyedDraft>,
) -> Result<(StatusCode, axum::Json<PartnerGroup>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(groups::create(&app, &caller, &draft).await?)))
}

/// Get one partner group.
#[utoipa::path(get, path = "/partner-groups/{id}", tag = "partner-groups", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PartnerGroup), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<GroupId>,
) -> Result<axum::Json<PartnerGroup>, ApiError> {
    Ok(axum::Json(groups::get(&app, &caller, id).await?))
}

/// Change a partner group's key, name or description.
#[utoipa::path(patch, path = "/partner-groups/{id}", tag = "partner-groups", params(("id" = uuid::Uuid, Path)), request_body = KeyedDraft,
    responses((status = 200, body = PartnerGroup), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<GroupId>,
    Permitted(caller, draft): Permitted<KeyedDraft>,
) -> Result<axum::Json<PartnerGroup>, ApiError> {
    Ok(axum::Json(groups::update(&app, &caller, id, &draft).await?))
}

/// Delete a partner group (its partners stay).
#[utoipa::path(delete, path = "/partner-groups/{id}", tag = "partner-groups", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<GroupId>,
) -> Result<StatusCode, ApiError> {
    groups::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
