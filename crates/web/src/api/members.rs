//! `/members`

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::members::MemberFilter;
use tidings_app::{App, AppError, members};
use tidings_core::{FieldErrors, Member, MemberDraft, MemberId, MemberStatus, PartnerId, Role};
use utoipa::IntoParams;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    partner_id: Option<PartnerId>,
    /// active, test or disabled.
    #[param(value_type = Option<MemberStatus>)]
    status: Option<String>,
    /// Members who have this role.
    #[param(value_type = Option<Role>)]
    role: Option<String>,
    /// Part of the email or name, or the exact external id.
    q: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

impl MemberQuery {
    fn filter(&self) -> Result<MemberFilter, AppError> {
        let mut errors = FieldErrors::new();
        let status = self.status.as_deref().and_then(|v| errors.check("status", v.parse::<MemberStatus>()));
        let role = self.role.as_deref().and_then(|v| errors.check("role", v.parse::<Role>()));
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(MemberFilter { partner_id: self.partner_id, status, role, q: self.q.clone() })
    }
}

/// List members, filtered, a page at a time.
#[utoipa::path(get, path = "/members", tag = "members", params(MemberQuery),
    responses((status = 200, body = Page<Member>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<MemberQuery>,
) -> Result<axum::Json<Page<Member>>, ApiError> {
    let filter = query.filter()?;
    let page = members::list(&app, &caller, &filter, query.after.as_deref(), query.limit).await?;
    Ok(axum::Json(page.into()))
}

/// Create a member of a partner.
#[utoipa::path(post, path = "/members", tag = "members", request_body = MemberDraft,
    responses((status = 201, body = Member), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<MemberDraft>,
) -> Result<(StatusCode, axum::Json<Member>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(members::create(&app, &caller, &draft).await?)))
}

/// Get one member.
#[utoipa::path(get, path = "/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Member), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MemberId>,
) -> Result<axum::Json<Member>, ApiError> {
    Ok(axum::Json(members::get(&app, &caller, id).await?))
}

/// Change a member: only the fields sent change; "" clears an optional field.
#[utoipa::path(patch, path = "/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)), request_body = MemberDraft,
    responses((status = 200, body = Member), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<MemberId>,
    Permitted(caller, draft): Permitted<MemberDraft>,
) -> Result<axum::Json<Member>, ApiError> {
    Ok(axum::Json(members::update(&app, &caller, id, &draft).await?))
}

/// Delete a member.
#[utoipa::path(delete, path = "/members/{id}", tag = "members", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<MemberId>,
) -> Result<StatusCode, ApiError> {
    members::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
