//! `/audiences`: preview and explain an audience before anything is sent.

use axum::extract::State;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::audiences::{self, AudienceDraft, MemberExplanation, Preview};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::{Json, Staff};

/// Size, breakdown by partner type, tier, region and role, and a sample of the audience.
#[utoipa::path(post, path = "/audiences/preview", tag = "audiences", request_body = AudienceDraft,
    responses((status = 200, body = Preview), (status = 422, body = Problem)))]
pub async fn preview(
    State(app): State<App>,
    Staff(caller): Staff,
    Json(draft): Json<AudienceDraft>,
) -> Result<axum::Json<Preview>, ApiError> {
    Ok(axum::Json(audiences::preview(&app, &caller, &draft).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    audience: AudienceDraft,
    /// The member's id or email.
    member: String,
    /// A topic key: the answer then says which channels a message on it may use, and why.
    topic: Option<String>,
}

/// Why one member is in or out of the audience, part by part and condition by condition.
#[utoipa::path(post, path = "/audiences/explain", tag = "audiences", request_body = ExplainRequest,
    responses((status = 200, body = MemberExplanation), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn explain(
    State(app): State<App>,
    Staff(caller): Staff,
    Json(request): Json<ExplainRequest>,
) -> Result<axum::Json<MemberExplanation>, ApiError> {
    Ok(axum::Json(
        audiences::explain(&app, &caller, &request.audience, &request.member, request.topic.as_deref()).await?,
    ))
}
