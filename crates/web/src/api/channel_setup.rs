//! `/channels`: what each channel is set up with, what it can reach, and the web push key.

use axum::extract::State;
use tidings_app::App;
use tidings_app::channel_setup::{self, Overview};

use crate::error::{ApiError, Problem};
use crate::extract::Staff;

/// Each channel's provider (or none), a provider found unreachable, the browsers, partners'
/// channels and webhook endpoints it can reach, and the VAPID public key.
#[utoipa::path(get, path = "/channels", tag = "channels",
    responses((status = 200, body = Overview), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn overview(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Overview>, ApiError> {
    Ok(axum::Json(channel_setup::overview(&app, &caller).await?))
}
