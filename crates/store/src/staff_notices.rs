//! Notices to the vendor's partner managers from an escalation ladder's step: queued per
//! manager in the step's transaction, claimed under a lease, settled once sent.

use tidings_core::deliveries::Purpose;
use tidings_core::{MessageId, StaffId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

/// One notice to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    pub message_id: MessageId,
    pub staff_id: StaffId,
    pub purpose: Purpose,
    pub attempts: i64,
}

/// Queues the step's notice to each partner manager with a partner that still owes
/// (a quota unmet, not exempt or snoozed), due at `due_at`; returns how many.
pub async fn queue_managers(
    tx: &mut Tx,
    message: MessageId,
    purpose: Purpose,
    due_at: Timestamp,
    now: Timestamp,
) -> Result<u64> {
    // The `where` before `on conflict`: without one SQLite reads `m on` as a join.
    let sql = "insert into staff_notices (message_id, staff_id, purpose, status, attempts, due_at, created_at, \
               updated_at) select $1, m.staff_id, $2, 'queued', 0, $3, $4, $4 from (select distinct \
               p.partner_manager_id as staff_id from partners p where p.partner_manager_id is not null \
               and exists (select 1 from obligation_progress op where op.message_id = $1 and op.partner_id = p.id \
               and op.in_scope > 0 and op.met_at is null) \
               and not exists (select 1 from obligation_waivers w where w.message_id = $1 and w.partner_id = p.id \
               and (w.kind = 'exempt' or w.until > $4))) m \
               where m.staff_id is not null on conflict do nothing";
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(message.as_uuid())
        .bind(purpose.to_string())
        .bind(due_at.as_millis())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))
    .map_err(Into::into)
}

/// Takes up to `limit` due notices, each leased until `until` (a worker that dies leaves
/// it to be taken again then).
pub async fn claim(tx: &mut Tx, now: Timestamp, until: Timestamp, limit: i64) -> Result<Vec<Notice>> {
    let rows: Vec<(Uuid, Uuid, String, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select message_id, staff_id, purpose, attempts from staff_notices \
         where due_at is not null and due_at <= $1 order by due_at limit $2"
    )
    .bind(now.as_millis())
    .bind(limit)
    .fetch_all(c)
    .await)?;
    let mut out = Vec::with_capacity(rows.len());
    for (message, staff, purpose, attempts) in rows {
        // Of two workers, the one whose update finds the row still due takes it.
        let taken = on_tx!(tx, |c| sqlx::query(
            "update staff_notices set status = 'sending', due_at = $4, attempts = attempts + 1, updated_at = $5 \
             where message_id = $1 and staff_id = $2 and purpose = $3 and due_at is not null and due_at <= $5"
        )
        .bind(message)
        .bind(staff)
        .bind(&purpose)
        .bind(until.as_millis())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        if taken == 1 {
            out.push(Notice {
                message_id: MessageId::from_uuid(message),
                staff_id: StaffId::from_uuid(staff),
                purpose: purpose.parse().map_err(Error::corrupt)?,
                attempts: attempts + 1,
            });
        }
    }
    Ok(out)
}

/// What a notice came to: `sent`, `failed` or `suppressed` with the reason, or queued
/// again at `retry_at`.
pub async fn settle(
    tx: &mut Tx,
    n: &Notice,
    status: &str,
    error: Option<&str>,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<()> {
    let status = if retry_at.is_some() { "queued" } else { status };
    on_tx!(tx, |c| sqlx::query(
        "update staff_notices set status = $4, error = $5, due_at = $6, updated_at = $7 \
         where message_id = $1 and staff_id = $2 and purpose = $3"
    )
    .bind(n.message_id.as_uuid())
    .bind(n.staff_id.as_uuid())
    .bind(n.purpose.to_string())
    .bind(status)
    .bind(error)
    .bind(retry_at.map(Timestamp::as_millis))
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// A notice as the compliance page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeRow {
    pub staff_id: StaffId,
    pub purpose: String,
    pub status: String,
    pub error: Option<String>,
    pub updated_at: Timestamp,
}

pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<Vec<NoticeRow>> {
    let sql = "select staff_id, purpose, status, error, updated_at from staff_notices where message_id = $1 \
               order by created_at, staff_id";
    let rows: Vec<(Uuid, String, String, Option<String>, i64)> =
        on_tx!(tx, |c| sqlx::query_as(sql).bind(message.as_uuid()).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(staff, purpose, status, error, at)| NoticeRow {
            staff_id: StaffId::from_uuid(staff),
            purpose,
            status,
            error,
            updated_at: Timestamp::from_millis(at),
        })
        .collect())
}
