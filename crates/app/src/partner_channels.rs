//! Partners' shared Teams and Slack channels: a partner's lead (in the portal) or the
//! vendor's staff (console, API, command line) binds a channel by its webhook URL, checks
//! it with a test post, or removes it. The URL is a secret (whoever has it may post to the
//! channel): it is checked by the address guard when saved and shown only masked.

use serde::Serialize;
use serde_json::json;
use tidings_channels::posts::{POSTED, takes_posts};
use tidings_core::consent::Channel;
use tidings_core::deliveries::Outcome;
use tidings_core::members::Role;
use tidings_core::{Action, Member, PartnerId, Timestamp};
use tidings_store::partner_channels::{self as store, Binding};
use tidings_store::partners;

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

/// Bindings a console list shows at most.
const LISTED: u32 = 5_000;
const LABEL_LIMIT: usize = 100;

/// A binding as shown: its URL masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BindingView {
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub channel: Channel,
    /// The scheme, host and the last four characters: enough to tell two apart.
    pub url: String,
    pub label: String,
    pub bound_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_posted_at: Option<Timestamp>,
    /// Why the last post failed for good, until one succeeds.
    pub last_error: Option<String>,
}

impl From<Binding> for BindingView {
    fn from(b: Binding) -> Self {
        Self {
            partner_id: b.partner_id,
            partner_name: b.partner_name,
            channel: b.channel,
            url: mask(&b.url),
            label: b.label,
            bound_by: b.bound_by,
            created_at: b.created_at,
            updated_at: b.updated_at,
            last_posted_at: b.last_posted_at,
            last_error: b.last_error,
        }
    }
}

/// `https://hooks.slack.com/…Xy9z`.
pub fn mask(url: &str) -> String {
    let host = url::Url::parse(url).map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or(""))).ok();
    let tail: String = url.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{}/…{tail}", host.unwrap_or_default())
}

/// Who changes a partner's own arrangements (its channels, who answers for a role):
/// vendor staff, or the partner's lead for their own partner only.
#[derive(Clone, Copy)]
pub enum PartnerAdmin<'a> {
    Staff(&'a Caller),
    Lead(&'a Member),
}

impl PartnerAdmin<'_> {
    pub(crate) fn check(&self, partner: PartnerId, doing: &'static str) -> Result<String, AppError> {
        match self {
            Self::Staff(caller) => {
                caller.require(Action::WriteDirectory, doing)?;
                Ok(caller.name.clone())
            }
            Self::Lead(member)
                if member.profile.partner_id == partner && member.profile.roles.contains(Role::PartnerLead) =>
            {
                Ok(member.profile.email.to_string())
            }
            Self::Lead(_) => Err(AppError::Forbidden(doing)),
        }
    }
}

fn channel_of(channel: Channel) -> Result<Channel, AppError> {
    if takes_posts(channel) {
        Ok(channel)
    } else {
        Err(AppError::invalid("channel", format!("{channel} takes no channel posts; one of: teams, slack")))
    }
}

