//! `/partners/{id}/channels`: a partner's shared Teams and Slack channels, bound by their
//! webhook URLs, and a test post to each.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::partner_channels::{self, BindingView, PartnerAdmin, TestPost};
use tidings_app::{App, AppError};
use tidings_core::consent::Channel;
use tidings_core::{Action, PartnerId};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::Requires;
use crate::extract::{Path, Permitted, Staff};

/// A service a partner's shared channel is on.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Teams,
    Slack,
}

/// The service named in the path; another names no resource.
fn service(name: &str) -> Result<Channel, AppError> {
    partner_channels::service_named(name).ok_or(AppError::NotFound("service (one of teams, slack)"))
}

/// A channel's webhook: a Teams Workflows "When a Teams webhook request is received" URL,
/// or a Slack incoming webhook URL (`https://hooks.slack.com/services/...`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindingDraft {
    #[schema(example = "https://hooks.slack.com/services/T000/B000/XXXX")]
    pub url: String,
    /// What the channel is, for people: "#acme-vendor-news".
    #[serde(default)]
    pub label: Option<String>,
}

impl Requires for BindingDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "bind a partner's channel";
}

/// A partner's bound channels.
#[utoipa::path(get, path = "/partners/{id}/channels", tag = "partners", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<BindingView>), (status = 404, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerId>,
) -> Result<axum::Json<Vec<BindingView>>, ApiError> {
    Ok(axum::Json(partner_channels::of_partner(&app, PartnerAdmin::Staff(&caller), id).await?))
}

/// Bind a partner's Teams or Slack channel to its webhook URL, replacing one bound before.
/// The URL is checked (https, not an internal address) and shown masked from then on.
#[utoipa::path(put, path = "/partners/{id}/channels/{channel}", tag = "partners",
    params(("id" = uuid::Uuid, Path), ("channel" = Service, Path)), request_body = BindingDraft,
    responses((status = 200, body = BindingView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn bind(
    State(app): State<App>,
    Path((id, channel)): Path<(PartnerId, String)>,
    Permitted(caller, draft): Permitted<BindingDraft>,
) -> Result<axum::Json<BindingView>, ApiError> {
    let channel = service(&channel)?;
    let label = draft.label.unwrap_or_default();
    Ok(axum::Json(partner_channels::bind(&app, PartnerAdmin::Staff(&caller), id, channel, &draft.url, &label).await?))
}

/// Remove a partner's bound channel; posts still queued for it fail with the reason.
#[utoipa::path(delete, path = "/partners/{id}/channels/{channel}", tag = "partners",
    params(("id" = uuid::Uuid, Path), ("channel" = Service, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn unbind(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, channel)): Path<(PartnerId, String)>,
) -> Result<StatusCode, ApiError> {
    partner_channels::unbind(&app, PartnerAdmin::Staff(&caller), id, service(&channel)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Post a short test message to a partner's bound channel now; says whether it was posted
/// and, if not, what the service answered.
#[utoipa::path(post, path = "/partners/{id}/channels/{channel}/test", tag = "partners",
    params(("id" = uuid::Uuid, Path), ("channel" = Service, Path)),
    responses((status = 200, body = TestPost), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn test(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, channel)): Path<(PartnerId, String)>,
) -> Result<axum::Json<TestPost>, ApiError> {
    Ok(axum::Json(partner_channels::test(&app, PartnerAdmin::Staff(&caller), id, service(&channel)?).await?))
}
