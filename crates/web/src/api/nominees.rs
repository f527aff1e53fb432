//! `/partners/{id}/roles`: who answers for each role at a partner. An escalation ladder
//! reminds the named colleague, not everyone in the role, for what the role owes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::nominees::{self, NomineeView, RoleAnswer};
use tidings_app::partner_channels::PartnerAdmin;
use tidings_core::{Action, MemberId, PartnerId, Role};
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Requires, Staff};

/// The colleague to name; they must work at the partner and hold the role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NomineeDraft {
    pub member_id: MemberId,
}

impl Requires for NomineeDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "name who answers for a role";
}

/// Each role someone at the partner holds: who answers for it, and who could.
#[utoipa::path(get, path = "/partners/{id}/roles", tag = "partners", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Vec<RoleAnswer>), (status = 404, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerId>,
) -> Result<axum::Json<Vec<RoleAnswer>>, ApiError> {
    Ok(axum::Json(nominees::of_partner(&app, PartnerAdmin::Staff(&caller), id).await?))
}

/// Name the colleague who answers for a role at the partner, in place of anyone named
/// before; reminders for that role go to them from the next ladder step on.
#[utoipa::path(put, path = "/partners/{id}/roles/{role}", tag = "partners",
    params(("id" = uuid::Uuid, Path), ("role" = Role, Path)), request_body = NomineeDraft,
    responses((status = 200, body = NomineeView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn nominate(
    State(app): State<App>,
    Path((id, role)): Path<(PartnerId, Role)>,
    Permitted(caller, draft): Permitted<NomineeDraft>,
) -> Result<axum::Json<NomineeView>, ApiError> {
    Ok(axum::Json(nominees::nominate(&app, PartnerAdmin::Staff(&caller), id, role, draft.member_id).await?))
}

/// Take back the nomination: everyone in the role is chased again.
#[utoipa::path(delete, path = "/partners/{id}/roles/{role}", tag = "partners",
    params(("id" = uuid::Uuid, Path), ("role" = Role, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn withdraw(
    State(app): State<App>,
    Staff(caller): Staff,
    Path((id, role)): Path<(PartnerId, Role)>,
) -> Result<StatusCode, ApiError> {
    nominees::withdraw(&app, PartnerAdmin::Staff(&caller), id, role).await?;
    Ok(StatusCode::NO_CONTENT)
}
