//! Notifications in a member's browsers (web push): the member asks for them in the
//! portal, which subscribes the browser with the instance's VAPID key and saves the
//! subscription here; a message on the web push channel then reaches each of their
//! browsers, and a click opens it. The key pair is made on first start and kept in the
//! database, so every process of the instance signs alike and subscriptions survive
//! restarts.

use tidings_channels::push::{PushSender, Subscription, VapidKey};
use tidings_core::Member;
use tidings_store::push::{self as store, PushSubscription};

use crate::{App, AppError};

/// The settings key of the VAPID key pair.
const KEY: &str = "vapid_key";
const USER_AGENT_LIMIT: usize = 300;

impl App {
    /// Sends browser notifications through `http`, signed with the stored VAPID key
    /// (created on first start); `contact` is the `mailto:` or https address push services
    /// may reach the sender at.
    pub async fn with_web_push(
        mut self,
        http: tidings_channels::outbound::Outbound,
        contact: &str,
    ) -> Result<Self, AppError> {
        let mut tx = self.db.begin().await?;
        let stored = tidings_store::settings::get_or_insert(&mut tx, KEY, || VapidKey::generate().to_stored()).await?;
        tx.commit().await?;
        let key = VapidKey::from_stored(&stored).map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)))?;
        self.channels = self.channels.clone().with_push(PushSender::new(http, key, contact.to_owned()));
        Ok(self)
    }
}

/// The key browsers subscribe with, when web push is set up.
pub fn public_key(app: &App) -> Option<String> {
    app.channels.push().map(|p| p.key().public_key())
}

/// Saves the member's browser's subscription, checked (its endpoint must be one Tidings
/// may send to; its keys well formed).
pub async fn subscribe(
    app: &App,
    member: &Member,
    subscription: Subscription,
    user_agent: Option<&str>,
) -> Result<(), AppError> {
    let sender = app.channels.push().ok_or_else(|| AppError::Conflict("web push is not set up".into()))?;
    sender.check(&subscription).map_err(|e| AppError::invalid("subscription", e))?;
    let row = PushSubscription {
        member_id: member.id,
        endpoint: subscription.endpoint,
        p256dh: subscription.p256dh,
        auth: subscription.auth,
        user_agent: user_agent.map(|u| u.chars().take(USER_AGENT_LIMIT).collect()),
        created_at: app.clock.now(),
    };
    let mut tx = app.db.begin().await?;
    store::subscribe(&mut tx, &row).await?;
    tx.commit().await?;
    Ok(())
}

/// The member's subscribed browsers.
pub async fn browsers(app: &App, member: &Member) -> Result<Vec<PushSubscription>, AppError> {
    let mut tx = app.db.read().await?;
    Ok(store::of_members(&mut tx, &[member.id]).await?.remove(&member.id).unwrap_or_default())
}

/// Forgets every browser of the member: no more notifications until they ask again.
pub async fn unsubscribe_all(app: &App, member: &Member) -> Result<usize, AppError> {
    let mut tx = app.db.begin().await?;
    let browsers = store::of_members(&mut tx, &[member.id]).await?.remove(&member.id).unwrap_or_default();
    for b in &browsers {
        store::unsubscribe(&mut tx, member.id, &b.endpoint).await?;
    }
    tx.commit().await?;
    Ok(browsers.len())
}
