//! The partner managers' overdue queue: across the latest released must-know messages, the
//! partners (those the asking staff person manages, or all) whose obligation is overdue
//! or at risk and not snoozed; and the decisions on one partner: exempt it or snooze it,
//! with the reason, each in the audit log.

use serde::{Deserialize, Serialize};
use tidings_core::obligations::{self, ObligationStanding, PartnerState};
use tidings_core::{Action, MessageId, PartnerId, Timestamp, text};
use tidings_store::waivers;
pub use tidings_store::waivers::{Waiver, WaiverKind};
use tidings_store::{Tx, messages};

use crate::{App, AppError, Caller, audit};

/// Must-know messages the queue looks through, the latest first.
const MESSAGES_READ: i64 = 50;
/// Partners listed per message at most.
const PARTNERS_PER_MESSAGE: i64 = 500;
/// The longest a partner may be snoozed.
const MOST_SNOOZE_MS: i64 = 30 * 24 * 3_600_000;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueItem {
    pub message_id: MessageId,
    pub title: String,
    pub due_at: Option<Timestamp>,
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub state: PartnerState,
    /// What is missing, in words.
    pub reason: String,
}

/// The standing as a waiver changes it: an exempt partner owes nothing (with who decided
/// and why); a snoozed one keeps its state, the snooze said.
pub(crate) fn with_waiver(standing: ObligationStanding, waiver: Option<&Waiver>, now: Timestamp) -> ObligationStanding {
    match waiver {
        Some(w) if w.kind == WaiverKind::Exempt && standing.state != PartnerState::Met => ObligationStanding {
            state: PartnerState::Exempt,
            reason: format!("exempted by {}: {}", w.decided_by, w.reason),
            met_at: None,
        },
        Some(w) if w.kind == WaiverKind::Snoozed && w.until.is_some_and(|u| u > now) => ObligationStanding {
            reason: format!(
                "{} (snoozed until {} by {}: {})",
                standing.reason,
                w.until.map(|u| u.to_rfc3339()).unwrap_or_default(),
                w.decided_by,
                w.reason
            ),
            ..standing
        },
        _ => standing,
    }
}

/// The queue: overdue partners first, then those at risk, each by due time.
pub async fn queue(app: &App, caller: &Caller, all: bool) -> Result<Vec<OverdueItem>, AppError> {
    caller.require(Action::ReadDirectory, "read the overdue queue")?;
    // Staff signed in see the partners they manage unless they ask for all; a token or
    // the operator sees all.
    let manager = if all { None } else { caller.staff };
    let now = app.clock.now();
    let mut tx = app.db.read().await?;
    let mut out = Vec::new();
    for (m, released_at) in messages::released_critical(&mut tx, MESSAGES_READ).await? {
        let owing = owing_partners(&mut tx, &m, released_at, manager, now).await?;
        out.extend(owing.into_iter().filter(|i| matches!(i.state, PartnerState::Overdue | PartnerState::AtRisk)));
    }
    out.sort_by_key(|i| (i.state, i.due_at, i.partner_name.clone()));
    Ok(out)
}

/// The partners (those `manager` manages, or all) that still owe on the message, in any
/// state short of met or exempt, and not snoozed.
pub(crate) async fn owing_partners(
    tx: &mut Tx,
    m: &tidings_core::messages::Message,
    released_at: Timestamp,
    manager: Option<tidings_core::StaffId>,
    now: Timestamp,
) -> Result<Vec<OverdueItem>, AppError> {
    let Some(ask) = &m.acknowledgment else { return Ok(Vec::new()) };
    let due = ask.due(released_at);
    let candidates = waivers::unmet(tx, m.id, manager, PARTNERS_PER_MESSAGE).await?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    let decided = waivers::of_message(tx, m.id).await?;
    let mut out = Vec::new();
    for (partner_id, partner_name) in candidates {
        let quotas = tidings_store::obligations::of_partner(tx, m.id, partner_id).await?;
        let waiver = decided.get(&partner_id);
        let snoozed = waiver.is_some_and(|w| w.kind == WaiverKind::Snoozed && w.until.is_some_and(|u| u > now));
        let standing = with_waiver(obligations::standing(&quotas, released_at, due, now), waiver, now);
        if snoozed || !standing.state.owes() {
            continue;
        }
        out.push(OverdueItem {
            message_id: m.id,
            title: m.title().to_owned(),
            due_at: due,
            partner_id,
            partner_name,
            state: standing.state,
            reason: standing.reason,
        });
    }
    Ok(out)
}

