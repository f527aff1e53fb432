//! `/topics`

use axum::extract::State;
use axum::http::StatusCode;
use tidings_app::{App, topics};
use tidings_core::{Topic, TopicDraft, TopicId};

use super::Page;
use super::groups::PageQuery;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

/// List topics.
#[utoipa::path(get, path = "/topics", tag = "topics", params(PageQuery),
    responses((status = 200, body = Page<Topic>), (status = 401, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Topic>>, ApiError> {
    Ok(axum::Json(topics::list(&app, &caller, query.after.as_deref(), query.limit).await?.into()))
}

/// Create a topic.
#[utoipa::path(post, path = "/topics", tag = "topics", request_body = TopicDraft,
    responses((status = 201, body = Topic), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<TopicDraft>,
) -> Result<(StatusCode, axum::Json<Topic>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(topics::create(&app, &caller, &draft).await?)))
}

/// Get one topic.
#[utoipa::path(get, path = "/topics/{id}", tag = "topics", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Topic), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<TopicId>,
) -> Result<axum::Json<Topic>, ApiError> {
    Ok(axum::Json(topics::get(&app, &caller, id).await?))
}

/// Change a topic's key, name or description.
#[utoipa::path(patch, path = "/topics/{id}", tag = "topics", params(("id" = uuid::Uuid, Path)), request_body = TopicDraft,
    responses((status = 200, body = Topic), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<TopicId>,
    Permitted(caller, draft): Permitted<TopicDraft>,
) -> Result<axum::Json<Topic>, ApiError> {
    Ok(axum::Json(topics::update(&app, &caller, id, &draft).await?))
}

/// Delete a topic.
#[utoipa::path(delete, path = "/topics/{id}", tag = "topics", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<TopicId>,
) -> Result<StatusCode, ApiError> {
    topics::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
