//! The channels a message of each importance goes on when its author does not choose:
//! set by admins (the console's Settings page, `/api/v1/settings/channel-defaults`), and
//! resolved when the message is composed to those this server can send on now, so the
//! author sees where it will go before it goes.

use serde::{Deserialize, Serialize};
use tidings_core::consent::Channel;
use tidings_core::messages::Importance;
use tidings_core::{Action, FieldErrors};
use tidings_store::{Tx, settings};

use crate::{App, AppError, Caller, audit};

const SETTING: &str = "channel_defaults";

/// Per importance, the channels used when the author names none (the inbox always).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelDefaults {
    /// Nice to know.
    pub info: Vec<Channel>,
    /// Need to know.
    pub action: Vec<Channel>,
    /// Must know.
    pub critical: Vec<Channel>,
}

impl Default for ChannelDefaults {
    /// Nice to know in the inbox; need to know also by email; must know everywhere a
    /// person may be: the pop-up, email, SMS, Slack, the partner's Teams channel and the
    /// browser.
    fn default() -> Self {
        Self {
            info: vec![Channel::Inbox],
            action: vec![Channel::Inbox, Channel::Email],
            critical: vec![
                Channel::Inbox,
                Channel::Popup,
                Channel::Email,
                Channel::Sms,
                Channel::Slack,
                Channel::Teams,
                Channel::WebPush,
            ],
        }
    }
}

impl ChannelDefaults {
    pub fn of(&self, importance: Importance) -> &[Channel] {
        match importance {
            Importance::Info => &self.info,
            Importance::Action => &self.action,
            Importance::Critical => &self.critical,
        }
    }

    fn check(&self) -> Result<(), AppError> {
        let mut errors = FieldErrors::new();
        for (field, list) in [("info", &self.info), ("action", &self.action), ("critical", &self.critical)] {
            if list.contains(&Channel::Webhook) {
                errors.add(field, "webhook is not a channel a message is sent on: webhooks report events");
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
    }
}

pub(crate) async fn defaults_in(tx: &mut Tx) -> Result<ChannelDefaults, AppError> {
    Ok(settings::get_json(tx, SETTING).await?)
}

pub async fn defaults(app: &App, caller: &Caller) -> Result<ChannelDefaults, AppError> {
    caller.require(Action::ReadDirectory, "read the channel defaults")?;
    defaults_in(&mut app.db.read().await?).await
}

pub async fn set_defaults(app: &App, caller: &Caller, wanted: &ChannelDefaults) -> Result<ChannelDefaults, AppError> {
    caller.require(Action::Configure, "change the channel defaults")?;
    wanted.check()?;
    let mut tx = app.db.begin().await?;
    let before = defaults_in(&mut tx).await?;
    settings::put_json(&mut tx, SETTING, wanted).await?;
    audit::entry(caller, "settings.channel_defaults", None).before(&before).after(wanted).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(wanted.clone())
}

/// The importance's default channels this server can send on now: the inbox and pop-up
/// always, email always (a missing mail server shows on the message page), web push once
/// a browser is subscribed, the others when a provider is set up or, for Teams and Slack,
/// a partner has a channel bound.
pub(crate) async fn resolve(app: &App, tx: &mut Tx, importance: Importance) -> Result<Vec<Channel>, AppError> {
    let defaults = defaults_in(tx).await?;
    let mut out = Vec::new();
    for channel in defaults.of(importance).iter().copied() {
        let reaches = match channel {
            Channel::Email => true,
            // Set up on every server: it reaches someone once a browser is subscribed.
            Channel::WebPush => tidings_store::push::any(tx).await?,
            other => crate::messages::can_reach_someone(app, tx, other).await?,
        };
        if reaches {
            out.push(channel);
        }
    }
    Ok(importance.channels(Some(&out)))
}
