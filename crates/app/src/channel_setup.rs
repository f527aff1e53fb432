//! What each channel is set up with, for the admin who runs Tidings: who sends on it, a
//! provider found unreachable (and since when), what it can reach (browsers subscribed,
//! partners' channels bound, webhook endpoints), and the web push public key, which a
//! push service may ask for when it questions a sender.

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::{Action, Timestamp};
pub use tidings_store::channel_setup::Reachable;

use crate::{App, AppError, Caller};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelSetup {
    pub channel: Channel,
    /// Who sends on it; `None`: nothing is set up, and compose refuses the channel.
    pub provider: Option<String>,
    /// The provider was found unreachable by this process, since then, and why; sends
    /// wait and are retried.
    pub outage_since: Option<Timestamp>,
    pub outage_reason: Option<String>,
    /// How it is set up or turned on, in a sentence.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Overview {
    pub channels: Vec<ChannelSetup>,
    /// The VAPID public key browsers subscribe with (base64url, uncompressed P-256).
    pub web_push_public_key: Option<String>,
    pub reachable: Reachable,
}

pub async fn overview(app: &App, caller: &Caller) -> Result<Overview, AppError> {
    caller.require(Action::ReadDirectory, "read the channels' setup")?;
    let reachable = tidings_store::channel_setup::reachable(&mut app.db.read().await?).await?;
    let outages = app.channels.outages();
    let channels = Channel::ALL
        .into_iter()
        .filter(|c| *c != Channel::Popup)
        .map(|channel| {
            let provider = match channel {
                Channel::Inbox => Some("the portal"),
                other => app.channels.provider_name(other),
            };
            let outage = outages.iter().find(|(c, _)| *c == channel).map(|(_, o)| o);
            ChannelSetup {
                channel,
                provider: provider.map(str::to_owned),
                outage_since: outage.map(|o| Timestamp::from_millis(o.since_ms)),
                outage_reason: outage.map(|o| o.reason.clone()),
                note: note(channel).to_owned(),
            }
        })
        .collect();
    Ok(Overview { channels, web_push_public_key: crate::push::public_key(app), reachable })
}

fn note(channel: Channel) -> &'static str {
    match channel {
        Channel::Inbox => {
            "Always on: every member reached has the message in the portal's inbox (and must-know ones pop up)."
        }
        Channel::Popup => "",
        Channel::Email => "[smtp] in the configuration; members must opt in.",
        Channel::Sms => {
            "[sms] base_url, account_sid, auth_token and from; members need a mobile number and must opt in."
        }
        Channel::Slack => {
            "[slack] bot_token for direct messages (members found by email address); partners' leads or staff bind channels."
        }
        Channel::Teams => {
            "Partners' leads (portal) or staff (console, API, CLI) bind a Teams workflow URL per partner."
        }
        Channel::WebPush => {
            "Always set up: the key is made at first start and kept in the database; members turn it on per browser."
        }
        Channel::Webhook => "Endpoints and their event types under Webhooks; every request is signed.",
    }
}
