//! Chasing what must be known: each released message with an escalation ladder runs it
//! step by step. A step reminds the members who still owe an acknowledgment on their next
//! open channel, or tells their partner's lead who is outstanding; each send is a delivery
//! with the step's purpose, due at the member's next working-hours slot. A step runs in
//! one transaction with the ladder moving on, so it runs once, whole, even with two
//! workers or a crash between steps. Acknowledging withdraws what is still queued.

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::escalation::{Ladder, ScheduledStep, StepTarget};
use tidings_core::messages::Importance;
use tidings_core::working_hours::WorkingHours;
use tidings_core::{Action, MessageId, PartnerId, TimeZone, Timestamp};
use tidings_store::Tx;
use tidings_store::deliveries::chase::{self, Chase, Slot};
use tidings_store::ladders::{self, Running, StepRun};

use crate::{App, AppError, Caller};

/// The channels reminders go through, in turn (the inbox holds the message throughout).
pub const CHANNEL_ORDER: [Channel; 4] = [Channel::Email, Channel::Slack, Channel::Sms, Channel::WebPush];

/// The channels of `CHANNEL_ORDER` this instance can send, in order.
pub(crate) fn reminder_channels(app: &App) -> Vec<Channel> {
    CHANNEL_ORDER.into_iter().filter(|c| app.channels.provides(*c)).collect()
}

/// Ladders looked at per tick.
const PER_TICK: i64 = 100;

/// Runs every ladder step that has come due.
pub async fn tick(app: &App) -> Result<(), AppError> {
    let now = app.clock.now();
    let due = ladders::due(&mut app.db.read().await?, now, PER_TICK).await?;
    for running in due {
        if let Err(e) = run_due_step(app, running.message_id, now).await {
            tracing::error!(message = %running.message_id, error = %e, "a chase step failed; it runs on the next tick");
        }
    }
    Ok(())
}

/// What one step queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StepOutcome {
    pub step: ScheduledStep,
    pub queued: u64,
}

/// Runs the message's next step if it is due at `now` and no other worker ran it first.
pub async fn run_due_step(app: &App, message: MessageId, now: Timestamp) -> Result<Option<StepOutcome>, AppError> {
    run_step(app, message, now, None).await
}

/// Runs the message's next step at once, before its time (a partner manager's "escalate
/// now"); the steps after it keep their times. In the audit log.
pub async fn run_now(app: &App, caller: &Caller, message: MessageId) -> Result<Option<StepOutcome>, AppError> {
    caller.require(Action::Compose, "chase a message")?;
    run_step(app, message, app.clock.now(), Some(caller)).await
}

