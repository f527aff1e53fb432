//! Noise control: `/settings/noise` (the vendor's frequency caps and digest per role) and
//! `/partners/{id}/defaults` (what a partner's admin sets for its people). A member's own
//! digest choice is part of their preferences.

use axum::extract::State;
use tidings_app::App;
use tidings_app::noise::{self, PartnerDefaultsInput, PartnerDefaultsView};
use tidings_app::partner_channels::PartnerAdmin;
use tidings_core::noise::NoisePolicy;
use tidings_core::{Action, PartnerId};

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Requires, Staff};

impl Requires for NoisePolicy {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "change the noise policy";
}

impl Requires for PartnerDefaultsInput {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change a partner's defaults";
}

/// The vendor's noise policy: at most so many nice-to-know and need-to-know messages per
/// member in a window on channels outside the portal (must-know is never capped), and
/// whether nice-to-know messages wait for a daily or weekly digest, per role.
#[utoipa::path(get, path = "/settings/noise", tag = "automation",
    responses((status = 200, body = NoisePolicy), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn policy(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<NoisePolicy>, ApiError> {
    Ok(axum::Json(noise::policy(&app, &caller).await?))
}

/// Replace the noise policy (admins).
#[utoipa::path(put, path = "/settings/noise", tag = "automation", request_body = NoisePolicy,
    responses((status = 200, body = NoisePolicy), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_policy(
    State(app): State<App>,
    Permitted(caller, wanted): Permitted<NoisePolicy>,
) -> Result<axum::Json<NoisePolicy>, ApiError> {
    Ok(axum::Json(noise::set_policy(&app, &caller, &wanted).await?))
}

/// A partner's defaults for its people (topics on or off, the digest), between the
/// vendor's policy and each member's own choice.
#[utoipa::path(get, path = "/partners/{id}/defaults", tag = "partners", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = PartnerDefaultsView), (status = 403, body = Problem), (status = 404, body = Problem)))]
pub async fn partner_defaults(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerId>,
) -> Result<axum::Json<PartnerDefaultsView>, ApiError> {
    Ok(axum::Json(noise::partner_defaults(&app, PartnerAdmin::Staff(&caller), id).await?))
}

/// Replace a partner's defaults: topics not listed follow the vendor's policy; a topic
/// required for everyone cannot be turned off.
#[utoipa::path(put, path = "/partners/{id}/defaults", tag = "partners", params(("id" = uuid::Uuid, Path)),
    request_body = PartnerDefaultsInput,
    responses((status = 200, body = PartnerDefaultsView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
pub async fn set_partner_defaults(
    State(app): State<App>,
    Path(id): Path<PartnerId>,
    Permitted(caller, input): Permitted<PartnerDefaultsInput>,
) -> Result<axum::Json<PartnerDefaultsView>, ApiError> {
    Ok(axum::Json(noise::set_partner_defaults(&app, PartnerAdmin::Staff(&caller), id, &input).await?))
}
