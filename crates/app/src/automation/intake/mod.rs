//! Taking in events from the vendor's CRM or PRM: each is checked against its type's
//! schema, resolved to the partner and member it names (a request's all at once, on a
//! reading connection), and stored once under its idempotency key together with the row
//! that queues its triggers, in one transaction that the event writer shares among the
//! requests that arrived together.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tidings_core::automation::{EventInput, EventSchema, EventType, PartnerEvent};
use tidings_core::{Action, FieldError, FieldErrors, PartnerEventId, Timestamp};
use tidings_store::partner_events::{NewPartnerEvent, Stored};
use tidings_store::{Tx, triggers};

use self::whom::Found;
pub use self::writer::{EventCommit, EventWriter};
use crate::{App, AppError, Caller};

mod whom;
mod writer;

/// The most events one batch holds.
pub const MOST_PER_BATCH: usize = 1_000;
const POST: &str = "post events";

/// An event taken in, or the one stored first under its key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Received {
    pub event: PartnerEvent,
    /// The same event was posted before: nothing was applied again.
    pub repeat: bool,
}

/// Takes in one event.
pub async fn post(app: &App, caller: &Caller, input: &EventInput) -> Result<Received, AppError> {
    caller.require(Action::WriteDirectory, POST)?;
    let mut taken = take_in(app, std::slice::from_ref(input)).await?;
    taken.pop().ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("an event was not taken in")))?
}

/// One event of a batch: taken in, or why not.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem {
    /// Its place in the batch, from 0.
    pub index: usize,
    /// `created`, `repeat` or `invalid`.
    pub status: &'static str,
    pub event_id: Option<PartnerEventId>,
    /// What was wrong with it, field by field.
    pub errors: Option<Vec<FieldError>>,
}

/// Takes in many events in one transaction; an invalid one is reported and the rest are
/// taken in.
pub async fn post_batch(app: &App, caller: &Caller, inputs: &[EventInput]) -> Result<Vec<BatchItem>, AppError> {
    caller.require(Action::WriteDirectory, POST)?;
    if inputs.is_empty() {
        return Err(AppError::invalid("events", "is empty: send at least one event"));
    }
    if inputs.len() > MOST_PER_BATCH {
        return Err(AppError::invalid("events", format!("holds {} events; at most {MOST_PER_BATCH}", inputs.len())));
    }
    let taken = take_in(app, inputs).await?;
    let items = taken.into_iter().enumerate().map(|(index, taken)| match taken {
        Ok(r) => {
            let status = if r.repeat { "repeat" } else { "created" };
            Ok(BatchItem { index, status, event_id: Some(r.event.id), errors: None })
        }
        Err(AppError::Invalid(errors)) => {
            let errors = errors.iter().cloned().collect();
            Ok(BatchItem { index, status: "invalid", event_id: None, errors: Some(errors) })
        }
        Err(AppError::Conflict(why)) => {
            let errors = vec![FieldError { field: "idempotency_key".into(), message: why }];
            Ok(BatchItem { index, status: "invalid", event_id: None, errors: Some(errors) })
        }
        Err(other) => Err(other),
    });
    items.collect()
}

/// Checks the events and resolves whom they name (reading, never holding the writer),
/// then hands the valid ones to the event writer: one answer per event, in order.
async fn take_in(app: &App, inputs: &[EventInput]) -> Result<Vec<Result<Received, AppError>>, AppError> {
    let now = app.clock.now();
    let (schemas, found) = {
        let mut tx = app.db.read().await?;
        (Schemas::read(&mut tx, inputs).await?, Found::read(&mut tx, inputs).await?)
    };
    let mut answers: Vec<Result<Received, AppError>> = Vec::with_capacity(inputs.len());
    let mut ready = Vec::new();
    for input in inputs {
        match check(input, &schemas, &found, now) {
            Ok(event) => {
                ready.push(Arc::new(NewPartnerEvent { event, body_hash: body_hash(input) }));
                // Filled in below, once written.
                answers.push(Err(AppError::Unexpected(anyhow::anyhow!("an event was not written"))));
            }
            Err(errors) => answers.push(Err(AppError::Invalid(errors))),
        }
    }
    if ready.is_empty() {
        return Ok(answers);
    }
    let committer = EventCommit { db: app.db.clone() };
    let stored = app.events.write(&committer, ready.clone()).await?;
    let mut written = ready.into_iter().zip(stored);
    for answer in answers.iter_mut().filter(|a| !matches!(a, Err(AppError::Invalid(_)))) {
        let Some((new, stored)) = written.next() else { break };
        *answer = match stored {
            Stored::New => Ok(Received { event: new.event.clone(), repeat: false }),
            Stored::Repeat(first) => Ok(Received { event: first, repeat: true }),
            Stored::KeyReused => Err(AppError::Conflict(format!(
                "the idempotency key '{}' was already used for another event: a repeat must send the same body",
                new.event.idempotency_key
            ))),
        };
    }
    Ok(answers)
}

