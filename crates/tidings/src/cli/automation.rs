//! `tidings event`, `tidings trigger` and `tidings sequence`: events as a CRM posts them,
//! the triggers that answer them, and the sequences they enrol people in.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use tidings_app::automation::events::EventQuery;
use tidings_app::automation::{event_types, events, firing, intake, sequences, silence, stepping, triggers};
use tidings_app::{App, Caller};
use tidings_core::automation::sequence::SequenceDraft;
use tidings_core::automation::{EventInput, Trigger, TriggerDraft};

use super::fail;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Take in an event as a CRM would post it; its triggers run at once.
    Post {
        /// The event type: deal.registered, deal.approved, deal.rejected, incentive.progress,
        /// claim.deadline, training.completed, partner.created, member.created, or a declared one.
        #[arg(long = "type")]
        event_type: String,
        /// The partner's id or external id.
        #[arg(long)]
        partner: Option<String>,
        /// The member's email, external id or id.
        #[arg(long)]
        member: Option<String>,
        /// Unique to the event: a repeat with the same key is taken in once. Made up when not given.
        #[arg(long)]
        key: Option<String>,
        /// The event's data as JSON, such as '{"deal_id": "D-7", "reason": "Duplicate"}'.
        #[arg(long, default_value = "{}")]
        data: String,
    },
    /// The latest events, a line each: received, type, partner, member, data.
    List {
        #[arg(long = "type")]
        event_type: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// The event types and their fields (* required).
    Types,
}

#[derive(Debug, Subcommand)]
pub enum TriggerCommand {
    /// List triggers, a line each: key, event type, condition, recipients, sent, let pass.
    List,
    /// Create or replace a trigger from a JSON file (as PUT /api/v1/triggers/{key} takes it).
    Put { file: PathBuf },
    /// Delete a trigger (the messages it sent stay).
    Delete { key: String },
}

