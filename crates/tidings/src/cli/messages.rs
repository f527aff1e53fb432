//! `tidings message` and `tidings member-token`: the send path from a shell, for scripts
//! and for operators without the web console.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use tidings_app::events::EventQuery;
use tidings_app::{App, Caller, corrections, events, inbox, members, messages, release, topics};
use tidings_core::MessageId;
use tidings_core::deliveries::EventKind;
use tidings_core::messages::{CorrectionDraft, MessageDraft, MessageState};
use tidings_store::messages::MessageFilter;

use super::fail;

#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// Create a draft from a JSON file shaped like the API's `POST /messages` body.
    Create {
        /// The JSON file ('-' for standard input).
        #[arg(long)]
        file: PathBuf,
        /// The topic by key (instead of `topic_id` in the file).
        #[arg(long)]
        topic: Option<String>,
    },
    /// List messages, newest first.
    List {
        /// draft, scheduled, sending, sent or cancelled.
        #[arg(long)]
        state: Option<MessageState>,
    },
    /// A message as JSON.
    Show { id: MessageId },
    /// The message as a member would see it, and the channels it would use for them.
    Preview {
        id: MessageId,
        /// The member's email or id.
        #[arg(long)]
        member: String,
    },
    /// Schedule a draft for a time: RFC 3339 with its offset (2026-12-01T09:00:00+01:00), or
    /// a wall-clock time (2026-12-01T09:00) in --time-zone, else in the message's time zone.
    Schedule {
        id: MessageId,
        #[arg(long)]
        at: String,
        /// An IANA time zone such as Europe/Berlin; it becomes the message's time zone.
        #[arg(long)]
        time_zone: Option<String>,
    },
    /// Return a scheduled message to draft.
    Unschedule { id: MessageId },
    /// Cancel a draft or scheduled message.
    Cancel { id: MessageId },
    /// Approve a draft as the second pair of eyes, when the approval policy asks for one
    /// (the operator approves only what the operator did not write).
    Approve { id: MessageId },
    /// Release now: fan the audience out into inboxes and delivery queues.
    Release { id: MessageId },
    /// Send a copy to the test members of the message's audience.
    TestSend { id: MessageId },
    /// Send the message's email at once to a staff person's address, as a member of its
    /// audience (the first, or --member) would get it, with nothing tracked.
    TestEmail {
        id: MessageId,
        /// A staff person's email address.
        #[arg(long)]
        to: String,
        /// The member to show it as (email or id).
        #[arg(long)]
        member: Option<String>,
    },
    /// The report as JSON: the funnel, deliveries by channel and status, the breakdowns by
    /// partner, type, tier, region and role, and the steps over time.
    Report { id: MessageId },
    /// Who acknowledged the message, partner by partner, as JSON (the console's compliance
    /// page); with --partner, that partner's members; with --csv, every copy as CSV.
    Compliance {
        id: MessageId,
        #[arg(long)]
        partner: Option<tidings_core::PartnerId>,
        #[arg(long, conflicts_with = "partner")]
        csv: bool,
    },
    /// Partners whose obligation on a recent must-know message is overdue or at risk, a
    /// line each: state, due time, partner, message, what is missing.
    Overdue,
    /// Runs the message's next escalation step now, before its time; with --dry-run, shows
    /// each step's time and what it queued, and what the next would queue.
    Chase {
        id: MessageId,
        /// Only say what the next step would do and when (counted, then rolled back).
        #[arg(long)]
        dry_run: bool,
    },
    /// Correct a message that went out, from a JSON file shaped like the API's
    /// `POST /messages/{id}/corrections` body (kind, note, content, statement).
    Correct {
        id: MessageId,
        /// The JSON file ('-' for standard input).
        #[arg(long)]
        file: PathBuf,
        /// material (everyone acknowledges again) or editorial, instead of `kind` in the file.
        #[arg(long)]
        kind: Option<String>,
        /// Why the text changed, instead of `note` in the file.
        #[arg(long)]
        note: Option<String>,
    },
    /// Every version of a corrected message, with what changed, as JSON.
    Versions { id: MessageId },
    /// Build the message's report counts again from its copies and deliveries (after
    /// restoring a backup or changing rows by hand).
    Recount { id: MessageId },
    /// Events as JSON lines, oldest first, every page.
    Events {
        id: MessageId,
        /// Only this kind, such as acknowledged.
        #[arg(long)]
        kind: Option<EventKind>,
    },
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn read_draft<T: serde::de::DeserializeOwned>(file: &PathBuf) -> anyhow::Result<T> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
    };
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))
}

