//! `/events`: events from the vendor's CRM or PRM, one at a time or in batches;
//! `/event-types`: the built-in types and custom ones with their schemas; `/triggers`:
//! what answers an event with a message; `/sequences`: steps an event enrols people in.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use tidings_app::App;
use tidings_app::automation::event_types::{self, EventTypeDraft, EventTypeInfo};
use tidings_app::automation::events::{self, EventDetail, EventQuery};
use tidings_app::automation::intake::{self, BatchItem, Received};
use tidings_app::automation::sequences::{self, SequenceSummary};
use tidings_app::automation::silence::{self, Finding, Task};
use tidings_app::automation::triggers::{self, TriggerSummary};
use tidings_core::automation::sequence::{Sequence, SequenceDraft};
use tidings_core::automation::silence::SilencePolicy;

use tidings_core::automation::{EventInput, PartnerEvent, Trigger, TriggerDraft};
use tidings_core::{Action, PartnerEventId};
use utoipa::ToSchema;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Requires, Staff};

impl Requires for EventInput {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "post events";
}

/// Many events in one request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 1,000 events, taken in in one transaction; an invalid one is reported and the
    /// others are taken in.
    pub events: Vec<EventInput>,
}

impl Requires for EventBatch {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "post events";
}

/// What happened to each event of a batch, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchOutcome {
    pub created: usize,
    pub repeats: usize,
    pub invalid: usize,
    pub items: Vec<BatchItem>,
}

/// Take in an event (admin tokens): 201 when new, 200 with the stored event when the same
/// idempotency key and body came before, 409 when the key was used for another body.
/// Its triggers run within seconds.
#[utoipa::path(post, path = "/events", tag = "automation", request_body = EventInput,
    responses((status = 201, body = Received, description = "taken in"),
        (status = 200, body = Received, description = "a repeat: nothing applied again"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn post(
    State(app): State<App>,
    Permitted(caller, input): Permitted<EventInput>,
) -> Result<(StatusCode, axum::Json<Received>), ApiError> {
    let received = intake::post(&app, &caller, &input).await?;
    let status = if received.repeat { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, axum::Json(received)))
}

/// Take in up to 1,000 events at once; each is reported as `created`, `repeat` or
/// `invalid` (with its errors).
#[utoipa::path(post, path = "/events/batch", tag = "automation", request_body = EventBatch,
    responses((status = 200, body = BatchOutcome), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn post_batch(
    State(app): State<App>,
    Permitted(caller, batch): Permitted<EventBatch>,
) -> Result<axum::Json<BatchOutcome>, ApiError> {
    let items = intake::post_batch(&app, &caller, &batch.events).await?;
    let count = |s: &str| items.iter().filter(|i| i.status == s).count();
    Ok(axum::Json(BatchOutcome {
        created: count("created"),
        repeats: count("repeat"),
        invalid: count("invalid"),
        items,
    }))
}

/// Events taken in, newest first, by partner, member or type.
#[utoipa::path(get, path = "/events", tag = "automation", params(EventQuery),
    responses((status = 200, body = Page<PartnerEvent>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(q): Query<EventQuery>,
) -> Result<axum::Json<Page<PartnerEvent>>, ApiError> {
    Ok(axum::Json(events::list(&app, &caller, &q).await?.into()))
}

/// One event and what each trigger did with it.
#[utoipa::path(get, path = "/events/{id}", tag = "automation", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = EventDetail), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerEventId>,
) -> Result<axum::Json<EventDetail>, ApiError> {
    Ok(axum::Json(events::get(&app, &caller, id).await?))
}

/// The event types: built in, and declared with their schemas.
#[utoipa::path(get, path = "/event-types", tag = "automation",
    responses((status = 200, body = Vec<EventTypeInfo>), (status = 401, body = Problem)))]
pub async fn types(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Vec<EventTypeInfo>>, ApiError> {
    Ok(axum::Json(event_types::list(&app, &caller).await?))
}

impl Requires for EventTypeDraft {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "declare event types";
}

/// Declare a custom event type and the fields its data holds (admins); 409 for a
/// built-in type's name.
#[utoipa::path(put, path = "/event-types/{name}", tag = "automation", params(("name" = String, Path)),
    request_body = EventTypeDraft,
    responses((status = 200, body = EventTypeInfo), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn put_type(
    State(app): State<App>,
    Path(name): Path<String>,
    Permitted(caller, draft): Permitted<EventTypeDraft>,
) -> Result<axum::Json<EventTypeInfo>, ApiError> {
    Ok(axum::Json(event_types::put(&app, &caller, &name, &draft).await?))
}

/// Remove a custom event type; events taken in keep their data. 409 for a built-in type.
#[utoipa::path(delete, path = "/event-types/{name}", tag = "automation", params(("name" = String, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete_type(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    event_types::delete(&app, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every trigger, with how often it sent and let events pass.
#[utoipa::path(get, path = "/triggers", tag = "automation",
    responses((status = 200, body = Vec<TriggerSummary>), (status = 401, body = Problem)))]
pub async fn triggers(
    State(app): State<App>,
    Staff(caller): Staff,
) -> Result<axum::Json<Vec<TriggerSummary>>, ApiError> {
    Ok(axum::Json(triggers::list(&app, &caller).await?))
}

/// One trigger.
#[utoipa::path(get, path = "/triggers/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    responses((status = 200, body = TriggerSummary), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn trigger(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<axum::Json<TriggerSummary>, ApiError> {
    Ok(axum::Json(triggers::get(&app, &caller, &key).await?))
}

