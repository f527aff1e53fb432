//! `tidings ladder`: escalation ladders.

use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::{App, Caller, ladders};
use tidings_core::escalation::{Ladder, LadderDraft, LadderStep, StepTarget};

use super::fail;

#[derive(Debug, Subcommand)]
pub enum LadderCommand {
    /// List ladders, a line each: key, name, steps.
    List,
    /// Create or replace a ladder.
    Put {
        key: String,
        #[arg(long)]
        name: String,
        /// A step as HOURS:TARGET (after the previous step; targets: members,
        /// partner_lead, partner_manager), in order, repeatable.
        #[arg(long = "step", value_parser = step, required = true)]
        steps: Vec<LadderStep>,
        /// Run the steps again this many times while anyone still owes.
        #[arg(long, default_value_t = 0)]
        repeat: u8,
        /// Let must-know reminders go at any hour instead of waiting for working hours.
        #[arg(long)]
        any_hour: bool,
    },
    /// Delete a ladder (topics that used it have none after).
    Delete { key: String },
}

fn step(text: &str) -> Result<LadderStep, String> {
    let (hours, target) = text.split_once(':').ok_or("write HOURS:TARGET, such as 24:members")?;
    let after_hours =
        hours.trim().trim_end_matches('h').parse::<u32>().map_err(|_| format!("'{hours}' is not hours"))?;
    Ok(LadderStep { after_hours, target: target.parse::<StepTarget>()? })
}

/// `24h members, 24h partner_lead`.
pub fn describe(ladder: &Ladder) -> String {
    let steps: Vec<String> = ladder.steps.iter().map(|s| format!("{}h {}", s.after_hours, s.target.as_str())).collect();
    let repeat = if ladder.repeat > 0 { format!(", repeated {} more times", ladder.repeat) } else { String::new() };
    let hours = if ladder.working_hours_only { "" } else { ", must-know at any hour" };
    format!("{}{repeat}{hours}", steps.join(", "))
}

pub async fn run(app: &App, command: LadderCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        LadderCommand::List => {
            for l in ladders::list(app, &caller).await.map_err(fail)? {
                println!("{}\t{}\t{}", l.key, l.name, describe(&l));
            }
        }
        LadderCommand::Put { key, name, steps, repeat, any_hour } => {
            let draft = LadderDraft {
                key: Some(key),
                name: Some(name),
                steps: Some(steps),
                repeat: Some(repeat),
                working_hours_only: Some(!any_hour),
            };
            let (ladder, created) = ladders::put(app, &caller, &draft).await.map_err(fail)?;
            let verb = if created { "created" } else { "replaced" };
            println!("{verb} {}: {}", ladder.key, describe(&ladder));
        }
        LadderCommand::Delete { key } => {
            ladders::delete(app, &caller, &key).await.map_err(fail)?;
            println!("deleted {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
