//! What a material correction does to the message's copies: everyone must acknowledge the
//! new text. The acknowledgments of earlier versions move aside unchanged (still bound to
//! the text they confirmed, and shown as such), the copies become unacknowledged, every
//! partner's obligation starts again, and the report counts from the copies anew.

use tidings_core::{MemberId, MessageId, Timestamp};

use crate::db::on_tx;
use crate::inbox::Acknowledgment;
use crate::{Result, Tx};

/// Sets aside every acknowledgment of `message` and asks again; returns how many.
pub async fn ask_again(tx: &mut Tx, message: MessageId, now: Timestamp) -> Result<u64> {
    let m = message.as_uuid();
    let columns = crate::inbox::ACK_COLUMNS;
    let move_aside = format!(
        "insert into superseded_acknowledgments ({columns}, in_log, superseded_at) \
         select {columns}, in_log, $2 from acknowledgments where message_id = $1 on conflict do nothing"
    );
    let moved = on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(move_aside))
        .bind(m)
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    let statements = [
        "delete from acknowledgments where message_id = $1",
        "update recipients set acknowledged_at = null where message_id = $1 and acknowledged_at is not null",
        "update obligation_progress set acknowledged = 0, met_at = null where message_id = $1",
    ];
    for sql in statements {
        on_tx!(tx, |c| sqlx::query(sql).bind(m).execute(c).await.map(|_| ()))?;
    }
    crate::reports::recount(tx, message).await?;
    Ok(moved)
}

/// The member's acknowledgments of earlier versions of `message` that a material
/// correction set aside, oldest first.
pub async fn superseded(tx: &mut Tx, message: MessageId, member: MemberId) -> Result<Vec<Acknowledgment>> {
    let sql = format!(
        "select {} from superseded_acknowledgments where message_id = $1 and member_id = $2 order by version",
        crate::inbox::ACK_COLUMNS
    );
    let rows: Vec<crate::inbox::AckRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(Acknowledgment::from).collect())
}

/// Up to `limit` of the message's recipients, whose personalization a correction is tried
/// with before it replaces the text they read.
pub async fn some_recipients(tx: &mut Tx, message: MessageId, limit: i64) -> Result<Vec<MemberId>> {
    let ids: Vec<uuid::Uuid> = on_tx!(tx, |c| sqlx::query_scalar(
        "select member_id from recipients where message_id = $1 order by member_id limit $2"
    )
    .bind(message.as_uuid())
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(ids.into_iter().map(MemberId::from_uuid).collect())
}
