//! Acknowledgment compliance: for each must-know message, who has and has not
//! acknowledged, by partner and member, with the evidence of each acknowledgment. Every
//! staff role reads it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tidings_core::attestation::{Answers, Rollup};
use tidings_core::messages::Message;
use tidings_core::obligations::{self, PartnerState, QuotaProgress};
use tidings_core::{Action, MemberId, MessageId, PartnerId, Timestamp};
pub use tidings_store::compliance::PartnerStanding;
use tidings_store::compliance::{self as store, Standing, Tally};
use tidings_store::deliveries::chase::ChaseSend;
use tidings_store::{messages, partners};

use crate::csv_cells::SafeWriter;
use crate::error::not_found;
use crate::{App, AppError, Caller};

/// A released must-know message and how far its acknowledgments have come.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Summary {
    pub message_id: MessageId,
    pub title: String,
    pub released_at: Timestamp,
    /// The acknowledgment's due time, or the obligation's hours after the release.
    pub due_at: Option<Timestamp>,
    /// What each partner owes, in words ("1 support and 1 operations").
    pub obligation: String,
    pub tally: Tally,
    /// Partners whose obligation is not met yet (`None` for a message released before
    /// obligations were kept).
    pub partners_unmet: Option<i64>,
    /// Its due time has passed and a partner's obligation is not met (for an older
    /// message: someone has still not acknowledged).
    pub overdue: bool,
}

fn summary(
    message: &Message,
    released_at: Timestamp,
    tally: Tally,
    partners_unmet: Option<i64>,
    now: Timestamp,
) -> Summary {
    let ask = message.acknowledgment.as_ref();
    let due_at = ask.and_then(|a| a.due(released_at));
    let owing = partners_unmet.map_or(tally.outstanding() > 0, |n| n > 0);
    Summary {
        message_id: message.id,
        title: message.title().to_owned(),
        released_at,
        due_at,
        obligation: ask.map(|a| a.obligation.describe()).unwrap_or_default(),
        tally,
        partners_unmet,
        overdue: due_at.is_some_and(|due| obligations::past_due(due, now)) && owing,
    }
}

/// The latest released must-know messages that ask for acknowledgment.
pub async fn messages(app: &App, caller: &Caller, limit: i64) -> Result<Vec<Summary>, AppError> {
    caller.require(Action::ReadDirectory, "read compliance")?;
    let mut tx = app.db.read().await?;
    let released = messages::released_critical(&mut tx, limit).await?;
    let ids: Vec<MessageId> = released.iter().map(|(m, _)| m.id).collect();
    let tallies = store::tallies(&mut tx, &ids).await?;
    let unmet = tidings_store::obligations::unmet_partners(&mut tx, &ids).await?;
    let now = app.clock.now();
    Ok(released
        .iter()
        .map(|(m, at)| {
            let tally = tallies.iter().find(|(id, _)| *id == m.id).map(|(_, t)| *t).unwrap_or_default();
            summary(m, *at, tally, unmet.get(&m.id).copied(), now)
        })
        .collect())
}

/// One message's compliance, partner by partner.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ComplianceReport))]
pub struct Report {
    pub summary: Summary,
    pub statement: Option<String>,
    /// How many partners are in each obligation state.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub states: BTreeMap<PartnerState, i64>,
    /// Overdue partners first, then at risk, open, met and exempt; within a state, those
    /// with the most outstanding first.
    pub partners: Vec<PartnerStanding>,
    /// Per channel, the people sent to there and how many of them read and acknowledged.
    pub by_channel: Vec<crate::channel_report::ChannelFunnel>,
}

