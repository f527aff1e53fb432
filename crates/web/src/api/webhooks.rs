//! `/webhooks`: endpoints of the vendor's or a partner's systems, signed per the Standard
//! Webhooks specification, with their delivery logs and a test event.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use tidings_app::App;
use tidings_app::webhooks::{self, Created, EndpointDraft};
use tidings_app::webhooks::{Endpoint, WebhookDelivery};
use tidings_core::{Action, WebhookId};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Requires, Staff};

impl Requires for EndpointDraft {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "manage webhooks";
}

/// Every endpoint, newest first (admins).
#[utoipa::path(get, path = "/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<Endpoint>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Vec<Endpoint>>, ApiError> {
    Ok(axum::Json(webhooks::list(&app, &caller).await?))
}

/// Add an endpoint: its https URL, the events it takes, and the partner whose events it
/// gets (none: the vendor's own, every event). The answer carries its signing secret,
/// shown this once.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = EndpointDraft,
    responses((status = 201, body = Created), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<EndpointDraft>,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(webhooks::create(&app, &caller, &draft).await?)))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Endpoint), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<WebhookId>,
) -> Result<axum::Json<Endpoint>, ApiError> {
    Ok(axum::Json(webhooks::get(&app, &caller, id).await?))
}

/// Change an endpoint's URL, description or events, or enable or disable it (enabling it
/// clears its failure record, and requests that waited for it are sent).
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)), request_body = EndpointDraft,
    responses((status = 200, body = Endpoint), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<WebhookId>,
    Permitted(caller, draft): Permitted<EndpointDraft>,
) -> Result<axum::Json<Endpoint>, ApiError> {
    Ok(axum::Json(webhooks::update(&app, &caller, id, &draft).await?))
}

/// Delete an endpoint with its delivery log.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<WebhookId>,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's latest 100 requests, newest first: event, status, attempts, the
/// endpoint's last answer and when the next attempt is.
#[utoipa::path(get, path = "/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<WebhookDelivery>), (status = 404, body = Problem)))]
pub async fn deliveries(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<WebhookId>,
) -> Result<axum::Json<Vec<WebhookDelivery>>, ApiError> {
    Ok(axum::Json(webhooks::log(&app, &caller, id).await?))
}

/// A test event queued for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestEvent {
    /// The `webhook-id` it is sent with; it shows in the endpoint's log.
    pub id: String,
}

/// Send a `webhook.test` event to the endpoint (through the outbox, within a second or so).
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 202, body = TestEvent), (status = 404, body = Problem)))]
pub async fn test(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<WebhookId>,
) -> Result<(StatusCode, axum::Json<TestEvent>), ApiError> {
    let id = webhooks::test(&app, &caller, id).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(TestEvent { id })))
}

/// Give the endpoint a new signing secret, shown this once.
#[utoipa::path(post, path = "/webhooks/{id}/secret", tag = "webhooks", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Created), (status = 404, body = Problem)))]
pub async fn rotate_secret(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<WebhookId>,
) -> Result<axum::Json<Created>, ApiError> {
    Ok(axum::Json(webhooks::rotate_secret(&app, &caller, id).await?))
}
