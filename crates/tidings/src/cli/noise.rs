//! `tidings noise`: the vendor's frequency caps and digest per role, and a partner's
//! defaults for its people.

use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::noise::{self, PartnerDefaultsInput, PartnerDefaultsView};
use tidings_app::partner_channels::PartnerAdmin;
use tidings_app::{App, Caller};
use tidings_core::Role;
use tidings_core::noise::{DigestFrequency, NoisePolicy};

use super::channels::partner;
use super::fail;

#[derive(Debug, Subcommand)]
pub enum NoiseCommand {
    /// The noise policy: caps per importance and window, digest for everyone and per role.
    Show,
    /// Change the noise policy; what is not given stays as it is.
    Set {
        /// Nice-to-know messages per member in the window outside the portal; `none` for no cap.
        #[arg(long)]
        info_cap: Option<String>,
        /// The same for need-to-know messages (must-know is never capped).
        #[arg(long)]
        action_cap: Option<String>,
        #[arg(long)]
        window_days: Option<u32>,
        /// off, daily or weekly: the digest of nice-to-know messages for everyone.
        #[arg(long)]
        digest: Option<DigestFrequency>,
        /// A role's own digest, as `role=frequency` (`role=` to follow everyone's); repeatable.
        #[arg(long = "digest-role", value_name = "ROLE=FREQUENCY")]
        digest_roles: Vec<String>,
    },
    /// A partner's defaults for its people; with options, replaces them first.
    Partner {
        /// The partner's id or external id.
        partner: String,
        /// off, daily, weekly, or `vendor` for the vendor's policy.
        #[arg(long)]
        digest: Option<String>,
        /// A topic for the partner's people, as `key=on`, `key=off` or `key=vendor`; repeatable.
        #[arg(long = "topic", value_name = "KEY=ON|OFF|VENDOR")]
        topics: Vec<String>,
    },
}

pub async fn run(app: &App, command: NoiseCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        NoiseCommand::Show => print_policy(&noise::policy(app, &caller).await.map_err(fail)?),
        NoiseCommand::Set { info_cap, action_cap, window_days, digest, digest_roles } => {
            let mut policy = noise::policy(app, &caller).await.map_err(fail)?;
            if let Some(cap) = info_cap {
                policy.info_cap = cap_of(&cap)?;
            }
            if let Some(cap) = action_cap {
                policy.action_cap = cap_of(&cap)?;
            }
            policy.window_days = window_days.unwrap_or(policy.window_days);
            policy.digest = digest.unwrap_or(policy.digest);
            for pair in &digest_roles {
                let (role, frequency) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--digest-role {pair}: write role=frequency"))?;
                let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--digest-role {pair}: {e}"))?;
                match frequency.trim() {
                    "" => policy.digest_by_role.remove(&role),
                    f => policy
                        .digest_by_role
                        .insert(role, f.parse().map_err(|e| anyhow::anyhow!("--digest-role {pair}: {e}"))?),
                };
            }
            print_policy(&noise::set_policy(app, &caller, &policy).await.map_err(fail)?);
        }
        NoiseCommand::Partner { partner: name, digest, topics } => {
            let id = partner(app, &caller, &name).await?;
            let staff = PartnerAdmin::Staff(&caller);
            let mut view = noise::partner_defaults(app, staff, id).await.map_err(fail)?;
            if digest.is_some() || !topics.is_empty() {
                let mut input = PartnerDefaultsInput {
                    topics: view.defaults.topics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                    digest: view.defaults.digest,
                };
                match digest.as_deref().map(str::trim) {
                    None => {}
                    Some("vendor") => input.digest = None,
                    Some(f) => input.digest = Some(f.parse().map_err(|e| anyhow::anyhow!("--digest: {e}, or vendor"))?),
                }
                for pair in &topics {
                    let (key, value) = pair
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("--topic {pair}: write key=on, off or vendor"))?;
                    match value.trim() {
                        "on" => input.topics.insert(key.to_owned(), true),
                        "off" => input.topics.insert(key.to_owned(), false),
                        "vendor" => input.topics.remove(key),
                        _ => anyhow::bail!("--topic {pair}: write key=on, off or vendor"),
                    };
                }
                view = noise::set_partner_defaults(app, staff, id, &input).await.map_err(fail)?;
            }
            print_partner(&view);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cap_of(text: &str) -> anyhow::Result<Option<u32>> {
    match text.trim() {
        "none" | "" => Ok(None),
        n => Ok(Some(n.parse().map_err(|_| anyhow::anyhow!("'{n}' is not a number of messages or none"))?)),
    }
}

fn print_policy(policy: &NoisePolicy) {
    let days = policy.window_days;
    let cap = |c: Option<u32>| c.map_or_else(|| "no cap".to_owned(), |n| format!("at most {n} per {days} days"));
    println!("nice to know\t{}", cap(policy.info_cap));
    println!("need to know\t{}", cap(policy.action_cap));
    println!("must know\tnever capped");
    println!("digest\t{}", policy.digest);
    for (role, frequency) in &policy.digest_by_role {
        println!("digest {role}\t{frequency}");
    }
}

fn print_partner(view: &PartnerDefaultsView) {
    let digest = view.defaults.digest.map_or_else(|| format!("vendor ({})", view.vendor_digest), |d| d.to_string());
    println!("digest\t{digest}");
    for t in &view.topics {
        let set = match (t.locked, t.set) {
            (true, _) => "required",
            (false, Some(true)) => "on",
            (false, Some(false)) => "off",
            (false, None) => "vendor",
        };
        println!("topic {}\t{set}", t.key);
    }
}
