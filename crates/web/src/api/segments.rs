//! `/segments`

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tidings_app::App;
use tidings_app::audiences::{self, AudienceDraft, Preview};
use tidings_app::segments::{self, SegmentDraft};
use tidings_core::{SegmentId, Timestamp};
use utoipa::ToSchema;

use super::Page;
use super::groups::PageQuery;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

/// A saved segment: a named audience rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct Segment {
    id: SegmentId,
    name: String,
    description: String,
    rule: String,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<tidings_app::segments::Segment> for Segment {
    fn from(s: tidings_app::segments::Segment) -> Self {
        Self {
            id: s.id,
            name: s.name,
            description: s.description,
            rule: s.rule,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// List saved segments.
#[utoipa::path(get, path = "/segments", tag = "audiences", params(PageQuery),
    responses((status = 200, body = Page<Segment>), (status = 401, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<PageQuery>,
) -> Result<axum::Json<Page<Segment>>, ApiError> {
    let page = segments::list(&app, &caller, query.after.as_deref(), query.limit).await?;
    Ok(axum::Json(Page { items: page.items.into_iter().map(Segment::from).collect(), next: page.next }))
}

/// Save a segment; its rule is checked now (422 names the position of an error).
#[utoipa::path(post, path = "/segments", tag = "audiences", request_body = SegmentDraft,
    responses((status = 201, body = Segment), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<SegmentDraft>,
) -> Result<(StatusCode, axum::Json<Segment>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(segments::create(&app, &caller, &draft).await?.into())))
}

/// Get one segment.
#[utoipa::path(get, path = "/segments/{id}", tag = "audiences", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Segment), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<SegmentId>,
) -> Result<axum::Json<Segment>, ApiError> {
    Ok(axum::Json(segments::get(&app, &caller, id).await?.into()))
}

/// Change a segment's name, description or rule.
#[utoipa::path(patch, path = "/segments/{id}", tag = "audiences", params(("id" = uuid::Uuid, Path)), request_body = SegmentDraft,
    responses((status = 200, body = Segment), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<SegmentId>,
    Permitted(caller, draft): Permitted<SegmentDraft>,
) -> Result<axum::Json<Segment>, ApiError> {
    Ok(axum::Json(segments::update(&app, &caller, id, &draft).await?.into()))
}

/// Delete a segment.
#[utoipa::path(delete, path = "/segments/{id}", tag = "audiences", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<SegmentId>,
) -> Result<StatusCode, ApiError> {
    segments::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Preview a saved segment as an audience: size, breakdown and a sample.
#[utoipa::path(get, path = "/segments/{id}/preview", tag = "audiences", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Preview), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn preview(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<SegmentId>,
) -> Result<axum::Json<Preview>, ApiError> {
    segments::get(&app, &caller, id).await?;
    let draft = AudienceDraft { segments: vec![id], ..Default::default() };
    Ok(axum::Json(audiences::preview(&app, &caller, &draft).await?))
}