/// Runs the next step when due (or at once, for `early`'s caller) in one transaction.
async fn run_step(
    app: &App,
    message: MessageId,
    now: Timestamp,
    early: Option<&Caller>,
) -> Result<Option<StepOutcome>, AppError> {
    let mut tx = app.db.begin().await?;
    let Some(running) = ladders::running_locked(&mut tx, message).await? else { return Ok(None) };
    let due = running.next_due_at.is_some_and(|due| due <= now || early.is_some());
    if !due {
        tx.rollback().await?;
        return Ok(None);
    }
    let schedule = running.ladder.schedule(running.started_at);
    let Some(step) = schedule.get(usize::from(running.next_step)).copied() else {
        ladders::stop(&mut tx, message).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let queued = queue_step(app, &mut tx, &running, step, now, None).await?;
    let next = schedule.get(usize::from(running.next_step) + 1).map(|s| s.due_at);
    // Nobody owes any more: nothing later would be sent.
    let owing = tidings_store::obligations::unmet_partners(&mut tx, &[message]).await?;
    let next = next.filter(|_| owing.get(&message).copied().unwrap_or(0) > 0);
    if !ladders::advance(&mut tx, message, running.next_step, next).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let run = StepRun {
        step: step.index,
        purpose: step.purpose.to_string(),
        target: step.target.as_str().to_owned(),
        ran_at: now,
        queued: i64::try_from(queued).unwrap_or(i64::MAX),
    };
    ladders::record_step(&mut tx, message, &run).await?;
    if let Some(caller) = early {
        let what = serde_json::json!({"step": step, "queued": queued});
        crate::audit::entry(caller, "message.chase_now", message.as_uuid()).after(&what).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    tracing::info!(%message, step = %step.purpose, target = step.target.as_str(), queued, "chase step ran");
    Ok(Some(StepOutcome { step, queued }))
}

/// Tells the partner's lead now, whatever the hour, who still owes (a partner manager's
/// "escalate now"), as the partner's next escalation step; in the audit log. Returns how
/// many notices it queued.
pub async fn escalate_partner(
    app: &App,
    caller: &Caller,
    message: MessageId,
    partner: PartnerId,
) -> Result<u64, AppError> {
    caller.require(Action::Compose, "escalate a partner's obligation")?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let m = tidings_store::messages::get(&mut tx, message).await.map_err(crate::error::not_found("message"))?;
    let topic = tidings_store::topics::get(&mut tx, m.topic_id).await?;
    let owes = tidings_store::obligations::of_partner(&mut tx, message, partner).await?;
    if !owes.iter().any(|q| q.in_scope > 0 && q.met_at.is_none()) {
        return Err(AppError::Conflict("this partner owes nothing on this message".into()));
    }
    let n = chase::escalations_sent(&mut tx, message, partner).await?.saturating_add(1);
    let channels = reminder_channels(app);
    let step = Chase {
        message_id: message,
        topic_key: &topic.key,
        purpose: tidings_core::deliveries::Purpose::Escalation(n),
        turn: 1,
        channels: &channels,
        slots: &[],
        due_at: now,
        now,
        partner: Some(partner),
    };
    let queued = chase::notify_leads(&mut tx, &step).await?;
    if queued == 0 {
        return Err(AppError::Conflict(
            "nobody at this partner can be told: it has no partner lead with a channel Tidings can reach".into(),
        ));
    }
    let what = serde_json::json!({"partner_id": partner, "purpose": step.purpose, "queued": queued});
    crate::audit::entry(caller, "obligation.escalate", message.as_uuid()).after(&what).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Queues `step`'s sends (only `partner`'s people, when given), as of `now`.
async fn queue_step(
    app: &App,
    tx: &mut Tx,
    running: &Running,
    step: ScheduledStep,
    now: Timestamp,
    partner: Option<PartnerId>,
) -> Result<u64, AppError> {
    let message = tidings_store::messages::get(tx, running.message_id).await?;
    let topic = tidings_store::topics::get(tx, message.topic_id).await?;
    let channels = reminder_channels(app);
    // The partner managers' notices are staff email, sent at once.
    let slots = match step.target {
        StepTarget::PartnerManager => Vec::new(),
        _ => slots(tx, &running.ladder, message.importance, now).await?,
    };
    let turn = match step.purpose {
        tidings_core::deliveries::Purpose::Reminder(n) => n,
        _ => 1,
    };
    let chase = Chase {
        message_id: running.message_id,
        topic_key: &topic.key,
        purpose: step.purpose,
        turn,
        channels: &channels,
        slots: &slots,
        due_at: now,
        now,
        partner,
    };
    Ok(match step.target {
        StepTarget::Members => chase::remind_members(tx, &chase).await?,
        StepTarget::PartnerLead => chase::notify_leads(tx, &chase).await?,
        // The vendor's partner managers are staff, not members: a notice each, naming
        // their partners that still owe when it goes.
        StepTarget::PartnerManager if partner.is_none() => {
            tidings_store::staff_notices::queue_managers(tx, running.message_id, step.purpose, now, now).await?
        }
        StepTarget::PartnerManager => 0,
    })
}

/// Each time zone's and working hours' next slot from `now`, for the members a step may
/// chase;
/// none (send at once) for a must-know message whose ladder lets it through.
async fn slots(tx: &mut Tx, ladder: &Ladder, importance: Importance, now: Timestamp) -> Result<Vec<Slot>, AppError> {
    if importance == Importance::Critical && !ladder.working_hours_only {
        return Ok(Vec::new());
    }
    Ok(next_slots(chase::time_zones(tx).await?, Some(WorkingHours::default()), now))
}

/// The quiet hours of a broadcast: each time zone's next slot in the working hours a
/// partner or member set (the instance's nine-to-five default applies to chasing only;
/// people with no hours of their own or their partner's are sent to at once).
pub(crate) async fn quiet_hours(app: &App, now: Timestamp) -> Result<Vec<Slot>, AppError> {
    let mut tx = app.db.read().await?;
    Ok(next_slots(chase::time_zones(&mut tx).await?, None, now))
}

/// Each (time zone, working hours) pair's next slot from `now`; a pair with no hours of
/// its own takes `fallback`, or is left out (sent at once) without one.
fn next_slots(zones: Vec<(String, Option<String>)>, fallback: Option<WorkingHours>, now: Timestamp) -> Vec<Slot> {
    zones
        .into_iter()
        .filter_map(|(time_zone, working_hours)| {
            let hours = working_hours.as_deref().and_then(|w| w.parse::<WorkingHours>().ok()).or(fallback)?;
            let at = TimeZone::parse(&time_zone).map_or(now, |tz| hours.next_slot(&tz, now));
            Some(Slot { time_zone, working_hours, at })
        })
        .collect()
}

/// A message's ladder, what ran and what comes next.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChasePlan {
    pub ladder: Ladder,
    pub started_at: Timestamp,
    pub steps: Vec<PlannedStep>,
    /// The step that runs next, if any is left (none once every partner has done what
    /// the message asks).
    pub next_step: Option<ScheduledStep>,
    /// On a dry run, the next step and how many sends it would queue if it ran at its
    /// time with things as they stand now.
    pub next: Option<StepOutcome>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlannedStep {
    pub step: ScheduledStep,
    /// When it ran and what it queued; `None`: not yet.
    pub ran_at: Option<Timestamp>,
    pub queued: Option<i64>,
}

/// The message's chase as it stands; with `dry_run`, what the next step would queue (its
/// sends queued, counted and rolled back: as long as the step itself takes). `None` when
/// the message has no ladder running.
pub async fn plan(
    app: &App,
    caller: &Caller,
    message: MessageId,
    dry_run: bool,
) -> Result<Option<ChasePlan>, AppError> {
    caller.require(Action::ReadDirectory, "read compliance")?;
    let mut tx = app.db.begin().await?;
    let Some(running) = ladders::running(&mut tx, message).await? else { return Ok(None) };
    let ran = ladders::steps_run(&mut tx, message).await?;
    let schedule = running.ladder.schedule(running.started_at);
    let steps = schedule
        .iter()
        .map(|s| {
            let run = ran.iter().find(|r| r.step == s.index);
            PlannedStep { step: *s, ran_at: run.map(|r| r.ran_at), queued: run.map(|r| r.queued) }
        })
        .collect();
    let next = match (running.next_due_at, schedule.get(usize::from(running.next_step))) {
        (Some(_), Some(step)) if dry_run => {
            let at = step.due_at.max(app.clock.now());
            let queued = queue_step(app, &mut tx, &running, *step, at, None).await?;
            Some(StepOutcome { step: *step, queued })
        }
        _ => None,
    };
    let next_step = match running.next_due_at {
        Some(_) => schedule.get(usize::from(running.next_step)).copied(),
        None => None,
    };
    tx.rollback().await?;
    Ok(Some(ChasePlan { ladder: running.ladder, started_at: running.started_at, steps, next_step, next }))
}