/// Binds a partner's Teams or Slack channel to its webhook URL (replacing one bound before).
pub async fn bind(
    app: &App,
    who: PartnerAdmin<'_>,
    partner: PartnerId,
    channel: Channel,
    url: &str,
    label: &str,
) -> Result<BindingView, AppError> {
    let by = who.check(partner, "bind a partner's channel")?;
    let channel = channel_of(channel)?;
    let poster = app
        .channels
        .poster()
        .ok_or_else(|| AppError::Conflict("posting to partners' channels is not set up on this instance".into()))?;
    let url = poster.check_url(channel, url).map_err(|e| AppError::invalid("url", e))?;
    let label = tidings_core::text::identifier(label, LABEL_LIMIT)
        .map_err(|e| AppError::invalid("label", e.to_string()))?
        .unwrap_or_default();
    let mut tx = app.db.begin().await?;
    partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    let binding = store::bind(&mut tx, partner, channel, &url, &label, &by, app.clock.now()).await?;
    let view = BindingView::from(binding);
    if let PartnerAdmin::Staff(caller) = who {
        audit::entry(caller, "partner.bind_channel", partner.as_uuid()).after(&view).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    Ok(view)
}

/// Removes a partner's binding. Posts queued for it fail with the reason.
pub async fn unbind(app: &App, who: PartnerAdmin<'_>, partner: PartnerId, channel: Channel) -> Result<(), AppError> {
    who.check(partner, "remove a partner's channel")?;
    let channel = channel_of(channel)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, partner, channel).await?.ok_or(AppError::NotFound("binding"))?;
    store::unbind(&mut tx, partner, channel).await?;
    if let PartnerAdmin::Staff(caller) = who {
        audit::entry(caller, "partner.unbind_channel", partner.as_uuid())
            .before(&BindingView::from(before))
            .write(app, &mut tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A partner's bindings (staff who read the directory, or the partner's own lead).
pub async fn of_partner(app: &App, who: PartnerAdmin<'_>, partner: PartnerId) -> Result<Vec<BindingView>, AppError> {
    match &who {
        PartnerAdmin::Staff(caller) => caller.require(Action::ReadDirectory, "read the partner directory")?,
        PartnerAdmin::Lead(_) => {
            who.check(partner, "see a partner's channels")?;
        }
    }
    let mut tx = app.db.read().await?;
    partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    Ok(store::of_partner(&mut tx, partner).await?.into_iter().map(BindingView::from).collect())
}

/// Every partner's bindings, by partner name.
pub async fn all(app: &App, caller: &Caller) -> Result<Vec<BindingView>, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    Ok(store::all(&mut tx, LISTED).await?.into_iter().map(BindingView::from).collect())
}

/// What a test post came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestPost {
    pub posted: bool,
    /// The service's answer when it was not posted.
    pub error: Option<String>,
}

/// Posts a short test message to a partner's bound channel now and says what came of it.
pub async fn test(
    app: &App,
    who: PartnerAdmin<'_>,
    partner: PartnerId,
    channel: Channel,
) -> Result<TestPost, AppError> {
    who.check(partner, "test a partner's channel")?;
    let channel = channel_of(channel)?;
    let poster = app
        .channels
        .poster()
        .ok_or_else(|| AppError::Conflict("posting to partners' channels is not set up on this instance".into()))?;
    let mut tx = app.db.read().await?;
    let binding = store::get(&mut tx, partner, channel).await?.ok_or(AppError::NotFound("binding"))?;
    drop(tx);
    let text = format!(
        "Tidings test: this {} channel of {} receives the vendor's partner messages. Nothing to do.",
        service(channel),
        binding.partner_name
    );
    let body = match channel {
        Channel::Teams => json!({"type": "message", "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
            "content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                        "version": tidings_channels::teams::CARD_VERSION,
                        "body": [{"type": "TextBlock", "text": text, "wrap": true}]}}]}),
        _ => json!({"text": text}),
    };
    Ok(match poster.post(channel, &binding.url, &body).await {
        Outcome::Sent { .. } => TestPost { posted: true, error: None },
        Outcome::Permanent(r)
        | Outcome::Transient(r)
        | Outcome::Unknown(r)
        | Outcome::Suppressed(r)
        | Outcome::RetryAfter { reason: r, .. }
        | Outcome::ProviderDown { reason: r, .. } => TestPost { posted: false, error: Some(r) },
    })
}

/// The service's name as people say it.
pub fn service(channel: Channel) -> &'static str {
    match channel {
        Channel::Teams => "Microsoft Teams",
        Channel::Slack => "Slack",
        _ => "chat",
    }
}

/// The service a path or form names (`teams`, `slack`), if a partner can bind it.
pub fn service_named(name: &str) -> Option<Channel> {
    let name = name.trim().to_lowercase();
    POSTED.into_iter().find(|c| c.as_str() == name)
}

/// The services a partner can bind.
pub fn services() -> [Channel; 2] {
    POSTED
}
