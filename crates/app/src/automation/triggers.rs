//! Triggers staff define: saved under a key, checked against what they point at (the
//! topic, the event type and the fields its schema names, the condition against the
//! vocabularies), and, where the approval policy asks for a second person, saved only by
//! someone who may approve: a trigger sends without anyone looking again.

use serde::Serialize;
use tidings_core::automation::{Trigger, TriggerDraft};
use tidings_core::{Action, FieldErrors, Slug};
use tidings_store::triggers::{self as store, FiringCounts};
use tidings_store::{Tx, topics};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change triggers";
const READ: &str = "read triggers";

fn key(text: &str) -> Result<Slug, AppError> {
    Slug::parse(text).map_err(|e| AppError::invalid("key", e.to_string()))
}

/// A trigger with what it has done so far.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TriggerSummary {
    #[serde(flatten)]
    pub trigger: Trigger,
    pub firings: FiringCounts,
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<TriggerSummary>, AppError> {
    caller.require(Action::ReadDirectory, READ)?;
    let mut tx = app.db.read().await?;
    let mut out = Vec::new();
    for trigger in store::list(&mut tx).await? {
        let firings = store::counts(&mut tx, &trigger.key).await?;
        out.push(TriggerSummary { trigger, firings });
    }
    Ok(out)
}

pub async fn get(app: &App, caller: &Caller, key_text: &str) -> Result<TriggerSummary, AppError> {
    caller.require(Action::ReadDirectory, READ)?;
    let key = key(key_text)?;
    let mut tx = app.db.read().await?;
    let trigger = store::get(&mut tx, &key).await.map_err(not_found("trigger"))?;
    let firings = store::counts(&mut tx, &key).await?;
    Ok(TriggerSummary { trigger, firings })
}

/// Saves the trigger under its key (replacing one of that key); events already answered
/// keep their answers. Returns it and whether it is new.
pub async fn put(app: &App, caller: &Caller, draft: &TriggerDraft) -> Result<(Trigger, bool), AppError> {
    caller.require(Action::Compose, WRITE)?;
    let mut tx = app.db.begin().await?;
    let draft = with_topic_id(&mut tx, draft).await?;
    let now = app.clock.now();
    let before = match draft.key.as_deref().map(Slug::parse) {
        Some(Ok(k)) => match store::get(&mut tx, &k).await {
            Ok(t) => Some(t),
            Err(tidings_store::Error::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        _ => None,
    };
    let trigger = draft.validate(now, before.as_ref().map(|b| b.created_at))?;
    check_references(app, &mut tx, &trigger).await?;
    check_approval(&mut tx, caller, &trigger).await?;
    let created = store::put(&mut tx, &trigger).await?;
    let mut entry = audit::entry(caller, "trigger.put", None).after(&trigger);
    if let Some(before) = &before {
        entry = entry.before(before);
    }
    entry.write(app, &mut tx).await?;
    tx.commit().await?;
    Ok((trigger, created))
}

pub async fn delete(app: &App, caller: &Caller, key_text: &str) -> Result<(), AppError> {
    caller.require(Action::Compose, WRITE)?;
    let key = key(key_text)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, &key).await.map_err(not_found("trigger"))?;
    store::delete(&mut tx, &key).await?;
    audit::entry(caller, "trigger.delete", None).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn with_topic_id(tx: &mut Tx, draft: &TriggerDraft) -> Result<TriggerDraft, AppError> {
    let topic_id = crate::topics::named(tx, draft.topic.as_deref(), draft.topic_id).await?;
    Ok(TriggerDraft { topic_id, topic: None, ..draft.clone() })
}

async fn check_references(app: &App, tx: &mut Tx, t: &Trigger) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    match topics::get(tx, t.topic_id).await {
        Ok(_) => {}
        Err(tidings_store::Error::NotFound) => errors.add("topic_id", "no such topic"),
        Err(e) => return Err(e.into()),
    }
    match super::intake::schema_of(tx, &t.event_type).await? {
        None => errors.add("event_type", super::intake::unknown_type(&t.event_type)),
        Some(schema) => {
            let known: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
            for name in t.event_fields_read().iter().filter(|n| !known.contains(&n.as_str())) {
                let list = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
                errors.add(
                    "content",
                    format!("reads event.{name}, which {} events do not have (their fields: {list})", t.event_type),
                );
            }
        }
    }
    if let Some(text) = &t.condition
        && let Err(e) = tidings_core::audiences::parse_condition(text, &app.catalog)
    {
        errors.add("condition", e.to_string());
    }
    for channel in t.channels.iter().flatten() {
        if !crate::messages::can_reach_someone(app, tx, *channel).await? {
            errors.add("channels", format!("{channel} can reach nobody on this server yet"));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}

/// A trigger's messages go without a second look, so one whose messages the approval
/// policy holds for approval is saved only by someone who may approve.
async fn check_approval(tx: &mut Tx, caller: &Caller, t: &Trigger) -> Result<(), AppError> {
    let policy = crate::approvals::policy_in(tx).await?;
    if policy.importances.contains(&t.importance) || policy.topics.contains(&t.topic_id) {
        caller.require(Action::Approve, "save a trigger whose messages the approval policy holds for approval")?;
    }
    Ok(())
}
