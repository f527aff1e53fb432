//! `tidings channel`: what each channel is set up with, and partners' shared Teams and
//! Slack channels.

use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::partner_channels::{self, PartnerAdmin};
use tidings_app::partners::PartnerFilter;
use tidings_app::{App, Caller, partners};
use tidings_core::PartnerId;
use tidings_core::consent::Channel;

use super::fail;

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// What each channel is set up with and can reach, and the web push public key.
    Status,
    /// The channels each importance goes on when a message's author chooses none.
    Defaults {
        /// Set them: `critical=inbox,popup,email,sms`, one per importance to change.
        #[arg(long = "set")]
        set: Vec<String>,
    },
    /// List partners' bound channels (their webhook URLs masked).
    List,
    /// Bind a partner's Teams or Slack channel to its webhook URL.
    Bind {
        /// The partner's id or external id.
        partner: String,
        /// teams or slack.
        #[arg(value_parser = service)]
        service: Channel,
        /// A Teams Workflows webhook URL, or a Slack incoming webhook URL.
        url: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Remove a partner's bound channel.
    Unbind {
        partner: String,
        #[arg(value_parser = service)]
        service: Channel,
    },
    /// Post a short test message to a partner's bound channel now.
    Test {
        partner: String,
        #[arg(value_parser = service)]
        service: Channel,
    },
}

fn service(text: &str) -> Result<Channel, String> {
    partner_channels::service_named(text)
        .ok_or_else(|| format!("'{text}' is not a service a channel is bound on; one of: teams, slack"))
}

/// The partner named by its id or its external id.
pub(super) async fn partner(app: &App, caller: &Caller, name: &str) -> anyhow::Result<PartnerId> {
    if let Ok(id) = name.parse::<PartnerId>() {
        return Ok(id);
    }
    let filter = PartnerFilter { q: Some(name.to_owned()), ..Default::default() };
    let page = partners::list(app, caller, &filter, None, Some(2)).await.map_err(fail)?;
    match page.items.iter().find(|p| p.profile.external_id.as_deref() == Some(name)) {
        Some(p) => Ok(p.id),
        None => anyhow::bail!("no partner has the id or external id '{name}'"),
    }
}

pub async fn run(app: &App, command: ChannelCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        ChannelCommand::Status => {
            let overview = tidings_app::channel_setup::overview(app, &caller).await.map_err(fail)?;
            for c in &overview.channels {
                let outage = c.outage_since.map(|at| format!(" (unreachable since {})", at.to_rfc3339()));
                let provider = c.provider.as_deref().unwrap_or("not set up");
                println!("{}	{provider}{}", c.channel, outage.unwrap_or_default());
            }
            let r = overview.reachable;
            println!(
                "browsers	{} of {} members
teams bindings	{}
slack bindings	{}
webhook endpoints	{}",
                r.browsers, r.members_with_browsers, r.teams_bindings, r.slack_bindings, r.webhook_endpoints
            );
            if let Some(key) = overview.web_push_public_key {
                println!("web push public key	{key}");
            }
        }
        ChannelCommand::Defaults { set } => {
            let mut defaults = tidings_app::channel_defaults::defaults(app, &caller).await.map_err(fail)?;
            for change in &set {
                let Some((importance, list)) = change.split_once('=') else {
                    anyhow::bail!("'{change}': give importance=channel,channel (such as critical=inbox,email,sms)");
                };
                let importance: tidings_core::messages::Importance =
                    importance.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
                let channels: Vec<Channel> = list
                    .split(',')
                    .filter(|c| !c.trim().is_empty())
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                match importance {
                    tidings_core::messages::Importance::Info => defaults.info = channels,
                    tidings_core::messages::Importance::Action => defaults.action = channels,
                    tidings_core::messages::Importance::Critical => defaults.critical = channels,
                }
            }
            if !set.is_empty() {
                defaults = tidings_app::channel_defaults::set_defaults(app, &caller, &defaults).await.map_err(fail)?;
            }
            for importance in tidings_core::messages::Importance::ALL {
                let names: Vec<&str> = defaults.of(importance).iter().map(|c| c.as_str()).collect();
                println!("{}\t{}", importance.as_str(), names.join(","));
            }
        }
        ChannelCommand::List => {
            for b in partner_channels::all(app, &caller).await.map_err(fail)? {
                let last = match (&b.last_error, b.last_posted_at) {
                    (Some(e), _) => format!("failed: {e}"),
                    (None, Some(at)) => format!("last post {}", at.to_rfc3339()),
                    (None, None) => "no post yet".into(),
                };
                println!("{}\t{}\t{}\t{}\t{}\t{last}", b.partner_id, b.partner_name, b.channel, b.url, b.label);
            }
        }
        ChannelCommand::Bind { partner: name, service, url, label } => {
            let id = partner(app, &caller, &name).await?;
            let b = partner_channels::bind(app, PartnerAdmin::Staff(&caller), id, service, &url, &label)
                .await
                .map_err(fail)?;
            println!("{} channel of {} bound: {}", partner_channels::service(b.channel), b.partner_name, b.url);
        }
        ChannelCommand::Unbind { partner: name, service } => {
            let id = partner(app, &caller, &name).await?;
            partner_channels::unbind(app, PartnerAdmin::Staff(&caller), id, service).await.map_err(fail)?;
            println!("removed");
        }
        ChannelCommand::Test { partner: name, service } => {
            let id = partner(app, &caller, &name).await?;
            let t = partner_channels::test(app, PartnerAdmin::Staff(&caller), id, service).await.map_err(fail)?;
            match t.error {
                None => println!("test post sent"),
                Some(e) => {
                    eprintln!("the test post failed: {e}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
