//! Running what events set off, event by event in the order they came in: each enabled
//! trigger for the event's type whose condition holds makes one message, addressed to the
//! people it names and scheduled for the event's time plus the trigger's delay (the
//! scheduler releases it like any other); the event enrols its member (or partner) in the
//! sequences it starts and ends the runs whose goal it is. The answers, the messages and
//! the removal of the event from the queue are one transaction, and a trigger answers an
//! event at most once.

use std::collections::HashMap;

use tidings_core::Timestamp;
use tidings_core::automation::event::condition_fields;
use tidings_core::automation::{EventType, PartnerEvent, Recipients, Trigger};
use tidings_core::messages::TriggeredBy;
use tidings_store::Tx;
use tidings_store::partner_events as events;
use tidings_store::triggers::{self as store, Firing};

use super::compose::{About, Spec, make};
use crate::{App, AppError};

/// Events per transaction.
const BATCH: i64 = 100;

/// Runs what every event whose turn has come sets off.
pub async fn run_due(app: &App) -> Result<(), AppError> {
    let mut by_type: HashMap<EventType, Vec<Trigger>> = HashMap::new();
    loop {
        let now = app.clock.now();
        let mut tx = app.db.begin().await?;
        let due = events::take_pending(&mut tx, now, BATCH).await?;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(());
        }
        for id in &due {
            match events::get(&mut tx, *id).await {
                Ok(event) => {
                    if !by_type.contains_key(&event.event_type) {
                        let found = store::enabled_for(&mut tx, &event.event_type).await?;
                        by_type.insert(event.event_type.clone(), found);
                    }
                    let triggers = by_type.get(&event.event_type).map(Vec::as_slice).unwrap_or_default();
                    let about = About::read(&mut tx, event.partner_id, event.member_id).await?;
                    for trigger in triggers {
                        fire(app, &mut tx, trigger, &event, &about, now).await?;
                    }
                    super::sequences::on_event(app, &mut tx, &event, &about, now).await?;
                }
                // Its partner was deleted since: nothing to answer.
                Err(tidings_store::Error::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
            events::done(&mut tx, *id).await?;
        }
        tx.commit().await?;
        if (due.len() as i64) < BATCH {
            return Ok(());
        }
    }
}

/// One trigger's answer to one event, recorded whatever it is.
async fn fire(
    app: &App,
    tx: &mut Tx,
    trigger: &Trigger,
    event: &PartnerEvent,
    about: &About,
    now: Timestamp,
) -> Result<(), AppError> {
    let answer = answer(app, tx, trigger, event, about, now).await?;
    let (message_id, outcome) = match &answer {
        Ok(message) => (Some(message.id), "sent".to_owned()),
        Err(outcome) => (None, outcome.clone()),
    };
    let firing = Firing { trigger: trigger.key.to_string(), event_id: event.id, message_id, outcome, fired_at: now };
    // Answered before (the event queued twice): the first answer stands.
    if store::record_firing(tx, &firing).await?
        && let Ok(message) = &answer
    {
        tidings_store::messages::insert(tx, message).await?;
    }
    Ok(())
}

/// The message the trigger makes for the event, or why it makes none.
async fn answer(
    app: &App,
    tx: &mut Tx,
    trigger: &Trigger,
    event: &PartnerEvent,
    about: &About,
    now: Timestamp,
) -> Result<Result<tidings_core::messages::Message, String>, AppError> {
    if let Some(text) = &trigger.condition {
        match about.holds(app, text, Some(&condition_fields(&event.data)), now) {
            Ok(true) => {}
            Ok(false) => return Ok(Err("condition_not_met".into())),
            Err(why) => return Ok(Err(format!("failed: {why}"))),
        }
    }
    let schema = super::intake::schema_of(tx, &event.event_type).await?.unwrap_or_default();
    if trigger.recipients == Recipients::PartnerManager {
        return Ok(Err(manager_task(tx, trigger, event, about, schema.for_template(&event.data), now).await?));
    }
    let Some(audience) = about.audience(trigger.recipients, &trigger.roles) else {
        return Ok(Err("no_recipient: the event names no member".into()));
    };
    let spec = Spec {
        topic_id: trigger.topic_id,
        importance: trigger.importance,
        channels: trigger.channels.as_deref(),
        content: &trigger.content,
        audience,
        send_at: Timestamp::from_millis(event.received_at.as_millis() + i64::from(trigger.delay_minutes) * 60_000),
        created_by: format!("trigger:{}", trigger.key),
        triggered_by: Some(TriggeredBy {
            trigger: trigger.key.clone(),
            event_id: event.id,
            event_type: event.event_type.clone(),
            data: schema.for_template(&event.data),
        }),
    };
    make(app, tx, about, spec, now).await
}

/// A trigger for the partner's manager opens a task for them (one per event) with the
/// message's title and summary filled from the event; the answer says so.
async fn manager_task(
    tx: &mut Tx,
    trigger: &Trigger,
    event: &PartnerEvent,
    about: &About,
    data: serde_json::Value,
    now: Timestamp,
) -> Result<String, AppError> {
    let Some(email) = &about.partner.profile.partner_manager else {
        return Ok("no_recipient: the partner has no partner manager".into());
    };
    let Some(manager) = tidings_store::staff::find_by_email(tx, email).await? else {
        return Ok("no_recipient: the partner manager is no longer staff".into());
    };
    let mut who = about.reader();
    who.event = data;
    let locale = trigger.content.default_locale.clone();
    let (_, title, summary) = match tidings_core::messages::headline(&trigger.content, &locale, &who) {
        Ok(h) => h,
        Err(e) => return Ok(format!("failed: the message cannot be filled: {e}")),
    };
    let task = tidings_store::tasks::NewTask {
        kind: format!("trigger:{}:{}", trigger.key, event.id),
        partner_id: about.partner.id,
        staff_id: Some(manager.id),
        title,
        details: if summary.is_empty() { Vec::new() } else { vec![summary] },
    };
    tidings_store::tasks::open(tx, &task, now).await?;
    Ok(format!("task for {email}"))
}
