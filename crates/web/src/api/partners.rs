//! `/partners`

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tidings_app::partners::PartnerFilter;
use tidings_app::{App, AppError, partners};
use tidings_core::{Country, FieldErrors, LifecycleStage, Partner, PartnerDraft, PartnerId};
use utoipa::IntoParams;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Path, Permitted, Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartnerQuery {
    partner_type: Option<String>,
    tier: Option<String>,
    region: Option<String>,
    /// ISO 3166-1 alpha-2 code.
    country: Option<String>,
    #[param(value_type = Option<LifecycleStage>)]
    lifecycle_stage: Option<String>,
    /// A partner group key.
    group: Option<String>,
    /// Part of the name, or the exact external id.
    q: Option<String>,
    /// The `next` cursor of the previous page.
    after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

impl PartnerQuery {
    /// Checks every filter against the vocabularies, so a typo is an error, not an empty list.
    fn filter(&self, app: &App) -> Result<PartnerFilter, AppError> {
        let mut errors = FieldErrors::new();
        if let Some(v) = &self.partner_type {
            errors.check("partner_type", app.catalog.partner_type(v));
        }
        if let Some(v) = &self.tier {
            errors.check("tier", app.catalog.partner_tier(v));
        }
        if let Some(v) = &self.region {
            errors.check("region", app.catalog.region(v));
        }
        if let Some(v) = &self.country {
            errors.check("country", Country::parse(v));
        }
        if let Some(v) = &self.lifecycle_stage {
            errors.check("lifecycle_stage", v.parse::<LifecycleStage>());
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(PartnerFilter {
            partner_type: self.partner_type.clone(),
            tier: self.tier.clone(),
            region: self.region.clone(),
            country: self.country.clone(),
            lifecycle_stage: self.lifecycle_stage.clone(),
            group: self.group.clone(),
            q: self.q.clone(),
        })
    }
}

/// List partners, filtered, a page at a time.
#[utoipa::path(get, path = "/partners", tag = "partners", params(PartnerQuery),
    responses((status = 200, body = Page<Partner>), (status = 401, body = Problem), (status = 422, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<PartnerQuery>,
) -> Result<axum::Json<Page<Partner>>, ApiError> {
    let filter = query.filter(&app)?;
    let page = partners::list(&app, &caller, &filter, query.after.as_deref(), query.limit).await?;
    Ok(axum::Json(page.into()))
}

/// Create a partner.
#[utoipa::path(post, path = "/partners", tag = "partners", request_body = PartnerDraft,
    responses((status = 201, body = Partner), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(app): State<App>,
    Permitted(caller, draft): Permitted<PartnerDraft>,
) -> Result<(StatusCode, axum::Json<Partner>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(partners::create(&app, &caller, &draft).await?)))
}

/// Get one partner.
#[utoipa::path(get, path = "/partners/{id}", tag = "partners", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Partner), (status = 404, body = Problem)))]
pub async fn show(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerId>,
) -> Result<axum::Json<Partner>, ApiError> {
    Ok(axum::Json(partners::get(&app, &caller, id).await?))
}

/// Change a partner: only the fields sent change; "" clears an optional field.
#[utoipa::path(patch, path = "/partners/{id}", tag = "partners", params(("id" = uuid::Uuid, Path)), request_body = PartnerDraft,
    responses((status = 200, body = Partner), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(app): State<App>,
    Path(id): Path<PartnerId>,
    Permitted(caller, draft): Permitted<PartnerDraft>,
) -> Result<axum::Json<Partner>, ApiError> {
    Ok(axum::Json(partners::update(&app, &caller, id, &draft).await?))
}

/// Delete a partner that has no members.
#[utoipa::path(delete, path = "/partners/{id}", tag = "partners", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn delete(
    State(app): State<App>,
    Staff(caller): Staff,
    Path(id): Path<PartnerId>,
) -> Result<StatusCode, ApiError> {
    partners::delete(&app, &caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