pub async fn event(app: &App, command: EventCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        EventCommand::Post { event_type, partner, member, key, data } => {
            let data: serde_json::Value =
                serde_json::from_str(&data).map_err(|e| anyhow::anyhow!("data: is not JSON: {e}"))?;
            let input = EventInput {
                idempotency_key: Some(key.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::now_v7()))),
                event_type: Some(event_type),
                partner,
                member,
                occurred_at: None,
                data: Some(data),
            };
            let received = intake::post(app, &caller, &input).await.map_err(fail)?;
            if received.repeat {
                println!("repeat of {}: nothing applied again", received.event.id);
                return Ok(ExitCode::SUCCESS);
            }
            firing::run_due(app).await.map_err(fail)?;
            let detail = events::get(app, &caller, received.event.id).await.map_err(fail)?;
            println!("taken in {} ({})", received.event.id, received.event.event_type);
            for f in detail.firings {
                let message = f.message_id.map(|m| format!(" message {m}")).unwrap_or_default();
                println!("  {}: {}{message}", f.trigger, f.outcome);
            }
        }
        EventCommand::List { event_type, limit } => {
            let event_type = event_type.as_deref().map(parse_type).transpose()?.map(|t| t.to_string());
            let q = EventQuery { event_type, limit: Some(limit), ..Default::default() };
            for e in events::list(app, &caller, &q).await.map_err(fail)?.items {
                let member = e.member_id.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
                println!("{}\t{}\t{}\t{member}\t{}", e.received_at, e.event_type, e.partner_id, e.data);
            }
        }
        EventCommand::Types => {
            for t in event_types::list(app, &caller).await.map_err(fail)? {
                let fields: Vec<String> = t
                    .schema
                    .fields
                    .iter()
                    .map(|f| format!("{}{}", f.name.as_str(), if f.required { "*" } else { "" }))
                    .collect();
                let origin = if t.built_in { "built in" } else { "declared" };
                println!("{}\t{origin}\t{}", t.name, fields.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_type(text: &str) -> anyhow::Result<tidings_core::automation::EventType> {
    tidings_core::automation::EventType::parse(text).map_err(|e| anyhow::anyhow!("--type: {e}"))
}

fn describe(t: &Trigger) -> String {
    let condition = t.condition.as_deref().map(|c| format!(" if {c}")).unwrap_or_default();
    let state = if t.enabled { "" } else { " (off)" };
    format!("{}{condition}\t{}{state}", t.event_type, t.recipients.as_str())
}

pub async fn trigger(app: &App, command: TriggerCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        TriggerCommand::List => {
            for s in triggers::list(app, &caller).await.map_err(fail)? {
                let t = &s.trigger;
                println!("{}\t{}\tsent {}\tlet pass {}", t.key, describe(t), s.firings.sent, s.firings.passed);
            }
        }
        TriggerCommand::Put { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let draft: TriggerDraft =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not a trigger: {e}", file.display()))?;
            let (t, created) = triggers::put(app, &caller, &draft).await.map_err(fail)?;
            let verb = if created { "created" } else { "replaced" };
            println!("{verb} {}: {}", t.key, describe(&t));
        }
        TriggerCommand::Delete { key } => {
            triggers::delete(app, &caller, &key).await.map_err(fail)?;
            println!("deleted {key}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub enum SequenceCommand {
    /// List sequences, a line each: key, entry and goal events, steps, then how many entered,
    /// are in it now, met the goal, ran out of steps.
    List,
    /// Create or replace a sequence from a JSON file (as PUT /api/v1/sequences/{key} takes it).
    Put { file: PathBuf },
    /// Delete a sequence (the people in it are taken out).
    Delete { key: String },
    /// Take into each sequence with an entry rule the active members it selects who were
    /// never in it, now, as a job does every 10 minutes.
    Enrol,
    /// Move on every run whose next step is due now, as a job does every 10 seconds.
    Advance,
}

pub async fn sequence(app: &App, command: SequenceCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        SequenceCommand::List => {
            for s in sequences::list(app, &caller).await.map_err(fail)? {
                let (q, f) = (&s.sequence, &s.funnel);
                let goal = q.goal_event.as_ref().map_or_else(|| "-".to_owned(), ToString::to_string);
                let now: i64 = f.waiting_at.iter().sum();
                println!(
                    "{}\t{} -> {goal}\t{} steps\tentered {}\tin it {now}\tgoal met {}\tran out {}",
                    q.key,
                    q.entry_event,
                    q.steps.len(),
                    f.entered,
                    f.converted,
                    f.finished
                );
            }
        }
        SequenceCommand::Put { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let draft: SequenceDraft =
                serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: not a sequence: {e}", file.display()))?;
            let (s, created) = sequences::put(app, &caller, &draft).await.map_err(fail)?;
            let verb = if created { "created" } else { "replaced" };
            println!("{verb} {}: {} steps, enrols on {}", s.key, s.steps.len(), s.entry_event);
        }
        SequenceCommand::Delete { key } => {
            sequences::delete(app, &caller, &key).await.map_err(fail)?;
            println!("deleted {key}");
        }
        SequenceCommand::Enrol => {
            let entered = sequences::enrol_by_rule(app).await.map_err(fail)?;
            println!("{entered} entered by their sequences' rules");
        }
        SequenceCommand::Advance => {
            let moved = stepping::advance(app).await.map_err(fail)?;
            println!("{moved} steps taken");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Subcommand)]
pub enum TaskCommand {
    /// Tasks, a line each: id, partner, for whom, what was found.
    List {
        /// open, done or all.
        #[arg(long, default_value = "open")]
        state: String,
    },
    /// Look for partners gone quiet now, as the daily job does, and open their tasks.
    FindSilent,
    /// Mark a task done.
    Done { id: uuid::Uuid },
}

pub async fn task(app: &App, command: TaskCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        TaskCommand::List { state } => {
            for t in silence::tasks(app, &caller, Some(&state), false).await.map_err(fail)? {
                let manager = t.staff_email.unwrap_or_else(|| "-".into());
                println!("{}\t{}\t{manager}\t{}", t.id, t.partner_name, t.details.join("; "));
            }
        }
        TaskCommand::FindSilent => {
            let found = silence::find_now(app, &caller).await.map_err(fail)?;
            for f in &found {
                let task = if f.new_task { "new task" } else { "task brought up to date" };
                println!("{}\t{task}\t{}", f.partner_name, f.findings.join("; "));
            }
            eprintln!("{} partner(s) have gone quiet", found.len());
        }
        TaskCommand::Done { id } => {
            silence::done(app, &caller, id).await.map_err(fail)?;
            println!("done {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
