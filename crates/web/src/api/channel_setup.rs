//! `/channels`: what each channel is set up with, what it can reach, and the web push
//! key; `/settings/channel-defaults`: the channels each importance goes on by default.

use axum::extract::State;
use tidings_app::App;
use tidings_app::channel_defaults::{self, ChannelDefaults};
use tidings_app::channel_setup::{self, Overview};

use crate::error::{ApiError, Problem};
use crate::extract::{Permitted, Staff};

/// Each channel's provider (or none), a provider found unreachable, the browsers, partners'
/// channels and webhook endpoints it can reach, and the VAPID public key.
#[utoipa::path(get, path = "/channels", tag = "channels",
    responses((status = 200, body = Overview), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn overview(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Overview>, ApiError> {
    Ok(axum::Json(channel_setup::overview(&app, &caller).await?))
}

/// The channels a message of each importance goes on when its author names none (the
/// ones that can reach someone are written on the message when it is composed).
#[utoipa::path(get, path = "/settings/channel-defaults", tag = "channels",
    responses((status = 200, body = ChannelDefaults), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn defaults(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<ChannelDefaults>, ApiError> {
    Ok(axum::Json(channel_defaults::defaults(&app, &caller).await?))
}

/// Set each importance's default channels (admins).
#[utoipa::path(put, path = "/settings/channel-defaults", tag = "channels", request_body = ChannelDefaults,
    responses((status = 200, body = ChannelDefaults), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn set_defaults(
    State(app): State<App>,
    Permitted(caller, wanted): Permitted<ChannelDefaults>,
) -> Result<axum::Json<ChannelDefaults>, ApiError> {
    Ok(axum::Json(channel_defaults::set_defaults(&app, &caller, &wanted).await?))
}
