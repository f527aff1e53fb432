//! Tasks for the vendor's staff that Tidings found, and the facts the silent-partner job
//! reads per partner.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::{PartnerId, StaffId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Result, Tx};

/// A task as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub id: Uuid,
    /// `silent_partner`, or `trigger:<trigger key>:<event id>`.
    pub kind: String,
    pub partner_id: PartnerId,
    pub partner_name: String,
    /// The partner manager it is for; none when the partner has no manager.
    pub staff_id: Option<StaffId>,
    pub staff_email: Option<String>,
    pub title: String,
    /// What was found, a sentence each.
    pub details: Vec<String>,
    /// `open` or `done`.
    pub state: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub done_at: Option<Timestamp>,
    pub done_by: Option<String>,
}

/// A task to open.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub kind: String,
    pub partner_id: PartnerId,
    pub staff_id: Option<StaffId>,
    pub title: String,
    pub details: Vec<String>,
}

/// Opens the task, or brings the open one of its partner and kind up to date; returns
/// whether it is new.
pub async fn open(tx: &mut Tx, t: &NewTask, now: Timestamp) -> Result<bool> {
    let inserted = on_tx!(tx, |c| sqlx::query(
        "insert into tasks (id, kind, partner_id, staff_id, title, details, state, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, 'open', $7, $7) on conflict do nothing"
    )
    .bind(Uuid::now_v7())
    .bind(t.kind.as_str())
    .bind(t.partner_id.as_uuid())
    .bind(t.staff_id.map(|s| s.as_uuid()))
    .bind(t.title.as_str())
    .bind(Json(&t.details))
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if inserted == 1 {
        return Ok(true);
    }
    on_tx!(tx, |c| sqlx::query(
        "update tasks set title = $3, details = $4, staff_id = $5, updated_at = $6 \
         where partner_id = $1 and kind = $2 and state = 'open'"
    )
    .bind(t.partner_id.as_uuid())
    .bind(t.kind.as_str())
    .bind(t.title.as_str())
    .bind(Json(&t.details))
    .bind(t.staff_id.map(|s| s.as_uuid()))
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(false)
}

type TaskRow = (
    Uuid,
    String,
    Uuid,
    String,
    Option<Uuid>,
    Option<String>,
    String,
    Json<Vec<String>>,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
);

/// Tasks in `state` (any when `None`), for one staff person or everyone, newest first.
pub async fn list(tx: &mut Tx, state: Option<&str>, staff: Option<StaffId>, limit: i64) -> Result<Vec<Task>> {
    let sql = "select t.id, t.kind, t.partner_id, p.name, t.staff_id, s.email, t.title, t.details, t.state, \
        t.created_at, t.updated_at, t.done_at, t.done_by from tasks t join partners p on p.id = t.partner_id \
        left join staff s on s.id = t.staff_id \
        where ($1 = '' or t.state = $1) and ($2 or t.staff_id = $3) \
        order by t.created_at desc, t.id desc limit $4";
    let rows: Vec<TaskRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(state.unwrap_or(""))
        .bind(staff.is_none())
        .bind(staff.map_or(Uuid::nil(), |s| s.as_uuid()))
        .bind(limit)
        .fetch_all(c)
        .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, partner, name, staff, email, title, details, state, created, updated, done, by)| Task {
            id,
            kind,
            partner_id: PartnerId::from_uuid(partner),
            partner_name: name,
            staff_id: staff.map(StaffId::from_uuid),
            staff_email: email,
            title,
            details: details.0,
            state,
            created_at: Timestamp::from_millis(created),
            updated_at: Timestamp::from_millis(updated),
            done_at: done.map(Timestamp::from_millis),
            done_by: by,
        })
        .collect())
}

/// Marks an open task done.
pub async fn done(tx: &mut Tx, id: Uuid, by: &str, now: Timestamp) -> Result<()> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "update tasks set state = 'done', done_at = $2, done_by = $3, updated_at = $2 where id = $1 and state = 'open'"
    )
    .bind(id)
    .bind(now.as_millis())
    .bind(by)
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    crate::sql::found(n)
}

/// A partner as the silent-partner job reads it.
#[derive(Debug, Clone)]
pub struct PartnerRow {
    pub id: PartnerId,
    pub name: String,
    pub tier: String,
    pub manager: Option<StaffId>,
    pub created_at: Timestamp,
}

/// Partners after `after` in id order, `limit` at a time.
pub async fn partners_after(tx: &mut Tx, after: Option<PartnerId>, limit: i64) -> Result<Vec<PartnerRow>> {
    let rows: Vec<(Uuid, String, String, Option<Uuid>, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "select id, name, tier, partner_manager_id, created_at from partners where ($1 or id > $2) order by id limit $3"
    )
    .bind(after.is_none())
    .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
    .bind(limit)
    .fetch_all(c)
    .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, name, tier, manager, created)| PartnerRow {
            id: PartnerId::from_uuid(id),
            name,
            tier,
            manager: manager.map(StaffId::from_uuid),
            created_at: Timestamp::from_millis(created),
        })
        .collect())
}

/// How many active people the partner has, and when any of them was last active.
pub async fn activity(tx: &mut Tx, partner: PartnerId) -> Result<(i64, Option<Timestamp>)> {
    let (n, last): (i64, Option<i64>) = on_tx!(tx, |c| sqlx::query_as(
        "select count(*), max(last_seen_at) from members where partner_id = $1 and status = 'active'"
    )
    .bind(partner.as_uuid())
    .fetch_one(c)
    .await)?;
    Ok((n, last.map(Timestamp::from_millis)))
}

/// The partner's deal events in the order they came in: type, data, when.
pub async fn deal_events(tx: &mut Tx, partner: PartnerId) -> Result<Vec<(String, serde_json::Value, Timestamp)>> {
    let rows: Vec<(String, Json<serde_json::Value>, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select type, data, received_at from partner_events where partner_id = $1 and type in \
         ('deal.registered', 'deal.approved', 'deal.rejected') order by received_at, id"
    )
    .bind(partner.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(t, d, at)| (t, d.0, Timestamp::from_millis(at))).collect())
}

/// Whether any of the partner's people has completed a training.
pub async fn trained(tx: &mut Tx, partner: PartnerId) -> Result<bool> {
    let row: Option<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(
        "select id from partner_events where partner_id = $1 and type = 'training.completed' limit 1"
    )
    .bind(partner.as_uuid())
    .fetch_optional(c)
    .await)?;
    Ok(row.is_some())
}
