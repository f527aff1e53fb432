//! The acknowledgment writer: one task that group-commits. A request checks what it can
//! on its own (the member's copy, the text they saw, the answers) and hands the record
//! here; the writer takes everything that arrived while it was committing the last
//! group, writes it in one transaction with a few statements for the whole group, and
//! answers each request only after that commit. One durable commit costs about a
//! millisecond however much it holds (../shared/PERFORMANCE.md), so under load a commit
//! carries many acknowledgments, and alone an acknowledgment waits for nobody.
//!
//! A group that fails is written again one acknowledgment at a time, so that one bad
//! record cannot refuse the others.

use std::sync::{Arc, Mutex};

use tidings_core::deliveries::EventKind;
use tidings_core::webhooks::EventType;
use tidings_core::{MemberId, Timestamp};
use tidings_store::events::NewEvent;
use tidings_store::inbox::{self as store, Acknowledgment, Recorded};
use tidings_store::webhooks::{Scope, any_subscribed};
use tidings_store::{Db, Tx};
use tokio::sync::{mpsc, oneshot};

use crate::AppError;
use crate::evidence::record::{AckContext, Shown};
use crate::inbox::{AcknowledgeOutcome, Origin};

/// The most acknowledgments one commit carries.
const MOST_IN_A_COMMIT: usize = 500;
/// Requests waiting for the writer at most; more wait to be queued.
const QUEUE: usize = 8192;

/// An acknowledgment checked and ready to write.
pub(crate) struct Acknowledging {
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

struct Pending {
    work: Acknowledging,
    answer: oneshot::Sender<Result<AcknowledgeOutcome, AppError>>,
}

/// The handle to the writer, started on first use (in whatever runtime uses it, and
/// again if that runtime has gone). It stops once every handle is dropped.
#[derive(Clone, Default)]
pub struct AckWriter(Arc<Mutex<Option<mpsc::Sender<Pending>>>>);

impl std::fmt::Debug for AckWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckWriter")
    }
}

impl AckWriter {
    /// Writes the acknowledgment (with its leaf when `log`) and answers after the commit.
    pub(crate) async fn write(&self, db: &Db, log: bool, work: Acknowledging) -> Result<AcknowledgeOutcome, AppError> {
        let (answer, answered) = oneshot::channel();
        let mut pending = Pending { work, answer };
        for _ in 0..2 {
            let queue = self.queue(db, log, false);
            match queue.send(pending).await {
                Ok(()) => {
                    return answered
                        .await
                        .map_err(|_| AppError::Unexpected(anyhow::anyhow!("the acknowledgment writer stopped")))?;
                }
                // The runtime that ran the writer has ended: start another here.
                Err(mpsc::error::SendError(back)) => {
                    pending = back;
                    self.queue(db, log, true);
                }
            }
        }
        Err(AppError::Unexpected(anyhow::anyhow!("the acknowledgment writer does not start")))
    }

    fn queue(&self, db: &Db, log: bool, restart: bool) -> mpsc::Sender<Pending> {
        let mut slot = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some(queue) if !restart && !queue.is_closed() => queue.clone(),
            _ => {
                let (queue, arrivals) = mpsc::channel(QUEUE);
                tokio::spawn(run(db.clone(), log, arrivals));
                *slot = Some(queue.clone());
                queue
            }
        }
    }
}

async fn run(db: Db, log: bool, mut arrivals: mpsc::Receiver<Pending>) {
    while let Some(first) = arrivals.recv().await {
        let mut group = vec![first];
        while group.len() < MOST_IN_A_COMMIT {
            match arrivals.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let (work, answers): (Vec<Acknowledging>, Vec<_>) = group.into_iter().map(|p| (p.work, p.answer)).unzip();
        match commit(&db, log, &work).await {
            Ok(outcomes) => {
                for (answer, outcome) in answers.into_iter().zip(outcomes) {
                    let _ = answer.send(Ok(outcome));
                }
            }
            Err(e) if work.len() == 1 => {
                if let Some(answer) = answers.into_iter().next() {
                    let _ = answer.send(Err(e));
                }
            }
            Err(_) => {
                for (one, answer) in work.iter().zip(answers) {
                    let outcome = commit(&db, log, std::slice::from_ref(one)).await;
                    let _ = answer.send(outcome.and_then(|mut o| o.pop().ok_or_else(nothing_written)));
                }
            }
        }
    }
}

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
