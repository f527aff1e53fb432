//! Sequences: saved under a key and checked like triggers; entered on their entry event
//! (the member it names, or its partner when it names none) or their entry rule, left on
//! their goal event, and moved on step by step by the `advance_sequences` job
//! (`stepping`).

use serde::Serialize;
use tidings_core::automation::PartnerEvent;
use tidings_core::automation::event::condition_fields;
use tidings_core::automation::sequence::{Sequence, SequenceDraft};
use tidings_core::{Action, FieldErrors, Slug, Timestamp};
use tidings_store::sequences::{self as store, EventRole, NewRun, SequenceFunnel};
use tidings_store::{Tx, topics};

use super::compose::About;
use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change sequences";
const READ: &str = "read sequences";
const MINUTE_MS: i64 = 60_000;

/// A sequence with where its runs stand.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SequenceSummary {
    #[serde(flatten)]
    pub sequence: Sequence,
    pub funnel: SequenceFunnel,
}

fn key(text: &str) -> Result<Slug, AppError> {
    Slug::parse(text).map_err(|e| AppError::invalid("key", e.to_string()))
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<SequenceSummary>, AppError> {
    caller.require(Action::ReadDirectory, READ)?;
    let mut tx = app.db.read().await?;
    let mut out = Vec::new();
    for sequence in store::list(&mut tx).await? {
        let funnel = store::funnel(&mut tx, &sequence.key, sequence.steps.len()).await?;
        out.push(SequenceSummary { sequence, funnel });
    }
    Ok(out)
}

pub async fn get(app: &App, caller: &Caller, key_text: &str) -> Result<SequenceSummary, AppError> {
    caller.require(Action::ReadDirectory, READ)?;
    let key = key(key_text)?;
    let mut tx = app.db.read().await?;
    let sequence = store::get(&mut tx, &key).await.map_err(not_found("sequence"))?;
    let funnel = store::funnel(&mut tx, &key, sequence.steps.len()).await?;
    Ok(SequenceSummary { sequence, funnel })
}

/// Saves the sequence under its key; runs under way go on with the steps as saved now
/// (a step they have passed is not sent again). Returns it and whether it is new.
pub async fn put(app: &App, caller: &Caller, draft: &SequenceDraft) -> Result<(Sequence, bool), AppError> {
    caller.require(Action::Compose, WRITE)?;
    let mut tx = app.db.begin().await?;
    let draft = with_topic_id(&mut tx, draft).await?;
    let before = match draft.key.as_deref().map(Slug::parse) {
        Some(Ok(k)) => match store::get(&mut tx, &k).await {
            Ok(s) => Some(s),
            Err(tidings_store::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        _ => None,
    };
    let sequence = draft.validate(app.clock.now(), before.as_ref().map(|b| b.created_at))?;
    check_references(app, &mut tx, caller, &sequence).await?;
    let created = store::put(&mut tx, &sequence).await?;
    let mut entry = audit::entry(caller, "sequence.put", None).after(&sequence);
    if let Some(before) = &before {
        entry = entry.before(before);
    }
    entry.write(app, &mut tx).await?;
    tx.commit().await?;
    Ok((sequence, created))
}

/// Deletes the sequence; its runs under way end as exited.
pub async fn delete(app: &App, caller: &Caller, key_text: &str) -> Result<(), AppError> {
    caller.require(Action::Compose, WRITE)?;
    let key = key(key_text)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, &key).await.map_err(not_found("sequence"))?;
    store::delete(&mut tx, &key, app.clock.now()).await?;
    audit::entry(caller, "sequence.delete", None).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn with_topic_id(tx: &mut Tx, draft: &SequenceDraft) -> Result<SequenceDraft, AppError> {
    let topic_id = crate::topics::named(tx, draft.topic.as_deref(), draft.topic_id).await?;
    Ok(SequenceDraft { topic_id, topic: None, ..draft.clone() })
}

async fn check_references(app: &App, tx: &mut Tx, caller: &Caller, s: &Sequence) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    match topics::get(tx, s.topic_id).await {
        Ok(_) => {}
        Err(tidings_store::Error::NotFound) => errors.add("topic_id", "no such topic"),
        Err(e) => return Err(e.into()),
    }
    for (field, t) in [("entry_event", Some(&s.entry_event)), ("goal_event", s.goal_event.as_ref())] {
        if let Some(t) = t
            && super::intake::schema_of(tx, t).await?.is_none()
        {
            errors.add(field, super::intake::unknown_type(t));
        }
    }
    if let Some(text) = &s.entry_condition
        && let Err(e) = tidings_core::audiences::parse_condition(text, &app.catalog)
    {
        errors.add("entry_condition", e.to_string());
    }
    if let Some(text) = &s.entry_rule
        && let Err(e) = tidings_core::audiences::parse(text, &app.catalog)
    {
        errors.add("entry_rule", e.to_string());
    }
    let policy = crate::approvals::policy_in(tx).await?;
    let held = |importance| policy.importances.contains(&importance) || policy.topics.contains(&s.topic_id);
    for (i, step) in s.steps.iter().enumerate() {
        if let Some(text) = &step.condition
            && let Err(e) = tidings_core::audiences::parse(text, &app.catalog)
        {
            errors.add(&format!("steps[{i}].condition"), e.to_string());
        }
        for channel in step.channels.iter().flatten() {
            if !crate::messages::can_reach_someone(app, tx, *channel).await? {
                errors.add(&format!("steps[{i}].channels"), format!("{channel} can reach nobody on this server yet"));
            }
        }
        if held(step.importance) && !caller.role.may(Action::Approve) {
            return Err(AppError::Forbidden("save a sequence whose messages the approval policy holds for approval"));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// What an event does to sequences, in its own transaction: it ends the runs whose goal it
/// is (its member's, and its partner's), then enrols its member (or, naming none, its
/// partner) in the sequences it starts, unless they are in them already.
pub(crate) async fn on_event(
    app: &App,
    tx: &mut Tx,
    event: &PartnerEvent,
    about: &About,
    now: Timestamp,
) -> Result<(), AppError> {
    let goals = store::with_event(tx, &event.event_type, EventRole::Goal).await?;
    if !goals.is_empty() {
        let keys: Vec<&str> = goals.iter().map(|s| s.key.as_str()).collect();
        store::convert(tx, &keys, event.partner_id, about.member.as_ref().map(|m| m.id), now).await?;
    }
    for s in store::with_event(tx, &event.event_type, EventRole::Entry).await? {
        if let Some(text) = &s.entry_condition {
            // A condition that no longer reads enrols nobody; the sequence's page shows none entering.
            if !about.holds(app, text, Some(&condition_fields(&event.data)), now).unwrap_or(false) {
                continue;
            }
        }
        let first = s.steps.first().map_or(0, |f| i64::from(f.after_minutes));
        let run = NewRun {
            sequence_key: s.key.clone(),
            partner_id: event.partner_id,
            member_id: about.member.as_ref().map(|m| m.id),
            first_due_at: Timestamp::from_millis(event.received_at.as_millis() + first * MINUTE_MS),
            entered_at: now,
            event_id: Some(event.id),
        };
        store::enrol(tx, &run).await?;
    }
    Ok(())
}

/// Members a page of the rule entry reads at a time.
const RULE_PAGE: usize = 5_000;

/// Enters the active members each enabled sequence's entry rule selects and who were
/// never in it, a page of member ids at a time; returns how many entered.
pub async fn enrol_by_rule(app: &App) -> Result<u64, AppError> {
    let sequences = {
        let mut tx = app.db.read().await?;
        store::list(&mut tx).await?
    };
    let mut entered = 0;
    for s in sequences.iter().filter(|s| s.enabled && !s.steps.is_empty()) {
        let Some(text) = s.entry_rule.as_deref() else { continue };
        let rule = match tidings_core::audiences::parse(
            &format!("({text}) and member.status = \"active\""),
            &app.catalog,
        ) {
            Ok(rule) => rule,
            Err(e) => {
                tracing::warn!(sequence = %s.key, error = %e, "a sequence's entry rule no longer parses: nobody enters by it");
                continue;
            }
        };
        let mut after = None;
        loop {
            let now = app.clock.now();
            let mut tx = app.db.begin().await?;
            let page = tidings_store::audiences::member_ids(&mut tx, &rule, now, after, RULE_PAGE).await?;
            let Some(last) = page.last().copied() else {
                tx.rollback().await?;
                break;
            };
            let first_due = Timestamp::from_millis(now.as_millis() + i64::from(s.steps[0].after_minutes) * 60_000);
            let runs: Vec<NewRun> = store::never_entered(&mut tx, &s.key, &page)
                .await?
                .into_iter()
                .map(|(member, partner)| NewRun {
                    sequence_key: s.key.clone(),
                    partner_id: partner,
                    member_id: Some(member),
                    first_due_at: first_due,
                    entered_at: now,
                    event_id: None,
                })
                .collect();
            entered += store::enrol_many(&mut tx, &runs).await?;
            tx.commit().await?;
            if page.len() < RULE_PAGE {
                break;
            }
            after = Some(last);
        }
    }
    Ok(entered)
}
