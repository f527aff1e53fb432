//! The silent-partner job: once a day it reads each partner's activity, deals and
//! training against the policy's thresholds for its tier, and for each partner that has
//! gone quiet opens (or brings up to date) a task for its partner manager saying what was
//! found, and, when the policy says so, enrols the partner in the reactivation sequence
//! (once per quiet spell: when its task is opened).
//! Staff list the tasks and mark them done.

use std::collections::BTreeMap;

use serde::Serialize;
use tidings_core::automation::silence::{OpenDeal, PartnerFacts, SilenceAction, SilencePolicy, findings};
use tidings_core::{Action, PartnerId, Timestamp};
use tidings_store::sequences::NewRun;
pub use tidings_store::tasks::Task;
use tidings_store::tasks::{self as store, NewTask, PartnerRow};
use tidings_store::{Tx, settings};

use crate::{App, AppError, Caller, audit};

const SETTING: &str = "silent_partners";
const KIND: &str = "silent_partner";
/// Partners read per transaction.
const PAGE: i64 = 200;

pub async fn policy(app: &App, caller: &Caller) -> Result<SilencePolicy, AppError> {
    caller.require(Action::ReadDirectory, "read the silent-partner policy")?;
    Ok(settings::get_json(&mut app.db.read().await?, SETTING).await?)
}

pub async fn set_policy(app: &App, caller: &Caller, policy: &SilencePolicy) -> Result<SilencePolicy, AppError> {
    caller.require(Action::Configure, "change the silent-partner policy")?;
    policy.validate()?;
    if let Some(tier) = policy.tiers.keys().find(|t| !app.catalog.partner_tiers.contains(t)) {
        let known: Vec<&str> = app.catalog.partner_tiers.iter().map(|t| t.as_str()).collect();
        return Err(AppError::invalid(
            &format!("tiers.{tier}"),
            format!("'{tier}' is not a partner tier; known: {}", known.join(", ")),
        ));
    }
    let mut tx = app.db.begin().await?;
    if let Some(key) = &policy.sequence
        && let Err(e) = tidings_store::sequences::get(&mut tx, key).await
    {
        return match e {
            tidings_store::Error::NotFound => Err(AppError::invalid("sequence", format!("no sequence '{key}'"))),
            other => Err(other.into()),
        };
    }
    let before: SilencePolicy = settings::get_json(&mut tx, SETTING).await?;
    settings::put_json(&mut tx, SETTING, policy).await?;
    audit::entry(caller, "silent_partners.policy", None).before(&before).after(policy).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(policy.clone())
}

/// A partner found silent, and what was done.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Finding {
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub findings: Vec<String>,
    /// A task was opened (false: the open one was brought up to date).
    pub new_task: bool,
    /// It entered the reactivation sequence.
    pub entered_sequence: bool,
}

/// Runs the job now (admins), as the daily run does.
pub async fn find_now(app: &App, caller: &Caller) -> Result<Vec<Finding>, AppError> {
    caller.require(Action::Configure, "look for silent partners")?;
    find(app).await
}

/// The daily job: `find_silent_partners`.
pub async fn find(app: &App) -> Result<Vec<Finding>, AppError> {
    let policy: SilencePolicy = settings::get_json(&mut app.db.read().await?, SETTING).await?;
    let mut found = Vec::new();
    if !policy.enabled {
        return Ok(found);
    }
    let mut after = None;
    loop {
        let now = app.clock.now();
        let mut tx = app.db.begin().await?;
        let partners = store::partners_after(&mut tx, after, PAGE).await?;
        let Some(last) = partners.last() else {
            tx.rollback().await?;
            return Ok(found);
        };
        after = Some(last.id);
        for p in &partners {
            let facts = facts_of(&mut tx, p).await?;
            let reasons = findings(&facts, &policy.for_tier(&p.tier), now);
            if reasons.is_empty() {
                continue;
            }
            found.push(act(&mut tx, &policy, p, reasons, now).await?);
        }
        tx.commit().await?;
        if (partners.len() as i64) < PAGE {
            return Ok(found);
        }
    }
}

