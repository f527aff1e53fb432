//! What a partner lead sees of their own partner's acknowledgments, and the reminders
//! they send. Every query here is bounded by one partner.

use tidings_core::{MemberId, MessageId, PartnerId, Timestamp};
use uuid::Uuid;

use crate::Result;
use crate::Tx;
use crate::db::on_tx;

/// One colleague's copy of a message that asks for acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerCopy {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub released_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
}

/// The partner's members' copies of must-know messages that ask for acknowledgment,
/// newest release first, at most `limit` rows.
pub async fn critical_copies_for_partner(tx: &mut Tx, partner: PartnerId, limit: i64) -> Result<Vec<PartnerCopy>> {
    let rows: Vec<(Uuid, Uuid, i64, Option<i64>)> = on_tx!(tx, |c| sqlx::query_as(
        "select r.message_id, r.member_id, r.released_at, r.acknowledged_at \
         from members m join recipients r on r.member_id = m.id join messages msg on msg.id = r.message_id \
         where m.partner_id = $1 and msg.importance = 'critical' and msg.acknowledgment is not null \
         order by r.released_at desc, r.message_id, r.member_id limit $2"
    )
    .bind(partner.as_uuid())
    .bind(limit)
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(message, member, released, acknowledged)| PartnerCopy {
            message_id: MessageId::from_uuid(message),
            member_id: MemberId::from_uuid(member),
            released_at: Timestamp::from_millis(released),
            acknowledged_at: acknowledged.map(Timestamp::from_millis),
        })
        .collect())
}

/// A reminder sent by a partner lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub message_id: MessageId,
    pub partner_id: PartnerId,
    pub reminded_by: MemberId,
    pub reminded_at: Timestamp,
    pub recipients: i64,
}

pub async fn record(tx: &mut Tx, r: &Reminder) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into reminders (message_id, partner_id, reminded_by, reminded_at, recipients) \
         values ($1, $2, $3, $4, $5)"
    )
    .bind(r.message_id.as_uuid())
    .bind(r.partner_id.as_uuid())
    .bind(r.reminded_by.as_uuid())
    .bind(r.reminded_at.as_millis())
    .bind(r.recipients)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// When the partner was last reminded of the message.
pub async fn last_for_partner(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Option<Timestamp>> {
    let row: Option<(Option<i64>,)> = on_tx!(tx, |c| sqlx::query_as(
        "select max(reminded_at) from reminders where message_id = $1 and partner_id = $2"
    )
    .bind(message.as_uuid())
    .bind(partner.as_uuid())
    .fetch_optional(c)
    .await)?;
    Ok(row.and_then(|(at,)| at).map(Timestamp::from_millis))
}
