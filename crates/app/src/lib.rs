//! Use cases: each public function checks who is asking, applies the domain rules and
//! writes through the store in one transaction.

pub mod acknowledging;
pub mod approvals;
pub mod audiences;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod channel_defaults;
pub mod channel_report;
pub mod channel_setup;
pub mod chase;
pub mod clock;
pub mod compliance;
pub mod consent;
pub mod corrections;
pub mod csv_cells;
pub mod demo;
mod dsn;
pub mod engagement;
mod error;
pub mod events;
pub mod evidence;
pub mod export;
pub mod group_commit;
pub mod groups;
mod html;
pub mod i18n;
pub mod import;
pub mod inbox;
pub mod ladders;
pub mod links;
pub mod lint;
pub mod mail_catcher;
pub mod members;
pub mod messages;
pub mod noise;
pub mod nominees;
pub mod overdue;
pub mod partner_channels;
pub mod partners;
pub mod passwords;
pub mod push;
pub mod reach;
pub mod release;
pub mod reports;
pub mod segments;
pub mod self_service;
pub mod sessions;
pub mod sign_in;
pub mod signing;
pub mod sms_hooks;
pub mod staff;
pub mod staff_notices;
pub mod system;
pub mod team;
pub mod test_email;
pub mod topics;
pub mod tracking;
pub mod webhooks;
pub mod widget;
pub mod workers;

use std::sync::Arc;

use tidings_channels::Channels;
use tidings_core::Catalog;
use tidings_core::audiences::Rule;
use tidings_core::deliveries::RetryPolicy;

pub use auth::Caller;
pub use clock::Clock;
pub use error::AppError;
pub use signing::Signer;
pub use tidings_channels::email::MailSettings;
/// The database handle `App` holds.
pub use tidings_store::Db;
/// A page of results and the cursor of the next, as every list answers.
pub use tidings_store::Page;
/// A fresh database per test, on either engine.
#[cfg(feature = "testing")]
pub use tidings_store::testing;

/// The vendor's terms and conditions that members accept in the portal.
#[derive(Clone, Debug)]
pub struct Terms {
    /// Where the terms are published; the portal links to them.
    pub url: Option<String>,
    /// Recorded with each acceptance: the version of the terms accepted.
    pub version: String,
}

impl Default for Terms {
    fn default() -> Self {
        Self { url: None, version: "terms-1".into() }
    }
}

/// Everything a use case needs, passed explicitly; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Clock,
    pub catalog: Arc<Catalog>,
    /// Members no audience ever includes (configured), such as the vendor's own sales reps.
    pub default_exclusion: Option<Arc<Rule>>,
    /// Accepting the terms and conditions also opts the member in to email (when the
    /// terms the vendor shows say so).
    pub terms_imply_email_opt_in: bool,
    pub terms: Arc<Terms>,
    /// Web origins (`https://partners.vendor.example`) whose pages may call the widget's
    /// endpoints from the browser.
    pub widget_origins: Arc<Vec<String>>,
    /// Reverse proxies in front of Tidings whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Signs tracking links, unsubscribe and acknowledgment links and member tokens.
    pub signer: Signer,
    /// Where this instance is reached from outside, without a trailing slash: the base of
    /// every link in an email.
    pub public_url: Arc<str>,
    /// Every outside channel's layout and provider; a channel without a provider leaves
    /// its deliveries queued.
    pub channels: Channels,
    pub retry: RetryPolicy,
    /// The demo's built-in mail server, where email goes when no SMTP server is configured;
    /// the console shows what it caught.
    pub mail_catcher: Option<tidings_channels::catcher::MailCatcher>,
    /// The demo's stand-in SMS and Slack providers' catch, when they run.
    pub chat_catcher: Option<tidings_channels::fake::ChatCatcher>,
    /// Acknowledgments and reads append their leaves to the evidence log (on unless
    /// configured off, which exists to measure what the log costs).
    pub evidence_log: bool,
    /// Group-commits acknowledgments.
    pub acks: acknowledging::AckWriter,
    /// Group-commits events from the vendor's systems.
    pub events: automation::intake::EventWriter,
    /// This process, as the system page shows it.
    pub node: Arc<system::ThisNode>,
}

impl App {
    pub fn new(db: Db, catalog: Catalog) -> Self {
        Self {
            db,
            clock: Clock::System,
            catalog: Arc::new(catalog),
            default_exclusion: None,
            terms_imply_email_opt_in: false,
            terms: Arc::new(Terms::default()),
            widget_origins: Arc::new(Vec::new()),
            trusted_proxies: Arc::new(Vec::new()),
            signer: Signer::ephemeral(),
            public_url: Arc::from("http://127.0.0.1:8080"),
            channels: Channels::default(),
            retry: RetryPolicy::default(),
            mail_catcher: None,
            chat_catcher: None,
            evidence_log: true,
            acks: acknowledging::AckWriter::default(),
            events: automation::intake::EventWriter::default(),
            node: Arc::default(),
        }
    }

    /// Uses the signing key stored in the database, creating it on first start, so links
    /// in emails stay valid across restarts and every process of the instance agrees.
    pub async fn with_stored_signing_key(mut self) -> Result<Self, AppError> {
        let mut tx = self.db.begin().await?;
        let key = tidings_store::settings::get_or_insert(&mut tx, "signing_key", || {
            let mut key = [0u8; 32];
            let _ = getrandom::fill(&mut key);
            hex::encode(key)
        })
        .await?;
        tx.commit().await?;
        let key = hex::decode(&key).map_err(|e| AppError::Unexpected(anyhow::anyhow!("stored signing key: {e}")))?;
        self.signer = Signer::new(&key);
        Ok(self)
    }

    /// Settles where links point, so every process of the instance agrees: a configured
    /// URL wins; else a server (`serving_at`, its listen address) uses its own address;
    /// else (the command line, a worker) the one the last server started with, which the
    /// server keeps in the database; else the default listen address.
    pub async fn with_public_url(
        mut self,
        configured: Option<&str>,
        serving_at: Option<&str>,
    ) -> Result<Self, AppError> {
        const KEY: &str = "public_url";
        let clean = |url: &str| url.trim().trim_end_matches('/').to_owned();
        let url = match (configured.filter(|u| !u.trim().is_empty()), serving_at) {
            (Some(url), _) => clean(url),
            (None, Some(listen)) => clean(listen),
            (None, None) => {
                let mut tx = self.db.read().await?;
                tidings_store::settings::get(&mut tx, KEY).await?.unwrap_or_else(|| self.public_url.to_string())
            }
        };
        if serving_at.is_some() {
            let mut tx = self.db.begin().await?;
            tidings_store::settings::put(&mut tx, KEY, &url).await?;
            tx.commit().await?;
        }
        self.public_url = Arc::from(url.as_str());
        Ok(self)
    }

    /// Whether the database answers (for readiness checks).
    pub async fn ping(&self) -> Result<(), AppError> {
        Ok(self.db.ping().await?)
    }

    /// Sets the default exclusion from rule text, refusing a rule that does not parse.
    pub fn with_default_exclusion(mut self, rule: Option<&str>) -> Result<Self, tidings_core::audiences::RuleError> {
        self.default_exclusion = match rule.map(str::trim).filter(|r| !r.is_empty()) {
            Some(text) => Some(Arc::new(tidings_core::audiences::parse(text, &self.catalog)?)),
            None => None,
        };
        Ok(self)
    }
}
