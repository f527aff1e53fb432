//! `/ladders`: escalation ladders; `/topics/{id}/ladder`: the one a topic's must-know
//! messages get; `/messages/{id}/chase`: a released message's ladder, what ran and what
//! comes next.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tidings_app::App;
use tidings_app::chase::{ChasePlan, StepOutcome};
use tidings_core::escalation::{Ladder, LadderDraft};
use tidings_core::{Action, MessageId, TopicId};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Requires, Staff};

impl Requires for LadderDraft {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "change escalation ladders";
}

/// Every escalation ladder, by key.
#[utoipa::path(get, path = "/ladders", tag = "chase",
    responses((status = 200, body = Vec<Ladder>), (status = 401, body = Problem)))]
pub async fn list(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Vec<Ladder>>, ApiError> {
    Ok(axum::Json(tidings_app::ladders::list(&app, &caller).await?))
}

/// One ladder.
#[utoipa::path(get, path = "/ladders/{key}", tag = "chase", params(("key" = tidings_core::Slug, Path)),
    responses((status = 200, body = Ladder), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<axum::Json<Ladder>, ApiError> {
    Ok(axum::Json(tidings_app::ladders::get(&app, &caller, &key).await?))
}

/// Create or replace the ladder `key` (admins). A message already released keeps the
/// ladder it was released with.
#[utoipa::path(put, path = "/ladders/{key}", tag = "chase", params(("key" = tidings_core::Slug, Path)), request_body = LadderDraft,
    responses((status = 200, body = Ladder, description = "replaced"), (status = 201, body = Ladder, description = "created"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put(
    State(app): State<App>,
    Path(key): Path<String>,
    Permitted(caller, draft): Permitted<LadderDraft>,
) -> Result<(StatusCode, axum::Json<Ladder>), ApiError> {
    if draft.key.as_deref().is_some_and(|k| k.trim() != key.trim()) {
        return Err(tidings_app::AppError::invalid("key", "differs from the key in the path").into());
    }
    let draft = LadderDraft { key: Some(key), ..draft };
    let (ladder, created) = tidings_app::ladders::put(&app, &caller, &draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ladder)))
}

/// Delete a ladder; topics that used it have none after, released messages keep theirs.
#[utoipa::path(delete, path = "/ladders/{key}", tag = "chase", params(("key" = tidings_core::Slug, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    tidings_app::ladders::delete(&app, &caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ladder a topic's must-know messages are chased with.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicLadder {
    /// The ladder's key; null or "" for none.
    pub ladder: Option<String>,
}

impl Requires for TopicLadder {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change topics";
}

/// The ladder the topic's must-know messages get when they name none.
#[utoipa::path(get, path = "/topics/{id}/ladder", tag = "chase", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TopicLadder), (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn topic_ladder(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<TopicId>,
) -> Result<axum::Json<TopicLadder>, ApiError> {
    tidings_app::topics::get(&app, &caller, id).await?;
    let ladder = tidings_app::ladders::of_topic(&app, id).await?;
    Ok(axum::Json(TopicLadder { ladder: ladder.map(|k| k.to_string()) }))
}

/// Give the topic's must-know messages a ladder, or none.
#[utoipa::path(put, path = "/topics/{id}/ladder", tag = "chase", params(("id" = uuid::Uuid, Path)),
    request_body = TopicLadder,
    responses((status = 200, body = TopicLadder), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn set_topic_ladder(
    State(app): State<App>,
    Path(id): Path<TopicId>,
    Permitted(caller, body): Permitted<TopicLadder>,
) -> Result<axum::Json<TopicLadder>, ApiError> {
    tidings_app::ladders::set_for_topic(&app, &caller, id, body.ladder.as_deref()).await?;
    let ladder = tidings_app::ladders::of_topic(&app, id).await?;
    Ok(axum::Json(TopicLadder { ladder: ladder.map(|k| k.to_string()) }))
}

/// The message's chase: its ladder as released, each step's time and what it queued, and
/// a dry run of the next step (what it would queue as things stand). 404 when the
/// message has no ladder running.
#[utoipa::path(get, path = "/messages/{id}/chase", tag = "chase", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ChasePlan), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
pub async fn plan(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<ChasePlan>, ApiError> {
    let plan = tidings_app::chase::plan(&app, &caller, id, true).await?;
    Ok(axum::Json(plan.ok_or(tidings_app::AppError::NotFound("this message has no escalation ladder running"))?))
}

/// Run the message's next ladder step now, before its time (the steps after it keep their
/// times); in the audit log. 409 when no step is left.
#[utoipa::path(post, path = "/messages/{id}/chase/next", tag = "chase", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = StepOutcome), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn run_next(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<StepOutcome>, ApiError> {
    let ran = tidings_app::chase::run_now(&app, &caller, id).await?;
    Ok(axum::Json(
        ran.ok_or_else(|| tidings_app::AppError::Conflict("no ladder step is left to run for this message".into()))?,
    ))
}
