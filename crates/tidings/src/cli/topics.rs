//! `tidings topic`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::{App, Caller, topics};
use tidings_core::consent::{TopicPolicies, TopicPolicy};
use tidings_core::{Role, TopicDraft};

use super::fail;

#[derive(Debug, Subcommand)]
pub enum TopicCommand {
    /// List topics with their policies.
    List,
    /// Create a topic.
    Create {
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Set a topic's policy: a default, and a policy per role (ROLE=POLICY, repeatable).
    /// Policies: required, optional_on, optional_off.
    SetPolicy {
        key: String,
        #[arg(long, value_parser = policy)]
        default: TopicPolicy,
        #[arg(long = "role", value_parser = role_policy)]
        roles: Vec<(Role, TopicPolicy)>,
    },
    /// Delete a topic.
    Delete { key: String },
}

fn policy(text: &str) -> Result<TopicPolicy, String> {
    match text.trim().to_lowercase().replace('-', "_").as_str() {
        "required" => Ok(TopicPolicy::Required),
        "optional_on" => Ok(TopicPolicy::OptionalOn),
        "optional_off" => Ok(TopicPolicy::OptionalOff),
        other => Err(format!("'{other}' is not a policy; known: required, optional_on, optional_off")),
    }
}

fn role_policy(text: &str) -> Result<(Role, TopicPolicy), String> {
    let (role, p) = text.split_once('=').ok_or("write ROLE=POLICY, such as support=required")?;
    Ok((role.parse::<Role>().map_err(|e| e.to_string())?, policy(p)?))
}

pub async fn run(app: &App, command: TopicCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        TopicCommand::List => {
            let page = topics::list(app, &caller, None, Some(500)).await.map_err(fail)?;
            for t in &page.items {
                let roles: Vec<String> = t.policies.by_role.iter().map(|(r, p)| format!("{r}={}", name(*p))).collect();
                println!("{}  {}  default {}  {}", t.key, t.name, name(t.policies.default), roles.join(" "));
            }
        }
        TopicCommand::Create { key, name, description } => {
            let draft = TopicDraft { key: Some(key), name: Some(name), description: Some(description), policies: None };
            println!("{}", topics::create(app, &caller, &draft).await.map_err(fail)?.id);
        }
        TopicCommand::SetPolicy { key, default, roles } => {
            let topic = topics::get_by_key(app, &caller, &key).await.map_err(fail)?;
            let policies = TopicPolicies { default, by_role: roles.into_iter().collect::<BTreeMap<_, _>>() };
            let draft = TopicDraft { policies: Some(policies), ..Default::default() };
            topics::update(app, &caller, topic.id, &draft).await.map_err(fail)?;
        }
        TopicCommand::Delete { key } => {
            let topic = topics::get_by_key(app, &caller, &key).await.map_err(fail)?;
            topics::delete(app, &caller, topic.id).await.map_err(fail)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn name(p: TopicPolicy) -> &'static str {
    match p {
        TopicPolicy::Required => "required",
        TopicPolicy::OptionalOn => "optional_on",
        TopicPolicy::OptionalOff => "optional_off",
    }
}
