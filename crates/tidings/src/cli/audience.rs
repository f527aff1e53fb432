//! `tidings segment` and `tidings audience`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use tidings_app::audiences::{self, AudienceDraft};
use tidings_app::segments::{self, SegmentDraft};
use tidings_app::{App, AppError, Caller};

use super::fail;
use tidings_core::SegmentId;
use tidings_store::audiences::Bucket;

#[derive(Debug, Subcommand)]
pub enum SegmentCommand {
    /// List saved segments.
    List,
    /// Save a segment; the rule is checked now.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        rule: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a segment.
    Delete { id: SegmentId },
}

#[derive(Debug, Subcommand)]
pub enum AudienceCommand {
    /// Size, breakdown and a sample of an audience.
    Preview(AudienceArgs),
    /// Only the number of members an audience reaches.
    Count(AudienceArgs),
    /// Every member id of an audience, one a line, streamed.
    Members(AudienceArgs),
    /// Why a member is in or out of an audience.
    Explain {
        /// The member's email or id.
        #[arg(long)]
        member: String,
        /// A topic key: also show which channels a message on it may use.
        #[arg(long)]
        topic: Option<String>,
        #[command(flatten)]
        audience: AudienceArgs,
    },
}

#[derive(Debug, Args)]
pub struct AudienceArgs {
    /// An audience rule, such as 'member.role = "support"'.
    #[arg(long)]
    rule: Option<String>,
    /// A saved segment's id (repeatable).
    #[arg(long = "segment")]
    segments: Vec<SegmentId>,
    /// A partner group key (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// A partner's id: all its members (repeatable).
    #[arg(long = "partner")]
    partners: Vec<tidings_core::PartnerId>,
    /// A member's id (repeatable).
    #[arg(long = "member-id")]
    members: Vec<tidings_core::MemberId>,
    /// Members matching this rule stay out.
    #[arg(long)]
    exclude_rule: Option<String>,
    /// A saved segment whose members stay out (repeatable).
    #[arg(long = "exclude-segment")]
    exclude_segments: Vec<SegmentId>,
    /// A member's id that stays out (repeatable).
    #[arg(long = "exclude-member")]
    exclude_members: Vec<tidings_core::MemberId>,
    /// A test send: test members only.
    #[arg(long)]
    test_send: bool,
}

impl AudienceArgs {
    fn draft(&self) -> AudienceDraft {
        AudienceDraft {
            rule: self.rule.clone(),
            segments: self.segments.clone(),
            partner_groups: self.groups.clone(),
            partners: self.partners.clone(),
            members: self.members.clone(),
            exclude_rule: self.exclude_rule.clone(),
            exclude_segments: self.exclude_segments.clone(),
            exclude_members: self.exclude_members.clone(),
            test_send: self.test_send,
            ..Default::default()
        }
    }
}

pub async fn segment(app: &App, command: SegmentCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        SegmentCommand::List => {
            let mut after = None;
            loop {
                let page = segments::list(app, &caller, after.as_deref(), Some(500)).await.map_err(fail)?;
                for s in &page.items {
                    println!("{}  {}  {}", s.id, s.name, s.rule);
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        SegmentCommand::Create { name, rule, description } => {
            let draft = SegmentDraft { name: Some(name), rule: Some(rule), description: Some(description) };
            let s = segments::create(app, &caller, &draft).await.map_err(fail)?;
            println!("{}", s.id);
        }
        SegmentCommand::Delete { id } => segments::delete(app, &caller, id).await.map_err(fail)?,
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn audience(app: &App, command: AudienceCommand) -> anyhow::Result<ExitCode> {
    let caller = Caller::operator();
    match command {
        AudienceCommand::Preview(args) => {
            let p = audiences::preview(app, &caller, &args.draft()).await.map_err(fail)?;
            println!("{} member(s)", p.size);
            let line = |title: &str, buckets: &[Bucket]| {
                let parts: Vec<String> = buckets.iter().map(|b| format!("{} {}", b.value, b.count)).collect();
                println!("  by {title}: {}", parts.join(", "));
            };
            line("partner type", &p.breakdown.partner_type);
            line("tier", &p.breakdown.tier);
            line("region", &p.breakdown.region);
            line("role", &p.breakdown.role);
            for m in &p.sample {
                println!("  e.g. {} <{}>", m.profile.name, m.profile.email);
            }
            for w in &p.warnings {
                eprintln!("note: {w}");
            }
        }
        AudienceCommand::Count(args) => {
            println!("{}", audiences::count(app, &caller, &args.draft()).await.map_err(fail)?);
        }
        AudienceCommand::Members(args) => {
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let total = audiences::each_member(app, &caller, &args.draft(), |ids| {
                for id in ids {
                    writeln!(out, "{id}").map_err(|e| AppError::Unexpected(e.into()))?;
                }
                Ok(())
            })
            .await
            .map_err(fail)?;
            out.flush()?;
            eprintln!("{total} member(s)");
        }
        AudienceCommand::Explain { member, topic, audience } => {
            let e =
                audiences::explain(app, &caller, &audience.draft(), &member, topic.as_deref()).await.map_err(fail)?;
            println!("{} ({}): {}", e.email, e.partner, e.explanation.summary);
            for part in &e.explanation.parts {
                let mark = if part.matched { "yes" } else { "no " };
                println!("  [{mark}] {} {}", part.role, part.label);
                for c in &part.conditions {
                    println!("        {} {}", if c.held { "+" } else { "-" }, c.condition);
                }
            }
            for c in &e.channels {
                println!("  {:<8} {} ({})", c.channel.as_str(), if c.allowed { "open" } else { "closed" }, c.reason);
            }
            if let Some(d) = &e.digest {
                println!("  {:<8} {} ({})", "digest", d.frequency, d.reason);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