/// The schema of each type a request's events name; `None` for a type nobody declared.
struct Schemas(HashMap<EventType, Option<EventSchema>>);

impl Schemas {
    async fn read(tx: &mut Tx, inputs: &[EventInput]) -> Result<Self, AppError> {
        let mut schemas = HashMap::new();
        for input in inputs {
            if let Some(Ok(t)) = input.event_type.as_deref().map(EventType::parse)
                && !schemas.contains_key(&t)
            {
                let schema = schema_of(tx, &t).await?;
                schemas.insert(t, schema);
            }
        }
        Ok(Self(schemas))
    }
}

/// The event as it will be stored, or what is wrong with it.
fn check(input: &EventInput, schemas: &Schemas, found: &Found, now: Timestamp) -> Result<PartnerEvent, FieldErrors> {
    let mut errors = FieldErrors::new();
    let key = match tidings_core::text::identifier(input.idempotency_key.as_deref().unwrap_or_default(), 200) {
        Ok(Some(k)) => Some(k),
        Ok(None) => {
            errors.add("idempotency_key", "is required: a key unique to this event in your system");
            None
        }
        Err(e) => {
            errors.add("idempotency_key", e.to_string());
            None
        }
    };
    let event_type = match input.event_type.as_deref() {
        Some(t) => errors.check("type", EventType::parse(t)),
        None => {
            errors.add("type", "is required, such as deal.registered");
            None
        }
    };
    let data = input.data.clone().unwrap_or_else(|| serde_json::json!({}));
    if let Some(t) = &event_type {
        match schemas.0.get(t) {
            Some(Some(schema)) => schema.check(&data, &mut errors),
            _ => errors.add("type", unknown_type(t)),
        }
    }
    let occurred_at = match input.occurred_at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => errors.check("occurred_at", Timestamp::parse(t)),
        None => Some(now),
    };
    let member_required = event_type.as_ref().is_some_and(|t| t.as_str() == "member.created");
    let (partner, member) = found.whom(input, member_required, &mut errors);
    let (Some(key), Some(event_type), Some(occurred_at), Some(partner_id)) = (key, event_type, occurred_at, partner)
    else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(PartnerEvent {
        id: PartnerEventId::new(),
        idempotency_key: key,
        event_type,
        partner_id,
        member_id: member,
        data,
        occurred_at,
        received_at: now,
    })
}

/// The schema events of this type are checked against: a built-in type's, or one an
/// admin declared; `None` for a type nobody declared.
pub(crate) async fn schema_of(tx: &mut Tx, t: &EventType) -> Result<Option<EventSchema>, AppError> {
    if let Some(schema) = t.built_in() {
        return Ok(Some(schema));
    }
    match triggers::get_type(tx, t).await {
        Ok(declared) => Ok(Some(declared.schema)),
        Err(tidings_store::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub(crate) fn unknown_type(t: &EventType) -> String {
    let known: Vec<&str> = tidings_core::automation::event::BUILT_IN.iter().map(|b| b.name).collect();
    format!(
        "'{t}' is not a known event type: use one of {} or declare it first (PUT /api/v1/event-types/{t})",
        known.join(", ")
    )
}

/// What tells a repeat from another event under the same key: the body as posted.
fn body_hash(input: &EventInput) -> String {
    let bytes = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}
