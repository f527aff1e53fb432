//! `tidings webhook`: signed webhook endpoints and their delivery logs.

use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::webhooks::{self, EndpointDraft};
use tidings_app::{App, Caller};
use tidings_core::{PartnerId, WebhookId};

use super::fail;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// List endpoints with their events and state.
    List,
    /// Add an endpoint; prints its id and its signing secret (shown this once).
    Create {
        /// An https URL.
        url: String,
        /// An event it takes (repeatable): message.released, delivery.failed,
        /// acknowledgment.recorded, obligation.met.
        #[arg(long = "event", required = true)]
        events: Vec<String>,
        /// The partner whose events it gets; without it, the vendor's own (every event).
        #[arg(long)]
        partner: Option<PartnerId>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Queue a test event for an endpoint.
    Test { id: WebhookId },
    /// An endpoint's latest requests, as JSON lines.
    Log { id: WebhookId },
    /// Enable an endpoint again (its failure record cleared), or disable it.
    Enable {
        id: WebhookId,
        #[arg(long)]
        off: bool,
    },
    /// Delete an endpoint and its log.
    Delete { id: WebhookId },
}

pub async fn run(app: &App, command: WebhookCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        WebhookCommand::List => {
            for e in webhooks::list(app, &caller).await.map_err(fail)? {
                let events: Vec<&str> = e.events.iter().map(|t| t.as_str()).collect();
                let state = match (e.enabled, &e.disabled_reason) {
                    (true, _) if e.failing_since.is_some() => "failing".to_owned(),
                    (true, _) => "enabled".to_owned(),
                    (false, reason) => format!("disabled: {}", reason.as_deref().unwrap_or("")),
                };
                let owner = e.partner_name.unwrap_or_else(|| "vendor".into());
                println!("{}\t{}\t{owner}\t{}\t{state}", e.id, e.url, events.join(","));
            }
        }
        WebhookCommand::Create { url, events, partner, description } => {
            let draft = EndpointDraft {
                url: Some(url),
                description: Some(description),
                events: Some(events),
                partner_id: partner,
                enabled: None,
            };
            let created = webhooks::create(app, &caller, &draft).await.map_err(fail)?;
            println!("{}\n{}", created.endpoint.id, created.secret);
        }
        WebhookCommand::Test { id } => println!("{}", webhooks::test(app, &caller, id).await.map_err(fail)?),
        WebhookCommand::Log { id } => {
            for d in webhooks::log(app, &caller, id).await.map_err(fail)? {
                println!("{}", serde_json::to_string(&d)?);
            }
        }
        WebhookCommand::Enable { id, off } => {
            let draft = EndpointDraft { enabled: Some(!off), ..Default::default() };
            webhooks::update(app, &caller, id, &draft).await.map_err(fail)?;
        }
        WebhookCommand::Delete { id } => webhooks::delete(app, &caller, id).await.map_err(fail)?,
    }
    Ok(ExitCode::SUCCESS)
}
