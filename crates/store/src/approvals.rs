//! Approvals of messages under the four-eyes rule.

use tidings_core::{MessageId, Timestamp};
use uuid::Uuid;

use crate::audit::Actor;
use crate::db::on_tx;
use crate::{Error, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub message_id: MessageId,
    pub approved_by: Actor,
    pub approved_at: Timestamp,
}

pub async fn put(tx: &mut Tx, a: &Approval) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into approvals (message_id, approved_by_kind, approved_by_id, approved_by_name, approved_at) \
         values ($1, $2, $3, $4, $5) on conflict (message_id) do update set approved_by_kind = excluded.approved_by_kind, \
         approved_by_id = excluded.approved_by_id, approved_by_name = excluded.approved_by_name, \
         approved_at = excluded.approved_at"
    )
    .bind(a.message_id.as_uuid())
    .bind(a.approved_by.kind.as_str())
    .bind(a.approved_by.id)
    .bind(&a.approved_by.name)
    .bind(a.approved_at.as_millis())
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

pub async fn get(tx: &mut Tx, message: MessageId) -> Result<Option<Approval>> {
    let row: Option<(String, Option<Uuid>, String, i64)> = on_tx!(tx, |c| {
        sqlx::query_as(
        "select approved_by_kind, approved_by_id, approved_by_name, approved_at from approvals where message_id = $1"
    )
    .bind(message.as_uuid())
    .fetch_optional(c)
    .await
    })?;
    row.map(|(kind, id, name, at)| {
        Ok(Approval {
            message_id: message,
            approved_by: Actor { kind: kind.parse().map_err(Error::corrupt)?, id, name },
            approved_at: Timestamp::from_millis(at),
        })
    })
    .transpose()
}

/// Drops the message's approval (it changed); says whether there was one.
pub async fn remove(tx: &mut Tx, message: MessageId) -> Result<bool> {
    let done = on_tx!(tx, |c| sqlx::query("delete from approvals where message_id = $1")
        .bind(message.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Who created or changed the message, from the audit log: none of them may approve it.
pub async fn editors(tx: &mut Tx, message: MessageId) -> Result<Vec<Actor>> {
    let rows: Vec<(String, Option<Uuid>, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select distinct actor_kind, actor_id, actor_name from audit_log \
         where subject_id = $1 and action in ('message.create', 'message.update', 'message.copy')"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(kind, id, name)| Ok(Actor { kind: kind.parse().map_err(Error::corrupt)?, id, name }))
        .collect()
}