pub async fn report(app: &App, caller: &Caller, message: MessageId) -> Result<Report, AppError> {
    caller.require(Action::ReadDirectory, "read compliance")?;
    let mut tx = app.db.read().await?;
    let (m, released_at) = released(&mut tx, message).await?;
    let counted = tidings_store::reports::of_message(&mut tx, message).await?;
    let mut partners = store::by_partner(&mut tx, message, &counted).await?;
    let by_channel = crate::channel_report::by_channel(&mut tx, message, &counted).await?;
    let mut progress = tidings_store::obligations::of_message(&mut tx, message).await?;
    let decided = tidings_store::waivers::of_message(&mut tx, message).await?;
    let now = app.clock.now();
    let due = m.acknowledgment.as_ref().and_then(|a| a.due(released_at));
    let mut states: BTreeMap<PartnerState, i64> = BTreeMap::new();
    for p in &mut partners {
        if let Some(quotas) = progress.remove(&p.partner_id) {
            let standing = obligations::standing(&quotas, released_at, due, now);
            let standing = crate::overdue::with_waiver(standing, decided.get(&p.partner_id), now);
            *states.entry(standing.state).or_default() += 1;
            p.obligation = Some(standing);
            p.quotas = quotas;
        }
    }
    if let Some(form) = m.acknowledgment.as_ref().and_then(|a| a.attestation.as_ref()) {
        let mut totals: HashMap<PartnerId, Rollup> = HashMap::new();
        for (partner, json) in store::attestations(&mut tx, message).await? {
            if let Ok(answers) = serde_json::from_str::<Answers>(&json) {
                totals.entry(partner).or_insert_with(|| Rollup::new(form)).add(&answers);
            }
        }
        for p in &mut partners {
            p.attestation = Some(totals.remove(&p.partner_id).unwrap_or_else(|| Rollup::new(form)));
        }
    }
    partners.sort_by_key(|p| p.obligation.as_ref().map(|o| o.state));
    let tally = partners.iter().fold(Tally::default(), |sum, p| Tally {
        recipients: sum.recipients + p.tally.recipients,
        read: sum.read + p.tally.read,
        acknowledged: sum.acknowledged + p.tally.acknowledged,
    });
    let unmet = (!states.is_empty()).then(|| states.iter().filter(|(s, _)| s.owes()).map(|(_, n)| n).sum());
    Ok(Report {
        summary: summary(&m, released_at, tally, unmet, now),
        statement: m.acknowledgment.as_ref().map(|a| a.statement.clone()),
        states,
        partners,
        by_channel,
    })
}

async fn released(tx: &mut tidings_store::Tx, message: MessageId) -> Result<(Message, Timestamp), AppError> {
    let m = messages::get(tx, message).await.map_err(not_found("message"))?;
    let released_at = messages::released_at(tx, message).await?.ok_or(AppError::NotFound("released message"))?;
    Ok((m, released_at))
}

/// One partner's members on one message.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerReport {
    pub summary: Summary,
    pub partner_id: PartnerId,
    pub partner_name: Option<String>,
    /// Where the partner stands on the obligation, quota by quota.
    pub obligation: Option<obligations::ObligationStanding>,
    pub quotas: Vec<QuotaProgress>,
    pub members: Vec<Standing>,
    /// The reminders and escalations its people were sent (or that wait for their working
    /// hours), oldest first; at most 500.
    pub chase: Vec<ChaseSend>,
}

pub async fn partner(
    app: &App,
    caller: &Caller,
    message: MessageId,
    partner: PartnerId,
) -> Result<PartnerReport, AppError> {
    caller.require(Action::ReadDirectory, "read compliance")?;
    let mut tx = app.db.read().await?;
    let (m, released_at) = released(&mut tx, message).await?;
    let members = store::of_partner(&mut tx, message, partner).await?;
    if members.is_empty() {
        return Err(AppError::NotFound("partner on this message"));
    }
    let tally = Tally {
        recipients: i64::try_from(members.len()).unwrap_or(i64::MAX),
        read: members.iter().filter(|s| s.read_at.is_some()).count() as i64,
        acknowledged: members.iter().filter(|s| s.acknowledged_at.is_some()).count() as i64,
    };
    let partner_name = partners::get(&mut tx, partner).await.ok().map(|p| p.profile.name);
    let quotas = tidings_store::obligations::of_partner(&mut tx, message, partner).await?;
    let now = app.clock.now();
    let due = m.acknowledgment.as_ref().and_then(|a| a.due(released_at));
    let waiver = tidings_store::waivers::of_partner(&mut tx, message, partner).await?;
    let obligation = (!quotas.is_empty()).then(|| {
        crate::overdue::with_waiver(obligations::standing(&quotas, released_at, due, now), waiver.as_ref(), now)
    });
    let unmet = obligation.as_ref().map(|o| i64::from(o.state.owes()));
    let chase = tidings_store::deliveries::chase::sends_to_partner(&mut tx, message, partner, CHASE_SHOWN).await?;
    Ok(PartnerReport {
        summary: summary(&m, released_at, tally, unmet, now),
        partner_id: partner,
        partner_name,
        obligation,
        quotas,
        members,
        chase,
    })
}

/// The reminders and escalations a partner's report lists.
const CHASE_SHOWN: i64 = 500;

/// Copies per page of the export: each page is one short read, so a million rows never sit
/// in memory and never hold a transaction open for long.
const EXPORT_PAGE: i64 = 5_000;

