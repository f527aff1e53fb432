//! `tidings serve`: the web app, until SIGINT or SIGTERM, then a graceful stop.

use std::process::ExitCode;

use anyhow::Context;
use tidings_app::workers::deliver;
use tidings_app::{App, auth, demo};
use tidings_channels::catcher::MailCatcher;
use tidings_core::StaffRole;

use crate::config::Config;

/// How many caught emails the demo keeps (the oldest go first).
const CAUGHT_KEPT: usize = 2000;

pub async fn run(app: App, config: &Config, with_demo: bool, with_worker: bool) -> anyhow::Result<ExitCode> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let url = app.public_url.to_string();
    println!("Tidings is running at {url}");
    if config.public_url.is_none() && config.listen != crate::config::Config::default().listen {
        let warning = format!(
            "public_url is not set: links in emails and sign-in links point at {url}. \
             Set public_url (TIDINGS_PUBLIC_URL) to the address members reach."
        );
        println!("Warning: {warning}");
        tracing::warn!("{warning}");
    }
    if with_demo {
        let seeded = demo::seed(&app).await.map_err(|e| anyhow::anyhow!("seeding the demo: {e}"))?;
        let story = match seeded {
            Some(_) => Some(demo::tell(&app).await.map_err(|e| anyhow::anyhow!("staging the demo: {e}"))?),
            None => None,
        };
        let token = auth::rotate_token(&app, "demo", StaffRole::Admin).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        match seeded {
            Some(s) => println!(
                "Demo data seeded: {} partners, {} members, 5 topics, 3 partner groups.",
                s.partners, s.members
            ),
            None => println!("The database already has data; no demo data was added."),
        }
        if let Some(story) = &story {
            println!(
                "Demo messages: a must-know recall, corrected once ({} of its recipients have acknowledged \
                 the corrected text), a product update, and a draft to try test sends on; {} members opted in \
                 to email.",
                story.acknowledged, story.opted_in
            );
        }
        match demo::rotate_admin_password(&app).await {
            Ok(password) => {
                println!("Admin console: {url}/admin");
                println!("  sign in as {} with password {password} (renewed at each start)", demo::ADMIN_EMAIL);
            }
            Err(e) => println!("The demo admin has no password ({e}); set one with: tidings staff password"),
        }
        println!("API token: {token}");
        println!("Try: curl -H 'Authorization: Bearer {token}' {url}/api/v1/partners");
        println!("API description: {url}/api/v1/openapi.json");
        if app.chat_catcher.is_some() {
            println!(
                "Texts and Slack: no SMS provider or Slack bot is configured, so they go to stand-ins: read them at {url}/admin/chats"
            );
        }
        if app.mail_catcher.is_some() {
            println!(
                "Mail catcher: no SMTP server is configured, so email is caught, not sent: read it at {url}/admin/mail"
            );
        }
        if let Some((who, link)) = demo_sign_in(&app).await {
            println!("Partner portal as {who} (this link works once, for 15 minutes): {link}");
            println!(
                "  the recall waits for their acknowledgment there; another link: tidings sign-in-link <member email>"
            );
        }
    }
    tracing::info!(listen = %config.listen, "serving");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let kind = if with_worker { "serve+worker" } else { "serve" };
    let beside = operated(&app, config, kind, &stopped, with_demo).await?;
    let workers =
        with_worker.then(|| tokio::spawn(deliver::run(app.clone(), config.worker.to_config(), stopped.clone())));
    tidings_web::serve(listener, app.clone(), shutdown_signal()).await?;
    let _ = stop.send(true);
    if let Some(w) = workers {
        let _ = w.await;
    }
    for task in beside {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// `tidings worker`: delivery workers and the scheduler until SIGINT or SIGTERM; the
/// round in progress finishes first.
pub async fn worker(app: App, config: &Config) -> anyhow::Result<ExitCode> {
    println!("Tidings worker running; stop with Ctrl-C");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let beside = operated(&app, config, "worker", &stopped, false).await?;
    let workers = tokio::spawn(deliver::run(app, config.worker.to_config(), stopped));
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = workers.await;
    for task in beside {
        let _ = task.await;
    }
    tracing::info!("worker stopped");
    Ok(ExitCode::SUCCESS)
}

/// Where the demo serves `/metrics` when `[metrics] listen` is not set (and the port is free).
const DEMO_METRICS: &str = "127.0.0.1:9464";

/// What runs beside a node's work so that it can be operated: its heartbeat, and
/// `/metrics` on a listener of its own when `[metrics] listen` is set (in the demo, on
/// loopback unless set).
async fn operated(
    app: &App,
    config: &Config,
    kind: &'static str,
    stopped: &tokio::sync::watch::Receiver<bool>,
    demo: bool,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = vec![tokio::spawn(tidings_app::system::keep_beating(app.clone(), kind, stopped.clone()))];
    let listener = match config.metrics.listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen for metrics on {address}"))?,
        ),
        None if demo => tokio::net::TcpListener::bind(DEMO_METRICS).await.ok(),
        None => None,
    };
    if let Some(listener) = listener {
        let address = listener.local_addr()?;
        let handle = tidings_web::scrape::install().map_err(|e| anyhow::anyhow!("starting metrics: {e}"))?;
        if !address.ip().is_loopback() {
            tracing::warn!(%address, "/metrics is served beyond loopback: keep that address off the internet");
        }
        if demo {
            println!(
                "Operating it: the system page at {}/admin/system; metrics for Prometheus at http://{address}/metrics",
                app.public_url
            );
        }
        tracing::info!(%address, "metrics at /metrics");
        let mut stop = stopped.clone();
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stop.changed().await;
            };
            if let Err(e) = tidings_web::scrape::serve(listener, app, handle, shutdown).await {
                tracing::error!(error = %e, "the metrics listener failed");
            }
        }));
    }
    Ok(tasks)
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// A portal sign-in link for the demo's partner user, a recipient of the recall.
async fn demo_sign_in(app: &App) -> Option<(String, String)> {
    let member = demo::portal_member(app).await.ok()??;
    let link = tidings_app::sign_in::operator_link(app, &tidings_app::Caller::operator(), member.id).await.ok()?;
    Some((member.profile.email.to_string(), link))
}