async fn facts_of(tx: &mut Tx, p: &PartnerRow) -> Result<PartnerFacts, AppError> {
    let (active_members, last_seen) = store::activity(tx, p.id).await?;
    let mut last_deal = None;
    let mut open: BTreeMap<String, Timestamp> = BTreeMap::new();
    for (kind, data, at) in store::deal_events(tx, p.id).await? {
        let Some(deal) = data.get("deal_id").and_then(|d| d.as_str()).map(str::to_owned) else { continue };
        match kind.as_str() {
            "deal.registered" => {
                last_deal = Some((deal.clone(), at));
                open.insert(deal, at);
            }
            "deal.approved" => {
                open.insert(deal, at);
            }
            _ => {
                open.remove(&deal);
            }
        }
    }
    let open_deals = open.into_iter().map(|(deal_id, last_update)| OpenDeal { deal_id, last_update }).collect();
    Ok(PartnerFacts {
        name: p.name.clone(),
        active_members,
        last_seen,
        last_deal,
        open_deals,
        trained: store::trained(tx, p.id).await?,
        since: p.created_at,
    })
}

async fn act(
    tx: &mut Tx,
    policy: &SilencePolicy,
    p: &PartnerRow,
    reasons: Vec<String>,
    now: Timestamp,
) -> Result<Finding, AppError> {
    let task = NewTask {
        kind: KIND.to_owned(),
        partner_id: p.id,
        staff_id: p.manager,
        title: format!("{} has gone quiet", p.name),
        details: reasons.clone(),
    };
    let new_task = store::open(tx, &task, now).await?;
    let mut entered_sequence = false;
    // Once per quiet spell: while its task is open, a partner is not enrolled again.
    if let (true, SilenceAction::Sequence, Some(key)) = (new_task, policy.action, &policy.sequence) {
        match tidings_store::sequences::get(tx, key).await {
            Ok(s) => {
                let first = s.steps.first().map_or(0, |f| i64::from(f.after_minutes));
                let run = NewRun {
                    sequence_key: s.key.clone(),
                    partner_id: p.id,
                    member_id: None,
                    first_due_at: Timestamp::from_millis(now.as_millis() + first * 60_000),
                    entered_at: now,
                    event_id: None,
                };
                entered_sequence = tidings_store::sequences::enrol(tx, &run).await?;
            }
            Err(tidings_store::Error::NotFound) => {
                tracing::warn!(sequence = %key, "the reactivation sequence no longer exists: only tasks are opened");
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Finding { partner_id: p.id, partner_name: p.name.clone(), findings: reasons, new_task, entered_sequence })
}

/// Tasks, open ones by default; `mine` for the caller's own (a signed-in partner manager).
pub async fn tasks(app: &App, caller: &Caller, state: Option<&str>, mine: bool) -> Result<Vec<Task>, AppError> {
    caller.require(Action::ReadDirectory, "read tasks")?;
    let state = match state.map(str::trim) {
        None | Some("") | Some("open") => Some("open"),
        Some("done") => Some("done"),
        Some("all") => None,
        Some(other) => {
            return Err(AppError::invalid("state", format!("'{other}' is not a task state; known: open, done, all")));
        }
    };
    let staff = if mine { caller.staff } else { None };
    Ok(store::list(&mut app.db.read().await?, state, staff, 500).await?)
}

/// Marks a task done (authors and admins: those who act on what a partner needs).
pub async fn done(app: &App, caller: &Caller, id: uuid::Uuid) -> Result<(), AppError> {
    caller.require(Action::Compose, "close tasks")?;
    let mut tx = app.db.begin().await?;
    store::done(&mut tx, id, &caller.name, app.clock.now()).await.map_err(crate::error::not_found("open task"))?;
    audit::entry(caller, "task.done", id).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}
