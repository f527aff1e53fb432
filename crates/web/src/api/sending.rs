//! `/messages/{id}/release`, `/test-send`, `/events`, `/report`; `/members/{id}/token`;
//! `/bounces`.

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::events::Event;
use tidings_app::events::{self, EventQuery};
use tidings_app::inbox::{self, MemberToken};
use tidings_app::release::{self, ReleaseReport};
use tidings_app::reports::{self, Report};
use tidings_app::test_email::{self, TestEmailRequest, TestEmailSent};
use tidings_app::tracking::{self, BounceReport};
use tidings_core::{MemberId, MessageId};
use utoipa::ToSchema;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

/// Release a draft or scheduled message now: its audience is fanned out into inboxes and
/// email deliveries; workers send them. The message is then frozen.
#[utoipa::path(post, path = "/messages/{id}/release", tag = "sending", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ReleaseReport), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn release(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<ReleaseReport>, ApiError> {
    Ok(axum::Json(release::release(&app, &caller, id).await?))
}

/// Send a copy of the message to the test members of its audience (the message stays as
/// it is). Refused with 409 and the ways on when no test member matches the audience.
#[utoipa::path(post, path = "/messages/{id}/test-send", tag = "sending", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = ReleaseReport), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn test_send(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<ReleaseReport>, ApiError> {
    Ok(axum::Json(release::test_send(&app, &caller, id).await?))
}

/// Send the message's email at once to a staff person (`to`), as a member of its audience
/// would get it, with nothing tracked: to see it in a real mail reader before anyone gets it.
#[utoipa::path(post, path = "/messages/{id}/test-email", tag = "sending", params(("id" = uuid::Uuid, Path)),
    request_body = TestEmailRequest,
    responses((status = 200, body = TestEmailSent), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn test_email(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Permitted(caller, request): Permitted<TestEmailRequest>,
) -> Result<axum::Json<TestEmailSent>, ApiError> {
    Ok(axum::Json(test_email::send(&app, &caller, id, &request).await?))
}

/// A message's events, oldest first: queued (read from the delivery rows), sent, bounced,
/// failed, suppressed, opened, clicked, viewed, read, acknowledged, unsubscribed.
#[utoipa::path(get, path = "/messages/{id}/events", tag = "sending", params(("id" = uuid::Uuid, Path), EventQuery),
    responses((status = 200, body = Page<Event>), (status = 404, body = Problem)))]
pub async fn events(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
    Query(q): Query<EventQuery>,
) -> Result<axum::Json<Page<Event>>, ApiError> {
    Ok(axum::Json(events::list(&app, &caller, id, &q).await?.into()))
}

/// The message report: the people's funnel (audience, sent, delivered, opened, clicked,
/// read, acknowledged), machine opens and scanner clicks apart, deliveries by channel and
/// status, breakdowns by partner, type, tier, region and role, and the steps over time;
/// the console's report page, as JSON.
#[utoipa::path(get, path = "/messages/{id}/report", tag = "sending", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Report), (status = 404, body = Problem)))]
pub async fn report(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MessageId>,
) -> Result<axum::Json<Report>, ApiError> {
    Ok(axum::Json(reports::report(&app, &caller, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// How long the token lives: 1 (the default) to 30 days.
    #[schema(minimum = 1, maximum = 30)]
    days: Option<i64>,
}

/// Issue a member token for the inbox API (admin): the vendor's portal passes it to the
/// member's browser or calls the inbox API on the member's behalf.
#[utoipa::path(post, path = "/members/{id}/token", tag = "inbox", params(("id" = uuid::Uuid, Path)), request_body = TokenRequest,
    responses((status = 200, body = MemberToken), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn member_token(
    State(app): State<App>,
    Path(id): Path<MemberId>,
    Permitted(caller, body): Permitted<TokenRequest>,
) -> Result<axum::Json<MemberToken>, ApiError> {
    Ok(axum::Json(inbox::issue_token(&app, &caller, id, body.days).await?))
}

/// Report a bounce: the body is the delivery status notification (RFC 3464) as received,
/// `message/rfc822`. Permanent failures (5.x.x) mark the delivery bounced and put the
/// address on the suppression list.
#[utoipa::path(post, path = "/bounces", tag = "sending", request_body(content = String, content_type = "message/rfc822"),
    responses((status = 200, body = BounceReport), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn bounce(
    State(app): State<App>,
    Staff(caller): Staff,
    body: Bytes,
) -> Result<axum::Json<BounceReport>, ApiError> {
    Ok(axum::Json(tracking::bounce(&app, &caller, &body).await?))
}