/// The demo's built-in mail server, when no SMTP server is configured (the default
/// address, and nothing answering there).
pub fn mail_catcher(config: &Config) -> Option<MailCatcher> {
    let default = tidings_channels::SmtpConfig::default();
    let smtp = &config.smtp;
    if smtp.host != default.host || smtp.port != default.port || smtp.username.is_some() {
        return None;
    }
    let local_server = (std::net::Ipv4Addr::LOCALHOST, smtp.port).into();
    if std::net::TcpStream::connect_timeout(&local_server, std::time::Duration::from_millis(200)).is_ok() {
        return None;
    }
    match MailCatcher::for_demo(CAUGHT_KEPT) {
        Ok(catcher) => Some(catcher),
        Err(e) => {
            tracing::warn!("the demo's mail catcher could not start: {e}");
            None
        }
    }
}

/// The demo's stand-in SMS provider and Slack, when neither is configured.
pub struct FakeProviders {
    pub catcher: tidings_channels::fake::ChatCatcher,
    base_url: String,
    auth_token: String,
}

pub async fn fake_providers(config: &Config) -> Option<FakeProviders> {
    if config.sms.account_sid.is_some() || config.slack.bot_token.is_some() {
        return None;
    }
    let catcher = tidings_channels::fake::ChatCatcher::new(CAUGHT_KEPT);
    let auth_token = uuid::Uuid::now_v7().simple().to_string();
    match tidings_web::fakes::start(catcher.clone(), auth_token.clone()).await {
        Ok(running) => Some(FakeProviders { catcher, base_url: running.base_url, auth_token }),
        Err(e) => {
            tracing::warn!("the demo's stand-in SMS and Slack providers could not start: {e}");
            None
        }
    }
}

impl FakeProviders {
    /// `channels` with SMS, Slack and partners' channel posts sent to the stand-ins (on
    /// loopback, which only their own client may reach).
    pub fn channels(&self, channels: tidings_channels::Channels, public_url: &str) -> tidings_channels::Channels {
        use tidings_channels::outbound::{Outbound, OutboundPolicy};
        use tidings_channels::{Provider, slack, sms};
        use tidings_core::consent::Channel;
        let Ok(http) = Outbound::new(OutboundPolicy { allow_loopback: true }) else { return channels };
        let twilio = sms::TwilioConfig {
            base_url: self.base_url.clone(),
            account_sid: "ACdemo".into(),
            auth_token: self.auth_token.clone(),
            from: "+15005550006".into(),
            status_callback: Some(format!("{}/hooks/sms/status", public_url.trim_end_matches('/'))),
        };
        let bot = slack::SlackConfig { api_url: self.base_url.clone(), bot_token: "xoxb-demo".into() };
        // The demo binds partners' channels to the stand-ins' webhooks, on loopback.
        channels
            .with_outbound(http.clone())
            .with(Channel::Sms, Provider::Twilio(std::sync::Arc::new(sms::Twilio::new(twilio, http.clone()))))
            .with(Channel::Slack, Provider::Slack(std::sync::Arc::new(slack::SlackBot::new(bot, http))))
    }
}

/// `tidings fake-providers`: the demo's stand-ins on their own, until Ctrl-C; then how
/// many texts and Slack messages they were asked to send.
pub async fn fake_providers_alone(listen: std::net::SocketAddr, auth_token: String) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(listen.ip().is_loopback(), "fake providers listen on a loopback address only");
    let catcher = tidings_channels::fake::ChatCatcher::new(100);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let running = tidings_web::fakes::start_on(listener, catcher.clone(), auth_token).await?;
    println!("Fake SMS provider and Slack at {} (stop with Ctrl-C)", running.base_url);
    println!("  [sms] base_url = \"{}\" and [slack] api_url = \"{}\"", running.base_url, running.base_url);
    shutdown_signal().await;
    println!("{} messages received", catcher.count());
    Ok(ExitCode::SUCCESS)
}
