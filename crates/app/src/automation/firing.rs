//! Running the triggers of events that came in: each enabled trigger for the event's type
//! whose condition holds makes one message, addressed to the people it names and
//! scheduled for the event's time plus the trigger's delay; the scheduler releases it
//! like any other. The firing, the message and the removal of the event from the queue
//! are one transaction, and a trigger answers an event at most once.

use std::collections::HashMap;

use tidings_core::audiences::{AudienceDraft, Subject, parse_condition};
use tidings_core::automation::event::condition_fields;
use tidings_core::automation::{EventType, PartnerEvent, Recipients, Trigger};
use tidings_core::messages::{self, Message, MessageState, Personalization, TriggeredBy};
use tidings_core::{
    Attributes, Email, Locale, Member, MemberProfile, MemberStatus, MessageId, Partner, Roles, TimeZone, Timestamp,
};
use tidings_store::partner_events as events;
use tidings_store::triggers::{self as store, Firing};
use tidings_store::{Tx, members, partners};

use crate::{App, AppError};

/// Events per transaction.
const BATCH: i64 = 100;

/// Runs the triggers of every event whose turn has come.
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
                    for trigger in triggers {
                        fire(app, &mut tx, trigger, &event, now).await?;
                    }
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
async fn fire(app: &App, tx: &mut Tx, trigger: &Trigger, event: &PartnerEvent, now: Timestamp) -> Result<(), AppError> {
    let answer = answer(app, tx, trigger, event, now).await?;
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
    now: Timestamp,
) -> Result<Result<Message, String>, AppError> {
    let partner = partners::get(tx, event.partner_id).await?;
    let member = match event.member_id {
        Some(id) => match members::get(tx, id).await {
            Ok(m) => Some(m),
            Err(tidings_store::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    if let Some(text) = &trigger.condition {
        let rule = match parse_condition(text, &app.catalog) {
            Ok(rule) => rule,
            Err(e) => return Ok(Err(format!("failed: the condition no longer reads: {e}"))),
        };
        let data = condition_fields(&event.data);
        let held = match &member {
            Some(m) => rule.matches(subject(&partner, &m.profile, Some(m), &data), now),
            None if rule.reads_member() => false,
            None => rule.matches(subject(&partner, &nobody(&partner), None, &data), now),
        };
        if !held {
            return Ok(Err("condition_not_met".into()));
        }
    }
    let audience = match trigger.recipients {
        Recipients::Member => match &member {
            Some(m) => AudienceDraft { members: vec![m.id], ..Default::default() },
            None => return Ok(Err("no_recipient: the event names no member".into())),
        },
        Recipients::PartnerLeads => in_partner(&partner, "member.role = \"partner_lead\""),
        Recipients::PartnerMembers if trigger.roles.is_empty() => in_partner(&partner, ""),
        Recipients::PartnerMembers => {
            let roles: Vec<String> = trigger.roles.iter().map(|r| format!("\"{}\"", r.as_str())).collect();
            in_partner(&partner, &format!("member.role in ({})", roles.join(", ")))
        }
    };
    let rule = crate::audiences::build(app, tx, &audience).await?.to_rule();
    if tidings_store::audiences::count_members(tx, &rule, now).await? == 0 {
        return Ok(Err("no_recipient: nobody active matches".into()));
    }
    let schema = crate::automation::intake::schema_of(tx, &event.event_type).await?.unwrap_or_default();
    let channels = match &trigger.channels {
        Some(list) => list.clone(),
        None => crate::channel_defaults::resolve(app, tx, trigger.importance).await?,
    };
    let due = Timestamp::from_millis(event.received_at.as_millis() + i64::from(trigger.delay_minutes) * 60_000);
    let message = Message {
        id: MessageId::new(),
        topic_id: trigger.topic_id,
        importance: trigger.importance,
        state: MessageState::Scheduled,
        content: trigger.content.clone(),
        audience,
        channels: Some(channels),
        acknowledgment: None,
        version: 1,
        send_at: Some(due.max(now)),
        time_zone: TimeZone::utc(),
        expires_at: None,
        created_by: format!("trigger:{}", trigger.key),
        created_at: now,
        updated_at: now,
        triggered_by: Some(TriggeredBy {
            trigger: trigger.key.clone(),
            event_id: event.id,
            event_type: event.event_type.clone(),
            data: schema.for_template(&event.data),
        }),
    };
    // A template that cannot be filled from this event's data would fail every delivery.
    let who = match &member {
        Some(m) => Personalization::of(&m.profile, &partner.profile),
        None => Personalization::of_partner(&partner.profile),
    }
    .for_message(&message);
    if let Some(e) = messages::check(&message.content, &who).first() {
        return Ok(Err(format!("failed: the message cannot be filled from this event: {e}")));
    }
    Ok(Ok(message))
}

fn in_partner(partner: &Partner, more: &str) -> AudienceDraft {
    let mut rule = format!("partner.id = \"{}\"", partner.id);
    if !more.is_empty() {
        rule = format!("{rule} and {more}");
    }
    AudienceDraft { rule: Some(rule), ..Default::default() }
}

fn subject<'a>(
    partner: &'a Partner,
    member: &'a MemberProfile,
    stored: Option<&Member>,
    event: &'a Attributes,
) -> Subject<'a> {
    Subject {
        partner: &partner.profile,
        member,
        partner_id: Some(partner.id),
        member_id: stored.map(|m| m.id),
        event: Some(event),
    }
}

/// Stands in for the member of an event that names none, where no member field is read.
fn nobody(partner: &Partner) -> MemberProfile {
    MemberProfile {
        partner_id: partner.id,
        external_id: None,
        email: Email::nobody(),
        phone: None,
        name: String::new(),
        roles: Roles::default(),
        locale: Locale::english(),
        time_zone: TimeZone::utc(),
        working_hours: None,
        status: MemberStatus::Active,
        attributes: Attributes::new(),
        last_seen_at: None,
    }
}