pub async fn run(app: &App, command: MessageCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        MessageCommand::Create { file, topic } => {
            let mut draft: MessageDraft = read_draft(&file)?;
            if let Some(key) = topic {
                draft.topic_id = Some(topics::get_by_key(app, &caller, &key).await.map_err(fail)?.id);
            }
            println!("{}", messages::create(app, &caller, &draft).await.map_err(fail)?.id);
        }
        MessageCommand::List { state } => {
            let filter = MessageFilter { state, topic_id: None, newest_first: false };
            let mut after = None;
            loop {
                let page = messages::list(app, &caller, &filter, after.as_deref(), Some(500)).await.map_err(fail)?;
                for m in &page.items {
                    let title = m
                        .content
                        .variant_for(&m.content.default_locale)
                        .map(|(_, v)| v.title.as_str())
                        .unwrap_or_default();
                    println!("{}  {:<9}  {:<8}  {title}", m.id, m.state.to_string(), m.importance.to_string());
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        MessageCommand::Correct { id, file, kind, note } => {
            let mut draft: CorrectionDraft = read_draft(&file)?;
            draft.kind = kind.or(draft.kind);
            draft.note = note.or(draft.note);
            let done = corrections::correct(app, &caller, id, &draft).await.map_err(fail)?;
            println!(
                "version {} ({}): {} acknowledgments set aside, {} notices queued",
                done.version.version,
                done.version.correction.map_or("", |k| k.as_str()),
                done.acknowledgments_set_aside,
                done.notices_queued
            );
        }
        MessageCommand::Versions { id } => print_json(&corrections::versions(app, &caller, id).await.map_err(fail)?)?,
        MessageCommand::Show { id } => print_json(&messages::get(app, &caller, id).await.map_err(fail)?)?,
        MessageCommand::Preview { id, member } => {
            print_json(&messages::preview(app, &caller, id, &member).await.map_err(fail)?)?
        }
        MessageCommand::Schedule { id, at, time_zone } => {
            let m = messages::schedule_at(app, &caller, id, &at, time_zone.as_deref()).await.map_err(fail)?;
            let stated = m.send_at.map(|t| format!("{} ({})", t.stated(&m.time_zone), t.to_rfc3339()));
            println!("scheduled for {}", stated.unwrap_or_default());
        }
        MessageCommand::Unschedule { id } => {
            messages::unschedule(app, &caller, id).await.map_err(fail)?;
            println!("back to draft");
        }
        MessageCommand::Cancel { id } => {
            messages::cancel(app, &caller, id).await.map_err(fail)?;
            println!("cancelled");
        }
        MessageCommand::Approve { id } => {
            let approval = tidings_app::approvals::approve(app, &caller, id).await.map_err(fail)?;
            println!("approved by {} at {}", approval.approved_by.name, approval.approved_at);
        }
        MessageCommand::Release { id } => {
            let report = release::release(app, &caller, id).await.map_err(fail)?;
            print_release(&report);
        }
        MessageCommand::TestSend { id } => {
            let report = release::test_send(app, &caller, id).await.map_err(fail)?;
            eprintln!("test copy {}", report.message.id);
            print_release(&report);
        }
        MessageCommand::TestEmail { id, to, member } => {
            let request = tidings_app::test_email::TestEmailRequest { to: Some(to), member };
            let sent = tidings_app::test_email::send(app, &caller, id, &request).await.map_err(fail)?;
            println!("sent \"{}\" to {}, as {} would get it", sent.subject, sent.to, sent.shown_as);
        }
        MessageCommand::Report { id } => {
            print_json(&tidings_app::reports::report(app, &caller, id).await.map_err(fail)?)?
        }
        MessageCommand::Compliance { id, partner: Some(partner), .. } => {
            print_json(&tidings_app::compliance::partner(app, &caller, id, partner).await.map_err(fail)?)?
        }
        MessageCommand::Compliance { id, csv: true, .. } => {
            use std::io::Write;
            let mut rows = tidings_app::compliance::export_csv(app, &caller, id).await.map_err(fail)?;
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = rows.recv().await {
                out.write_all(&chunk.map_err(fail)?)?;
            }
            out.flush()?;
        }
        MessageCommand::Compliance { id, .. } => {
            print_json(&tidings_app::compliance::report(app, &caller, id).await.map_err(fail)?)?
        }
        MessageCommand::Overdue => {
            for i in tidings_app::overdue::queue(app, &caller, true).await.map_err(fail)? {
                let due = i.due_at.map(|d| d.to_rfc3339()).unwrap_or_default();
                println!("{}\t{due}\t{}\t{}\t{}", i.state.as_str(), i.partner_name, i.title, i.reason);
            }
        }
        MessageCommand::Chase { id, dry_run } => chase(app, &caller, id, dry_run).await?,
        MessageCommand::Recount { id } => {
            tidings_app::reports::recount(app, &caller, id).await.map_err(fail)?;
            println!("recounted");
        }
        MessageCommand::Events { id, kind } => {
            let mut query = EventQuery { kind, limit: Some(1000), ..Default::default() };
            loop {
                let page = events::list(app, &caller, id, &query).await.map_err(fail)?;
                for event in &page.items {
                    println!("{}", serde_json::to_string(event)?);
                }
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_release(report: &release::ReleaseReport) {
    println!("released to {} inboxes, {} deliveries queued", report.recipients, report.deliveries);
    if !report.channels_not_served.is_empty() {
        let names: Vec<String> = report.channels_not_served.iter().map(ToString::to_string).collect();
        eprintln!("no provider serves {} yet: nothing was queued there", names.join(", "));
    }
}

/// `tidings member-token`: what a vendor's server would hand a member for the inbox API.
pub async fn member_token(app: &App, key: &str, days: i64) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    let member = members::find(app, &caller, key).await.map_err(fail)?;
    let token = inbox::issue_token(app, &caller, member.id, Some(days)).await.map_err(fail)?;
    println!("{}", token.token);
    eprintln!("for {} until {}", member.id, token.expires_at.to_rfc3339());
    Ok(ExitCode::SUCCESS)
}

pub async fn sign_in_link(app: &App, key: &str) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    let member = members::find(app, &caller, key).await.map_err(fail)?;
    let url = tidings_app::sign_in::operator_link(app, &caller, member.id).await.map_err(fail)?;
    println!("{url}");
    eprintln!("for {} ({}), once, within 15 minutes", member.profile.name, member.profile.email);
    Ok(ExitCode::SUCCESS)
}

pub async fn widget_secret(app: &App, rotate: bool) -> anyhow::Result<ExitCode> {
    let secret = if rotate {
        tidings_app::widget::rotate_secret(app, &Caller::operator()).await
    } else {
        tidings_app::widget::secret(app).await
    };
    println!("{}", secret.map_err(fail)?);
    Ok(ExitCode::SUCCESS)
}

pub async fn widget_token(app: &App, key: &str, minutes: i64) -> anyhow::Result<ExitCode> {
    let member = members::find(app, &Caller::operator(), key).await.map_err(fail)?;
    anyhow::ensure!((1..=43_200).contains(&minutes), "minutes: must be between 1 and 43200 (30 days)");
    let secret = tidings_app::widget::secret(app).await.map_err(fail)?;
    let exp = app.clock.now().as_millis() / 1000 + minutes * 60;
    let claims = tidings_app::widget::WidgetClaims { member_id: Some(member.id), exp, ..Default::default() };
    println!("{}", tidings_app::widget::sign(&secret, &claims));
    Ok(ExitCode::SUCCESS)
}

/// Runs the message's next step now; or, with `dry_run`, prints its chase a line a step.
async fn chase(app: &tidings_app::App, caller: &Caller, id: MessageId, dry_run: bool) -> anyhow::Result<()> {
    if !dry_run {
        match tidings_app::chase::run_now(app, caller, id).await.map_err(fail)? {
            Some(ran) => println!("ran {} ({}): {} queued", ran.step.purpose, ran.step.target.as_str(), ran.queued),
            None => println!("no step left to run"),
        }
        return Ok(());
    }
    let Some(plan) = tidings_app::chase::plan(app, caller, id, true).await.map_err(fail)? else {
        anyhow::bail!("message {id} has no escalation ladder running");
    };
    println!("ladder {} ({}), started {}", plan.ladder.key, plan.ladder.name, plan.started_at.to_rfc3339());
    for s in &plan.steps {
        let state = match (s.ran_at, s.queued) {
            (Some(at), Some(n)) => format!("ran {}, {n} queued", at.to_rfc3339()),
            _ => "not yet".to_owned(),
        };
        println!("{}\t{}\t{}\t{}", s.step.due_at.to_rfc3339(), s.step.purpose, s.step.target.as_str(), state);
    }
    match plan.next {
        Some(next) => println!(
            "next: {} to {} at {}: would queue {} as things stand",
            next.step.purpose,
            next.step.target.as_str(),
            next.step.due_at.to_rfc3339(),
            next.queued
        ),
        None => println!("next: nothing; the ladder is done"),
    }
    Ok(())
}