/// A decision on one partner's obligation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaiverDraft {
    /// `exempt` (it owes nothing on this message) or `snoozed` (left out of the overdue
    /// queue until `until`).
    pub kind: WaiverKind,
    /// Why, for the audit log and the compliance page.
    pub reason: String,
    /// For `snoozed`: until when (RFC 3339, or a date and time in UTC), at most 30 days on.
    pub until: Option<String>,
}

pub async fn decide(
    app: &App,
    caller: &Caller,
    message: MessageId,
    partner: PartnerId,
    draft: &WaiverDraft,
) -> Result<Waiver, AppError> {
    caller.require(Action::Compose, "exempt or snooze a partner's obligation")?;
    let now = app.clock.now();
    let reason = text::required(&draft.reason, 500).map_err(|e| AppError::invalid("reason", e.to_string()))?;
    let until = match (draft.kind, draft.until.as_deref().map(str::trim).filter(|u| !u.is_empty())) {
        (WaiverKind::Exempt, _) => None,
        (WaiverKind::Snoozed, None) => return Err(AppError::invalid("until", "a snooze needs an end: until when?")),
        (WaiverKind::Snoozed, Some(u)) => {
            let at = Timestamp::parse_in(u, &tidings_core::TimeZone::utc())
                .map_err(|e| AppError::invalid("until", e.to_string()))?;
            if at <= now || at.as_millis() - now.as_millis() > MOST_SNOOZE_MS {
                return Err(AppError::invalid("until", "must be in the future and at most 30 days away"));
            }
            Some(at)
        }
    };
    let waiver = Waiver { kind: draft.kind, reason, until, decided_by: caller.name.clone(), decided_at: now };
    let mut tx = app.db.begin().await?;
    owed(&mut tx, message, partner).await?;
    let before = waivers::set(&mut tx, message, partner, &waiver).await?;
    // Nobody at a partner exempted or snoozed is chased meanwhile.
    let why = match draft.kind {
        WaiverKind::Exempt => "the partner was exempted before this was sent",
        WaiverKind::Snoozed => "the partner was snoozed before this was sent",
    };
    tidings_store::deliveries::chase::withdraw_for_partner(&mut tx, message, partner, now, why).await?;
    let action = match draft.kind {
        WaiverKind::Exempt => "obligation.exempt",
        WaiverKind::Snoozed => "obligation.snooze",
    };
    audit::entry(caller, action, message.as_uuid())
        .before(&(partner, before))
        .after(&(partner, &waiver))
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(waiver)
}

/// Takes a partner's exemption or snooze back.
pub async fn undo(app: &App, caller: &Caller, message: MessageId, partner: PartnerId) -> Result<(), AppError> {
    caller.require(Action::Compose, "exempt or snooze a partner's obligation")?;
    let mut tx = app.db.begin().await?;
    owed(&mut tx, message, partner).await?;
    let before = waivers::clear(&mut tx, message, partner).await?.ok_or(AppError::NotFound("waiver"))?;
    audit::entry(caller, "obligation.waiver_removed", message.as_uuid())
        .before(&(partner, before))
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The partner has an obligation on the message (the message was released to it).
async fn owed(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<(), AppError> {
    if tidings_store::obligations::of_partner(tx, message, partner).await?.is_empty() {
        return Err(AppError::NotFound("partner's obligation on this message"));
    }
    Ok(())
}
