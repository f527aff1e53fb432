//! `tidings role`: who answers for each role at a partner (reminders for what the role
//! owes go to them, not to everyone in the role).

use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::partner_channels::PartnerAdmin;
use tidings_app::{App, Caller, members, nominees};
use tidings_core::Role;

use super::channels::partner;
use super::fail;

#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Each role at a partner, who answers for it, and who could.
    List {
        /// The partner's id or external id.
        partner: String,
    },
    /// Name the colleague who answers for a role at their partner.
    Name {
        /// The partner's id or external id.
        partner: String,
        /// sales, marketing, technical, support, operations, finance or executive.
        role: Role,
        /// The member's id or email address.
        member: String,
    },
    /// Take a nomination back: everyone in the role is chased again.
    Clear { partner: String, role: Role },
}

pub async fn run(app: &App, command: RoleCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    let staff = PartnerAdmin::Staff(&caller);
    match command {
        RoleCommand::List { partner: name } => {
            let id = partner(app, &caller, &name).await?;
            for answer in nominees::of_partner(app, staff, id).await.map_err(fail)? {
                let who = match &answer.nominee {
                    Some(n) => format!("{} <{}> (named by {}, {})", n.name, n.email, n.nominated_by, n.nominated_at),
                    None => "everyone in the role".into(),
                };
                println!("{}\t{who}\t{} could be named", answer.role, answer.candidates.len());
            }
        }
        RoleCommand::Name { partner: name, role, member } => {
            let id = partner(app, &caller, &name).await?;
            let person = members::find(app, &caller, &member).await.map_err(fail)?;
            let named = nominees::nominate(app, staff, id, role, person.id).await.map_err(fail)?;
            println!("{} <{}> answers for {role}", named.name, named.email);
        }
        RoleCommand::Clear { partner: name, role } => {
            let id = partner(app, &caller, &name).await?;
            nominees::withdraw(app, staff, id, role).await.map_err(fail)?;
            println!("everyone in {role} is chased again");
        }
    }
    Ok(ExitCode::SUCCESS)
}
