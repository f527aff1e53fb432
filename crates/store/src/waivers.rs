//! Partner managers' decisions about one partner's obligation on one message (exempt, or
//! snoozed until a time), and the partners whose obligations are not met, for the overdue
//! queue.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::{MessageId, PartnerId, StaffId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WaiverKind {
    /// The partner owes nothing on this message.
    Exempt,
    /// Left out of the overdue queue until `until`.
    Snoozed,
}

impl WaiverKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Exempt => "exempt",
            Self::Snoozed => "snoozed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Waiver {
    pub kind: WaiverKind,
    pub reason: String,
    pub until: Option<Timestamp>,
    pub decided_by: String,
    pub decided_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    partner_id: Uuid,
    kind: String,
    reason: String,
    until: Option<i64>,
    decided_by: String,
    decided_at: i64,
}

impl Row {
    fn waiver(self) -> Result<(PartnerId, Waiver)> {
        let kind = match self.kind.as_str() {
            "exempt" => WaiverKind::Exempt,
            "snoozed" => WaiverKind::Snoozed,
            other => return Err(Error::corrupt(format!("a waiver of kind {other}"))),
        };
        let waiver = Waiver {
            kind,
            reason: self.reason,
            until: self.until.map(Timestamp::from_millis),
            decided_by: self.decided_by,
            decided_at: Timestamp::from_millis(self.decided_at),
        };
        Ok((PartnerId::from_uuid(self.partner_id), waiver))
    }
}

const COLUMNS: &str = "partner_id, kind, reason, until, decided_by, decided_at from obligation_waivers";

/// Sets (or replaces) the partner's waiver on the message; returns the one it replaced.
pub async fn set(tx: &mut Tx, message: MessageId, partner: PartnerId, w: &Waiver) -> Result<Option<Waiver>> {
    let before = of_partner(tx, message, partner).await?;
    on_tx!(tx, |c| sqlx::query(
        "insert into obligation_waivers (message_id, partner_id, kind, reason, until, decided_by, decided_at) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (message_id, partner_id) do update set kind = excluded.kind, \
         reason = excluded.reason, until = excluded.until, decided_by = excluded.decided_by, \
         decided_at = excluded.decided_at"
    )
    .bind(message.as_uuid())
    .bind(partner.as_uuid())
    .bind(w.kind.as_str())
    .bind(w.reason.clone())
    .bind(w.until.map(Timestamp::as_millis))
    .bind(w.decided_by.clone())
    .bind(w.decided_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(before)
}

/// Removes the partner's waiver; returns it, if there was one.
pub async fn clear(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Option<Waiver>> {
    let before = of_partner(tx, message, partner).await?;
    on_tx!(tx, |c| sqlx::query("delete from obligation_waivers where message_id = $1 and partner_id = $2")
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(before)
}

pub async fn of_partner(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Option<Waiver>> {
    let sql = format!("select {COLUMNS} where message_id = $1 and partner_id = $2");
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .fetch_optional(c)
        .await)?;
    row.map(|r| r.waiver().map(|(_, w)| w)).transpose()
}

pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<HashMap<PartnerId, Waiver>> {
    let sql = format!("select {COLUMNS} where message_id = $1");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?;
    rows.into_iter().map(Row::waiver).collect()
}

/// The partners whose obligation on the message is not met, with their name, at most
/// `limit`, those one staff person manages when `manager` is given.
pub async fn unmet(
    tx: &mut Tx,
    message: MessageId,
    manager: Option<StaffId>,
    limit: i64,
) -> Result<Vec<(PartnerId, String)>> {
    let rows: Vec<(Uuid, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select p.id, p.name from partners p where p.id in (select partner_id from obligation_progress \
         where message_id = $1 and in_scope > 0 and met_at is null) \
         and ($4 or p.partner_manager_id = $2) \
         order by p.name, p.id limit $3"
    )
    .bind(message.as_uuid())
    .bind(manager.map_or(Uuid::nil(), |m| m.as_uuid()))
    .bind(limit)
    .bind(manager.is_none())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id, name)| (PartnerId::from_uuid(id), name)).collect())
}
