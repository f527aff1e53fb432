//! `/audit`

use axum::extract::State;
use serde::Deserialize;
use tidings_app::App;
use tidings_app::audit::{AuditEntry, AuditFilter};
use utoipa::IntoParams;

use super::Page;
use crate::error::{ApiError, Problem};
use crate::extract::{Query, Staff};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only entries about this record (a partner, member, message, ...).
    pub subject_id: Option<uuid::Uuid>,
    /// An action (`message.release`) or a kind of record (`message`).
    pub action: Option<String>,
    /// Only entries by the staff person or token of this name.
    pub actor: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// The audit log of staff actions, newest first: who did what to which record, when, and
/// the record before and after (admins only).
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn list(
    State(app): State<App>,
    Staff(caller): Staff,
    Query(query): Query<AuditQuery>,
) -> Result<axum::Json<Page<AuditEntry>>, ApiError> {
    let filter = AuditFilter { subject_id: query.subject_id, action: query.action, actor_name: query.actor };
    let page = tidings_app::audit::list(&app, &caller, &filter, query.after.as_deref(), query.limit).await?;
    Ok(axum::Json(page.into()))
}
