//! Taking in events from the vendor's CRM or PRM: each is checked against its type's
//! schema, resolved to the partner and member it names, and stored once under its
//! idempotency key together with the row that queues its triggers, in one transaction.

use serde::Serialize;
use sha2::{Digest, Sha256};
use tidings_core::automation::{EventInput, EventSchema, EventType, PartnerEvent};
use tidings_core::{Action, FieldError, FieldErrors, MemberId, PartnerEventId, PartnerId, Timestamp};
use tidings_store::partner_events::{self as store, Stored};
use tidings_store::{Tx, members, partners, triggers};

use crate::{App, AppError, Caller};

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
    let mut tx = app.db.begin().await?;
    let received = take(app, &mut tx, input).await?;
    tx.commit().await?;
    Ok(received)
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
    let mut tx = app.db.begin().await?;
    let mut out = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let item = match take(app, &mut tx, input).await {
            Ok(r) => {
                let status = if r.repeat { "repeat" } else { "created" };
                BatchItem { index, status, event_id: Some(r.event.id), errors: None }
            }
            Err(AppError::Invalid(errors)) => {
                let errors = errors.iter().cloned().collect();
                BatchItem { index, status: "invalid", event_id: None, errors: Some(errors) }
            }
            Err(AppError::Conflict(why)) => {
                let errors = vec![FieldError { field: "idempotency_key".into(), message: why }];
                BatchItem { index, status: "invalid", event_id: None, errors: Some(errors) }
            }
            Err(other) => return Err(other),
        };
        out.push(item);
    }
    tx.commit().await?;
    Ok(out)
}

async fn take(app: &App, tx: &mut Tx, input: &EventInput) -> Result<Received, AppError> {
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
        match schema_of(tx, t).await? {
            Some(schema) => schema.check(&data, &mut errors),
            None => errors.add("type", unknown_type(t)),
        }
    }
    let now = app.clock.now();
    let occurred_at = match input.occurred_at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => errors.check("occurred_at", Timestamp::parse(t)),
        None => Some(now),
    };
    let (partner, member) = whom(tx, input, event_type.as_ref(), &mut errors).await?;
    let (Some(key), Some(event_type), Some(occurred_at), Some(partner_id)) = (key, event_type, occurred_at, partner)
    else {
        return Err(AppError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let event = PartnerEvent {
        id: PartnerEventId::new(),
        idempotency_key: key,
        event_type,
        partner_id,
        member_id: member,
        data,
        occurred_at,
        received_at: now,
    };
    match store::insert(tx, &event, &body_hash(input)).await? {
        Stored::New => Ok(Received { event, repeat: false }),
        Stored::Repeat(first) => Ok(Received { event: first, repeat: true }),
        Stored::KeyReused => Err(AppError::Conflict(format!(
            "the idempotency key '{}' was already used for another event: a repeat must send the same body",
            event.idempotency_key
        ))),
    }
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

/// The partner and member the event names. A member alone names their partner; both
/// given must agree.
async fn whom(
    tx: &mut Tx,
    input: &EventInput,
    event_type: Option<&EventType>,
    errors: &mut FieldErrors,
) -> Result<(Option<PartnerId>, Option<MemberId>), AppError> {
    let partner_ref = input.partner.as_deref().map(str::trim).filter(|p| !p.is_empty());
    let member_ref = input.member.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let mut partner = None;
    if let Some(r) = partner_ref {
        partner = find_partner(tx, r).await?;
        if partner.is_none() {
            errors.add("partner", format!("no partner has the id or external id '{r}'"));
        }
    }
    let mut member = None;
    if let Some(r) = member_ref {
        match find_member(tx, r).await? {
            Some((id, of)) => {
                if partner_ref.is_none() {
                    partner = Some(of);
                } else if partner.is_some_and(|p| p != of) {
                    errors.add(
                        "member",
                        format!("'{r}' belongs to another partner than '{}'", partner_ref.unwrap_or("")),
                    );
                }
                member = Some(id);
            }
            None => errors.add("member", format!("no member has the id, external id or email '{r}'")),
        }
    }
    if partner_ref.is_none() && member_ref.is_none() {
        errors.add("partner", "is required: the partner's id or external id (or name the member)");
    }
    if event_type.is_some_and(|t| t.as_str() == "member.created") && member_ref.is_none() {
        errors.add("member", "is required for member.created");
    }
    Ok((partner, member))
}

async fn find_partner(tx: &mut Tx, reference: &str) -> Result<Option<PartnerId>, AppError> {
    if let Ok(id) = reference.parse::<PartnerId>() {
        match partners::get(tx, id).await {
            Ok(p) => return Ok(Some(p.id)),
            Err(tidings_store::Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let found = partners::find_by_external_ids(tx, &[reference.to_owned()]).await?;
    Ok(found.first().map(|p| p.id))
}

async fn find_member(tx: &mut Tx, reference: &str) -> Result<Option<(MemberId, PartnerId)>, AppError> {
    if let Ok(id) = reference.parse::<MemberId>() {
        match members::get(tx, id).await {
            Ok(m) => return Ok(Some((m.id, m.profile.partner_id))),
            Err(tidings_store::Error::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let email = reference.to_lowercase();
    let found = members::find_by_keys(tx, &[reference.to_owned()], std::slice::from_ref(&email)).await?;
    // An external id names a member before an email does.
    let pick = found
        .iter()
        .find(|m| m.profile.external_id.as_deref() == Some(reference))
        .or_else(|| found.iter().find(|m| m.profile.email.as_str() == email));
    Ok(pick.map(|m| (m.id, m.profile.partner_id)))
}

/// What tells a repeat from another event under the same key: the body as posted.
fn body_hash(input: &EventInput) -> String {
    let bytes = serde_json::to_vec(input).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}
