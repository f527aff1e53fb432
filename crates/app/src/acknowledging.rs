//! The acknowledgment writer (a [`GroupWriter`]): a request checks what it can on its
//! own (the member's copy, the text they saw, the answers) and hands the record here, to
//! be written with whatever else arrived meanwhile, a few statements for the whole group.

use tidings_core::deliveries::EventKind;
use tidings_core::webhooks::EventType;
use tidings_core::{MemberId, Timestamp};
use tidings_store::events::NewEvent;
use tidings_store::inbox::{self as store, Acknowledgment, Recorded};
use tidings_store::webhooks::{Scope, any_subscribed};
use tidings_store::{Db, Tx};

use crate::AppError;
use crate::evidence::record::{AckContext, Shown};
use crate::group_commit::{Committer, GroupWriter};
use crate::inbox::{AcknowledgeOutcome, Origin};

/// An acknowledgment checked and ready to write.
pub struct Acknowledging {
    pub record: Acknowledgment,
    /// The JSON of the exact text shown, which the leaf binds.
    pub shown: String,
    pub how: AckContext,
    pub origin: Origin,
    /// For the webhook events: the message's title, the member's email address and the
    /// obligation, described.
    pub title: String,
    pub email: String,
    pub obligation: String,
}

/// Writes a group of acknowledgments (with their leaves when `log`).
#[derive(Clone)]
pub struct AckCommit {
    pub(crate) db: Db,
    pub(crate) log: bool,
}

impl Committer for AckCommit {
    type Work = Acknowledging;
    type Outcome = AcknowledgeOutcome;
    const MOST: usize = 500;
    const WHAT: &'static str = "acknowledgment";

    fn commit(
        &self,
        group: &[Acknowledging],
    ) -> impl Future<Output = Result<Vec<AcknowledgeOutcome>, AppError>> + Send {
        commit(&self.db, self.log, group)
    }
}

/// Group-commits acknowledgments.
pub type AckWriter = GroupWriter<AckCommit>;

fn nothing_written() -> AppError {
    AppError::Unexpected(anyhow::anyhow!("an acknowledgment was not written"))
}

/// One transaction for the group, all at the latest moment among them (each is no
/// earlier than when its request was checked).
async fn commit(db: &Db, log: bool, work: &[Acknowledging]) -> Result<Vec<AcknowledgeOutcome>, AppError> {
    let at = work.iter().map(|w| w.record.acknowledged_at).max().ok_or_else(nothing_written)?;
    let records: Vec<Acknowledgment> =
        work.iter().map(|w| Acknowledgment { acknowledged_at: at, ..w.record.clone() }).collect();
    let mut tx = db.begin().await?;
    let recorded = store::acknowledge_many(&mut tx, &records, log).await?;
    let fresh: Vec<usize> = (0..work.len()).filter(|&i| recorded[i].new).collect();
    if log {
        let shown: Vec<Shown<'_>> =
            fresh.iter().map(|&i| Shown { record: &records[i], text: &work[i].shown, how: work[i].how }).collect();
        let met: Vec<_> = fresh
            .iter()
            .filter_map(|&i| match recorded[i] {
                Recorded { partner_met: true, partner: Some(p), .. } => {
                    Some((records[i].message_id, records[i].version, p, at))
                }
                _ => None,
            })
            .collect();
        crate::evidence::record::acknowledged_many(&mut tx, &shown, &met).await?;
    }
    let events: Vec<NewEvent> = fresh
        .iter()
        .map(|&i| NewEvent {
            message_id: records[i].message_id,
            member_id: records[i].member_id,
            channel: Some(tidings_core::consent::Channel::Inbox),
            purpose: None,
            kind: EventKind::Acknowledged,
            at,
            detail: Some(work[i].origin.detail()),
        })
        .collect();
    tidings_store::events::append(&mut tx, &events).await?;
    // Acknowledging is what "active" means for the engagement overview.
    let members: Vec<MemberId> = fresh.iter().map(|&i| records[i].member_id).collect();
    tidings_store::members::touch_many(&mut tx, &members, at).await?;
    report(&mut tx, work, &records, &recorded, &fresh, at).await?;
    let mut outcomes = Vec::with_capacity(work.len());
    for (record, r) in records.into_iter().zip(&recorded) {
        outcomes.push(if r.new {
            AcknowledgeOutcome { created: true, acknowledgment: record }
        } else {
            // Another request for the same member came first: its record stands.
            let first = store::acknowledgment(&mut tx, record.message_id, record.member_id).await?;
            AcknowledgeOutcome { created: false, acknowledgment: first.unwrap_or(record) }
        });
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// The webhook events, in the same transaction: each acknowledgment, and each partner's
/// obligation met by one of them.
async fn report(
    tx: &mut Tx,
    work: &[Acknowledging],
    records: &[Acknowledgment],
    recorded: &[Recorded],
    fresh: &[usize],
    at: Timestamp,
) -> Result<(), AppError> {
    if any_subscribed(tx, EventType::AcknowledgmentRecorded).await? {
        for &i in fresh {
            let (w, r) = (&work[i], &records[i]);
            let data = serde_json::json!({
                "message_id": r.message_id, "title": w.title, "member_id": r.member_id,
                "email": w.email, "partner_id": r.partner_id, "statement": r.statement,
                "content_hash": r.content_hash, "locale": r.locale, "acknowledged_at": at.to_rfc3339(),
            });
            let scope = Scope::Partner(r.partner_id);
            crate::webhooks::emit(tx, EventType::AcknowledgmentRecorded, scope, data, at).await?;
        }
    }
    let met: Vec<usize> = fresh.iter().copied().filter(|&i| recorded[i].partner_met).collect();
    if !met.is_empty() && any_subscribed(tx, EventType::ObligationMet).await? {
        for i in met {
            let (w, r) = (&work[i], &records[i]);
            let Some(partner) = recorded[i].partner else { continue };
            let (_, acknowledged) = store::partner_acknowledgments(tx, r.message_id, partner).await?;
            let data = serde_json::json!({
                "message_id": r.message_id, "title": w.title, "partner_id": partner,
                "obligation": w.obligation, "acknowledged": acknowledged, "met_at": at.to_rfc3339(),
            });
            crate::webhooks::emit(tx, EventType::ObligationMet, Scope::Partner(partner), data, at).await?;
        }
    }
    Ok(())
}