impl Requires for TriggerDraft {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "change triggers";
}

/// Create or replace the trigger `key` (authors; approvers too where the approval policy
/// holds its messages). Its message may read the event as `{{ event.<field> }}`.
#[utoipa::path(put, path = "/triggers/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    request_body = TriggerDraft,
    responses((status = 200, body = Trigger, description = "replaced"), (status = 201, body = Trigger, description = "created"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_trigger(
    State(app): State<App>,
    Path(key): Path<String>,
    Permitted(caller, draft): Permitted<TriggerDraft>,
) -> Result<(StatusCode, axum::Json<Trigger>), ApiError> {
    if draft.key.as_deref().is_some_and(|k| k.trim() != key.trim()) {
        return Err(tidings_app::AppError::invalid("key", "differs from the key in the path").into());
    }
    let draft = TriggerDraft { key: Some(key), ..draft };
    let (trigger, created) = triggers::put(&app, &caller, &draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(trigger)))
}

/// Delete a trigger; the messages it sent stay.
#[utoipa::path(delete, path = "/triggers/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_trigger(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    triggers::delete(&app, &caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every sequence, with where its runs stand (entered, waiting at each step, reached each
/// step, converted, finished, exited).
#[utoipa::path(get, path = "/sequences", tag = "automation",
    responses((status = 200, body = Vec<SequenceSummary>), (status = 401, body = Problem)))]
pub async fn sequences(
    State(app): State<App>,
    Staff(caller): Staff,
) -> Result<axum::Json<Vec<SequenceSummary>>, ApiError> {
    Ok(axum::Json(sequences::list(&app, &caller).await?))
}

/// One sequence and its funnel.
#[utoipa::path(get, path = "/sequences/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    responses((status = 200, body = SequenceSummary), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn sequence(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<axum::Json<SequenceSummary>, ApiError> {
    Ok(axum::Json(sequences::get(&app, &caller, &key).await?))
}

impl Requires for SequenceDraft {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "change sequences";
}

/// Create or replace the sequence `key` (authors): its entry event, goal event and steps.
/// Runs under way go on with the steps as saved.
#[utoipa::path(put, path = "/sequences/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    request_body = SequenceDraft,
    responses((status = 200, body = Sequence, description = "replaced"), (status = 201, body = Sequence, description = "created"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_sequence(
    State(app): State<App>,
    Path(key): Path<String>,
    Permitted(caller, draft): Permitted<SequenceDraft>,
) -> Result<(StatusCode, axum::Json<Sequence>), ApiError> {
    if draft.key.as_deref().is_some_and(|k| k.trim() != key.trim()) {
        return Err(tidings_app::AppError::invalid("key", "differs from the key in the path").into());
    }
    let draft = SequenceDraft { key: Some(key), ..draft };
    let (sequence, created) = sequences::put(&app, &caller, &draft).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(sequence)))
}

/// Delete a sequence; its runs under way end as exited.
#[utoipa::path(delete, path = "/sequences/{key}", tag = "automation", params(("key" = tidings_core::Slug, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn delete_sequence(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    sequences::delete(&app, &caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// `open` (the default), `done` or `all`.
    pub state: Option<TaskState>,
    /// Only the caller's own (a signed-in partner manager's).
    #[serde(default)]
    pub mine: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Open,
    Done,
    All,
}

/// Tasks Tidings found for the vendor's staff: partners gone quiet, each with what was
/// found ("two open deals with no update for 45 days or more: D-1, D-2").
#[utoipa::path(get, path = "/tasks", tag = "automation", params(TaskQuery),
    responses((status = 200, body = Vec<Task>), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub async fn tasks(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(q): Query<TaskQuery>,
) -> Result<axum::Json<Vec<Task>>, ApiError> {
    let state = match q.state {
        None | Some(TaskState::Open) => "open",
        Some(TaskState::Done) => "done",
        Some(TaskState::All) => "all",
    };
    Ok(axum::Json(silence::tasks(&app, &caller, Some(state), q.mine).await?))
}

/// Mark an open task done (authors and admins).
#[utoipa::path(post, path = "/tasks/{id}/done", tag = "automation", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn task_done(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    silence::done(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// When a partner counts as silent (thresholds in days, per tier) and what is done about it.
#[utoipa::path(get, path = "/settings/silent-partners", tag = "automation",
    responses((status = 200, body = SilencePolicy), (status = 401, body = Problem)))]
pub async fn silence_policy(
    State(app): State<App>,
    Staff(caller): Staff,
) -> Result<axum::Json<SilencePolicy>, ApiError> {
    Ok(axum::Json(silence::policy(&app, &caller).await?))
}

impl Requires for SilencePolicy {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "change the silent-partner policy";
}

/// Change the silent-partner policy (admins).
#[utoipa::path(put, path = "/settings/silent-partners", tag = "automation", request_body = SilencePolicy,
    responses((status = 200, body = SilencePolicy), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set_silence_policy(
    State(app): State<App>,
    Permitted(caller, policy): Permitted<SilencePolicy>,
) -> Result<axum::Json<SilencePolicy>, ApiError> {
    Ok(axum::Json(silence::set_policy(&app, &caller, &policy).await?))
}

/// Look for silent partners now, as the daily job does (admins): each one found, what was
/// found, and whether a task was opened or brought up to date.
#[utoipa::path(post, path = "/silent-partners/find", tag = "automation",
    responses((status = 200, body = Vec<Finding>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn find_silent(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Vec<Finding>>, ApiError> {
    Ok(axum::Json(silence::find_now(&app, &caller).await?))
}