/// The evidence of every copy of the message as CSV, streamed: the member, their partner,
/// when it was released, read and acknowledged, and the acknowledgment's locale,
/// statement, content hash, IP address and user agent. The checks run before this
/// returns; the rows follow on the receiver a page at a time (an error ends the stream).
pub async fn export_csv(
    app: &App,
    caller: &Caller,
    message: MessageId,
) -> Result<tokio::sync::mpsc::Receiver<Result<Vec<u8>, AppError>>, AppError> {
    caller.require(Action::ReadDirectory, "export compliance")?;
    released(&mut app.db.read().await?, message).await?;
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = write_pages(&app, message, &sender).await {
            let _ = sender.send(Err(e)).await;
        }
    });
    Ok(receiver)
}

const HEADER: [&str; 14] = [
    "member_id",
    "name",
    "email",
    "partner_id",
    "partner",
    "roles",
    "released_at",
    "read_at",
    "acknowledged_at",
    "locale",
    "statement",
    "content_sha256",
    "ip",
    "user_agent",
];

async fn write_pages(
    app: &App,
    message: MessageId,
    out: &tokio::sync::mpsc::Sender<Result<Vec<u8>, AppError>>,
) -> Result<(), AppError> {
    let fail = |e: csv::Error| AppError::Unexpected(anyhow::anyhow!("writing the export: {e}"));
    let mut csv = SafeWriter::new(Vec::new());
    // The attestation's answers follow, a column per field of the form.
    let form = {
        let m = messages::get(&mut app.db.read().await?, message).await?;
        m.acknowledgment.and_then(|a| a.attestation)
    };
    let keys: Vec<String> = form.iter().flat_map(|f| f.fields.iter().map(|f| f.key.to_string())).collect();
    let header: Vec<String> =
        HEADER.iter().map(|h| (*h).to_owned()).chain(keys.iter().map(|k| format!("answer.{k}"))).collect();
    csv.write_record(&header).map_err(fail)?;
    let mut names = std::collections::HashMap::<PartnerId, String>::new();
    let mut after: Option<MemberId> = None;
    loop {
        let mut tx = app.db.read().await?;
        let page = store::page(&mut tx, message, after, EXPORT_PAGE).await?;
        for s in &page {
            if let Some(p) = s.partner_id.filter(|p| !names.contains_key(p)) {
                let name = partners::get(&mut tx, p).await.map(|p| p.profile.name).unwrap_or_default();
                names.insert(p, name);
            }
        }
        drop(tx);
        let Some(last) = page.last() else { break };
        after = Some(last.member_id);
        for s in &page {
            let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
            let e = s.evidence.as_ref();
            let roles: Vec<&str> = s.roles.iter().map(|r| r.as_str()).collect();
            let answers = keys.iter().map(|k| {
                let answer = e.and_then(|e| e.attestation.as_ref()).and_then(|a| a.0.get(k));
                answer.map(|a| a.display()).unwrap_or_default()
            });
            let record: Vec<String> = [
                s.member_id.to_string(),
                s.name.clone().unwrap_or_else(|| "(erased)".into()),
                s.email.clone().unwrap_or_default(),
                s.partner_id.map(|p| p.to_string()).unwrap_or_default(),
                s.partner_id.and_then(|p| names.get(&p).cloned()).unwrap_or_default(),
                roles.join(";"),
                s.released_at.to_string(),
                time(s.read_at),
                time(s.acknowledged_at),
                e.map(|e| e.locale.clone()).unwrap_or_default(),
                e.map(|e| e.statement.clone()).unwrap_or_default(),
                e.map(|e| e.content_hash.clone()).unwrap_or_default(),
                e.and_then(|e| e.ip.clone()).unwrap_or_default(),
                e.and_then(|e| e.user_agent.clone()).unwrap_or_default(),
            ]
            .into_iter()
            .chain(answers)
            .collect();
            csv.write_record(&record).map_err(fail)?;
        }
        let chunk = std::mem::replace(&mut csv, SafeWriter::new(Vec::new())).into_inner().map_err(unwritten)?;
        if out.send(Ok(chunk)).await.is_err() {
            return Ok(()); // the client went away
        }
    }
    let rest = csv.into_inner().map_err(unwritten)?;
    if !rest.is_empty() {
        let _ = out.send(Ok(rest)).await;
    }
    Ok(())
}

fn unwritten(e: std::io::Error) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("writing the export: {e}"))
}
