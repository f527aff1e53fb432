//! `/system`: the running system as its operator sees it (admins).

use axum::extract::State;
use tidings_app::App;
use tidings_app::system::{self, SystemStatus};

use crate::error::{ApiError, Problem};
use crate::extract::Staff;

/// The nodes serving and working (alive, stale or stopped, with their providers' outages
/// and recent provider errors), the queue by channel with its oldest due delivery, the
/// jobs with their last and next runs, and the database's engine, size and schema.
#[utoipa::path(get, path = "/system", tag = "system",
    responses((status = 200, body = SystemStatus), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn status(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<SystemStatus>, ApiError> {
    Ok(axum::Json(system::status(&app, &caller).await?))
}
