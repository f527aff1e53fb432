//! The command line.

mod audience;
mod automation;
mod backup;
mod channels;
mod data;
mod evidence;
mod ladders;
mod messages;
mod noise;
mod roles;
mod serve;
mod topics;
mod webhooks;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tidings_app::{App, AppError, Caller, auth};
use tidings_core::StaffRole;
use tidings_store::Db;

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "tidings",
    version,
    about = "Partner communications that reach the right people and come back with proof."
)]
pub struct Cli {
    /// A TOML configuration file.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The database: sqlite:PATH or postgres://... (overrides the config and TIDINGS_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and API.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080).
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
        /// Seed a demo dataset if the database is empty, and print an admin API token.
        #[arg(long)]
        demo: bool,
        /// Serve only: leave delivery and scheduling to separate `tidings worker` processes.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run delivery workers and the scheduler, without the web app.
    Worker,
    /// Run stand-ins for an SMS provider and Slack on this machine, to try the channels
    /// or benchmark them: point `[sms] base_url` and `[slack] api_url` at the printed
    /// address (with `[outbound] allow_loopback`). Nothing is sent anywhere.
    FakeProviders {
        /// Address to listen on (a loopback address).
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// The auth token its status callbacks are signed with (that of `[sms]`).
        #[arg(long, default_value = "fake")]
        auth_token: String,
    },
    /// Apply pending database migrations and exit. Several nodes may start at once: the
    /// migrations run once, under a lock.
    Migrate {
        /// List the migrations that would run, and apply nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while Tidings serves (for
    /// PostgreSQL, prints the `pg_dump` command to use).
    Backup {
        /// The backup file to write; it must not exist yet.
        file: std::path::PathBuf,
    },
    /// Put a backup taken by `tidings backup` in place as the configured database, which
    /// must not exist yet; checks it and applies newer migrations.
    Restore {
        /// The backup file to restore from.
        file: std::path::PathBuf,
    },
    /// Import partners or members from a CSV file (upsert; re-running changes nothing).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export partners or members as CSV (the import format).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Manage staff API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The vendor's staff: who may sign in to the admin console, with which role.
    #[command(subcommand)]
    Staff(StaffCommand),
    /// Topics and their policy per role.
    #[command(subcommand)]
    Topic(topics::TopicCommand),
    /// Escalation ladders: who is chased about an unacknowledged must-know message, when.
    #[command(subcommand)]
    Ladder(ladders::LadderCommand),
    /// Events from the vendor's CRM or PRM: post one, list them, their types.
    #[command(subcommand)]
    Event(automation::EventCommand),
    /// Triggers: what answers an event with a message.
    #[command(subcommand)]
    Trigger(automation::TriggerCommand),
    /// Sequences: steps an event enrols a member or partner in, until their goal.
    #[command(subcommand)]
    Sequence(automation::SequenceCommand),
    /// Tasks for staff: partners gone quiet, with what was found.
    #[command(subcommand)]
    Task(automation::TaskCommand),
    /// Noise control: frequency caps, digests, and a partner's defaults for its people.
    #[command(subcommand)]
    Noise(noise::NoiseCommand),
    /// Partners' shared Teams and Slack channels, bound by their webhook URLs.
    #[command(subcommand)]
    Channel(channels::ChannelCommand),
    /// Who answers for each role at a partner: reminders for what the role owes go to them.
    #[command(subcommand)]
    Role(roles::RoleCommand),
    /// The evidence log: its key, checkpoints, packs for auditors, and their checks.
    #[command(subcommand)]
    Evidence(evidence::EvidenceCommand),
    /// Signed webhooks to the vendor's or a partner's systems.
    #[command(subcommand)]
    Webhook(webhooks::WebhookCommand),
    /// Saved segments: named audience rules.
    #[command(subcommand)]
    Segment(audience::SegmentCommand),
    /// Preview an audience or explain why a member is in or out.
    #[command(subcommand)]
    Audience(audience::AudienceCommand),
    /// Compose, release and follow messages.
    #[command(subcommand)]
    Message(messages::MessageCommand),
    /// A token a member uses for the inbox API.
    MemberToken {
        /// The member's email or id.
        member: String,
        /// Days until it expires (1 to 30).
        #[arg(long, default_value_t = 1)]
        days: i64,
    },
    /// Print a portal sign-in link for a member (single use, 15 minutes), for when email
    /// cannot carry it, as in a demo without an SMTP server.
    SignInLink {
        /// The member's email or id.
        member: String,
    },
    /// Print the secret a vendor's server signs widget tokens with (made on first use).
    WidgetSecret {
        /// Make a new secret; tokens signed with the old one stop working at once.
        #[arg(long)]
        rotate: bool,
    },
    /// Sign a widget token for a member, as the vendor's server would (for trying it out).
    WidgetToken {
        /// The member's email or id.
        member: String,
        /// Minutes until it expires.
        #[arg(long, default_value_t = 60)]
        minutes: i64,
    },
    /// Print the audit log of staff actions, newest first, one JSON object a line.
    Audit {
        /// Only entries about this record (a partner, member, message, ... id).
        #[arg(long, value_name = "ID")]
        subject: Option<uuid::Uuid>,
        /// An action (message.release) or a kind of record (message).
        #[arg(long)]
        action: Option<String>,
        /// How many entries (1 to 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Print an example configuration file with every default.
    PrintConfig,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Partners, matched by external_id.
    Partners(ImportArgs),
    /// Members, matched by external_id, else by email.
    Members(ImportArgs),
}

#[derive(Debug, clap::Args)]
struct ImportArgs {
    /// The CSV file ('-' for standard input).
    file: PathBuf,
    /// Write nothing at all if any row is bad.
    #[arg(long)]
    strict: bool,
}

#[derive(Debug, Subcommand)]
enum ExportCommand {
    Partners(ExportArgs),
    Members(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// Write to this file instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (it is shown only once).
    Create {
        /// admin, author, approver or analyst.
        #[arg(long)]
        role: StaffRole,
        /// A name to recognize the token by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Add a staff member.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, author, approver or analyst.
        #[arg(long)]
        role: StaffRole,
    },
    /// Set a staff member's password, read from the first line of standard input (so it
    /// stays out of the shell's history): `printf '%s\n' "$PASSWORD" | tidings staff password ...`.
    Password { email: String },
    /// List the staff, one a line: email, role, name.
    List,
}

/// An app error as a CLI error: a failed validation lists one `field: problem` a line.
fn fail(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(errors) => {
            let lines: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            anyhow::anyhow!("{}", lines.join("\n"))
        }
        other => anyhow::anyhow!("{other}"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let overrides = Overrides { database_url: cli.database_url.clone(), listen };
    if let Command::FakeProviders { listen, auth_token } = &cli.command {
        return serve::fake_providers_alone(*listen, auth_token.clone()).await;
    }
    if let Command::Evidence(evidence::EvidenceCommand::Verify { pack, key }) = &cli.command {
        return evidence::verify(pack, key.as_deref());
    }
    if matches!(cli.command, Command::PrintConfig) {
        print!("{}", Config::example());
        return Ok(ExitCode::SUCCESS);
    }
    let (config, unknown_env) = Config::load(cli.config.as_deref(), &overrides)?;
    let _telemetry = crate::telemetry::init(&config.log);
    for name in unknown_env {
        tracing::warn!(variable = %name, "this TIDINGS_ environment variable names no setting and is ignored; see tidings print-config");
    }
    match &cli.command {
        Command::Migrate { dry_run: true } => return migrations_pending(config.database_url()).await,
        Command::Backup { file } => return backup::backup(config.database_url(), file).await,
        Command::Restore { file } => return backup::restore(config.database_url(), file).await,
        _ => {}
    }
    let db = Db::connect(config.database_url()).await.map_err(|e| anyhow::anyhow!("opening the database: {e}"))?;
    let catcher = match &cli.command {
        Command::Serve { demo: true, .. } => serve::mail_catcher(&config),
        _ => None,
    };
    let fakes = match &cli.command {
        Command::Serve { demo: true, .. } => serve::fake_providers(&config).await,
        _ => None,
    };
    let app = App::new(db.clone(), config.catalog.clone())
        .with_default_exclusion(config.audiences.default_exclusion.as_deref())
        .map_err(|e| anyhow::anyhow!("invalid [audiences] default_exclusion: {e}"))?;
    let app = App {
        terms_imply_email_opt_in: config.consent.terms_imply_email_opt_in,
        widget_origins: std::sync::Arc::new(config.widget.origins()?),
        trusted_proxies: std::sync::Arc::new(config.trusted_proxies.clone()),
        terms: std::sync::Arc::new(tidings_app::Terms {
            url: config.consent.terms_url.clone().filter(|u| !u.trim().is_empty()),
            version: config.consent.terms_version.clone().unwrap_or_else(|| tidings_app::Terms::default().version),
        }),
        channels: channels(&config, catcher.as_ref()),
        retry: config.retry,
        mail_catcher: catcher,
        chat_catcher: fakes.as_ref().map(|f| f.catcher.clone()),
        evidence_log: config.evidence.log,
        ..app
    };
    let app = app.with_stored_signing_key().await.map_err(|e| anyhow::anyhow!("loading the signing key: {e}"))?;
    let serving_at = matches!(cli.command, Command::Serve { .. }).then(|| format!("http://{}", config.listen));
    let app = app
        .with_public_url(config.public_url.as_deref(), serving_at.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("settling the public URL: {e}"))?;
    let channels = match &fakes {
        Some(fakes) => fakes.channels(app.channels.clone(), &app.public_url),
        None => with_slack(with_sms(app.channels.clone(), &config, &app.public_url)?, &config)?,
    };
    let app = App { channels, ..app };
    // The demo's stand-in push service is on loopback, like its other stand-ins.
    let policy = tidings_channels::outbound::OutboundPolicy {
        allow_loopback: config.outbound.allow_loopback || fakes.is_some(),
    };
    let push_http = tidings_channels::outbound::Outbound::new(policy).map_err(|e| anyhow::anyhow!(e))?;
    let push_rate = std::num::NonZeroU32::new(config.web_push.rate_per_second)
        .ok_or_else(|| anyhow::anyhow!("[web_push] rate_per_second must be at least 1"))?;
    let app = app
        .with_web_push(push_http, &push_contact(&config.mail.from))
        .await
        .map_err(|e| anyhow::anyhow!("loading the web push key: {e}"))?;
    let channels = app.channels.clone().with_rate(tidings_core::consent::Channel::WebPush, push_rate);
    let app = App { channels, ..app };
    let code = match cli.command {
        Command::Serve { demo, no_worker, .. } => serve::run(app, &config, demo, !no_worker).await?,
        Command::Worker => serve::worker(app, &config).await?,
        Command::Migrate { .. } => {
            let version = db.schema_version().await?.unwrap_or(0);
            println!("migrations applied: the schema is at migration {version}");
            ExitCode::SUCCESS
        }
        Command::Import(ImportCommand::Partners(args)) => {
            data::import(&app, data::Kind::Partners, &args.file, args.strict).await?
        }
        Command::Import(ImportCommand::Members(args)) => {
            data::import(&app, data::Kind::Members, &args.file, args.strict).await?
        }
        Command::Export(ExportCommand::Partners(args)) => {
            data::export(&app, data::Kind::Partners, args.output.as_deref()).await?
        }
        Command::Export(ExportCommand::Members(args)) => {
            data::export(&app, data::Kind::Members, args.output.as_deref()).await?
        }
        Command::Token(TokenCommand::Create { role, name }) => {
            let (_, secret) = auth::create_token(&app, &Caller::operator(), &name, role, None).await?;
            println!("{secret}");
            eprintln!("A {role} token named '{name}'. Keep it secret: it is not shown again.");
            ExitCode::SUCCESS
        }
        Command::Topic(command) => topics::run(&app, command).await?,
        Command::Ladder(command) => ladders::run(&app, command).await?,
        Command::Event(command) => automation::event(&app, command).await?,
        Command::Trigger(command) => automation::trigger(&app, command).await?,
        Command::Sequence(command) => automation::sequence(&app, command).await?,
        Command::Task(command) => automation::task(&app, command).await?,
        Command::Noise(command) => noise::run(&app, command).await?,
        Command::Channel(command) => channels::run(&app, command).await?,
        Command::Role(command) => roles::run(&app, command).await?,
        Command::Evidence(command) => evidence::run(&app, command).await?,
        Command::Webhook(command) => webhooks::run(&app, command).await?,
        Command::Segment(command) => audience::segment(&app, command).await?,
        Command::Audience(command) => audience::audience(&app, command).await?,
        Command::Message(command) => messages::run(&app, command).await?,
        Command::MemberToken { member, days } => messages::member_token(&app, &member, days).await?,
        Command::SignInLink { member } => messages::sign_in_link(&app, &member).await?,
        Command::Staff(command) => staff(&app, command).await?,
        Command::WidgetSecret { rotate } => messages::widget_secret(&app, rotate).await?,
        Command::WidgetToken { member, minutes } => messages::widget_token(&app, &member, minutes).await?,
        Command::Audit { subject, action, limit } => {
            let filter = tidings_store::audit::AuditFilter { subject_id: subject, action, actor_name: None };
            let page = tidings_app::audit::list(&app, &Caller::operator(), &filter, None, Some(limit)).await?;
            for entry in page.items {
                println!("{}", serde_json::to_string(&entry)?);
            }
            ExitCode::SUCCESS
        }
        Command::PrintConfig | Command::FakeProviders { .. } | Command::Backup { .. } | Command::Restore { .. } => {
            ExitCode::SUCCESS
        }
    };
    db.close().await;
    Ok(code)
}

/// `migrate --dry-run`: what would run, touching nothing.
async fn migrations_pending(url: &str) -> anyhow::Result<ExitCode> {
    let db = Db::open(url).await.map_err(|e| anyhow::anyhow!("opening the database: {e}"))?;
    let (found, known) = (db.schema_version().await?, db.known_schema_version());
    let pending = db.pending_migrations().await?;
    db.close().await;
    match found {
        Some(found) if found > known => {
            anyhow::bail!("{}", tidings_store::Error::NewerSchema { found, known })
        }
        _ if pending.is_empty() => println!("nothing to migrate: the schema is at migration {known}"),
        _ => {
            for m in &pending {
                println!("{}\t{}", m.version, m.description);
            }
            eprintln!("{} migration(s) would run; nothing was applied", pending.len());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn staff(app: &App, command: StaffCommand) -> anyhow::Result<ExitCode> {
    match command {
        StaffCommand::Add { email, name, role } => {
            let person = tidings_app::staff::add(app, &Caller::operator(), &email, &name, role).await.map_err(fail)?;
            println!("{}", person.id);
        }
        StaffCommand::Password { email } => {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']);
            let person =
                tidings_app::passwords::set_staff(app, &Caller::operator(), &email, password).await.map_err(fail)?;
            eprintln!("password set for {} ({})", person.email, person.role);
        }
        StaffCommand::List => {
            for person in tidings_app::staff::list(app).await.map_err(fail)? {
                println!("{}\t{}\t{}", person.email, person.role, person.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Whom push services may contact about this sender: the mail sender's address.
fn push_contact(from: &str) -> String {
    let address = from.rsplit_once('<').map_or(from, |(_, a)| a.trim_end_matches('>')).trim();
    format!("mailto:{address}")
}

/// SMS through the configured Twilio-compatible API, when there is one; its status
/// callbacks come back to this instance's public URL.
fn with_sms(
    channels: tidings_channels::Channels,
    config: &Config,
    public_url: &str,
) -> anyhow::Result<tidings_channels::Channels> {
    let callback = format!("{}/hooks/sms/status", public_url.trim_end_matches('/'));
    let Some(twilio) = config.sms.twilio(callback)? else { return Ok(channels) };
    let http = outbound(config, "[sms] base_url", &twilio.base_url)?;
    let provider =
        tidings_channels::Provider::Twilio(std::sync::Arc::new(tidings_channels::sms::Twilio::new(twilio, http)));
    let rate = std::num::NonZeroU32::new(config.sms.rate_per_second)
        .ok_or_else(|| anyhow::anyhow!("[sms] rate_per_second must be at least 1"))?;
    Ok(channels
        .with(tidings_core::consent::Channel::Sms, provider)
        .with_rate(tidings_core::consent::Channel::Sms, rate))
}

/// Slack direct messages through the configured bot, when there is one.
fn with_slack(channels: tidings_channels::Channels, config: &Config) -> anyhow::Result<tidings_channels::Channels> {
    let Some(slack) = config.slack.slack() else { return Ok(channels) };
    let http = outbound(config, "[slack] api_url", &slack.api_url)?;
    let bot = tidings_channels::slack::SlackBot::new(slack, http);
    let provider = tidings_channels::Provider::Slack(std::sync::Arc::new(bot));
    let rate = std::num::NonZeroU32::new(config.slack.rate_per_second)
        .ok_or_else(|| anyhow::anyhow!("[slack] rate_per_second must be at least 1"))?;
    Ok(channels
        .with(tidings_core::consent::Channel::Slack, provider)
        .with_rate(tidings_core::consent::Channel::Slack, rate))
}

/// The outbound HTTP client for a provider at `url` (the setting `key`), refused at start
/// when the address guard would refuse every send to it.
fn outbound(config: &Config, key: &str, url: &str) -> anyhow::Result<tidings_channels::outbound::Outbound> {
    let policy = tidings_channels::outbound::OutboundPolicy { allow_loopback: config.outbound.allow_loopback };
    policy.check_url(url).map_err(|e| anyhow::anyhow!("{key} {url}: {e}"))?;
    tidings_channels::outbound::Outbound::new(policy).map_err(|e| anyhow::anyhow!(e))
}

/// The channels configured: email through our SMTP pool, to the demo's mail catcher when
/// there is one.
fn channels(config: &Config, catcher: Option<&tidings_channels::catcher::MailCatcher>) -> tidings_channels::Channels {
    let mail = tidings_app::MailSettings {
        from: config.mail.from.clone(),
        return_path: config.mail.return_path.clone(),
        message_id_domain: config.mail.message_id_domain.clone(),
    };
    let smtp = match catcher {
        Some(catcher) => tidings_channels::SmtpConfig {
            host: "127.0.0.1".into(),
            port: catcher.port,
            connections: 4,
            ..tidings_channels::SmtpConfig::default()
        },
        None => tidings_channels::SmtpConfig { connections: config.worker.concurrency.max(1), ..config.smtp.clone() },
    };
    let channels = tidings_channels::Channels::new(mail).with_smtp(smtp);
    let policy = tidings_channels::outbound::OutboundPolicy { allow_loopback: config.outbound.allow_loopback };
    match tidings_channels::outbound::Outbound::new(policy) {
        Ok(http) => channels.with_outbound(http),
        Err(e) => {
            tracing::error!(error = %e, "posting to partners' Teams and Slack channels and sending webhooks are off");
            channels
        }
    }
}
