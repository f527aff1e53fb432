//! Engagement by partner: when its people were last active, and how many of the copies
//! they got were read and acknowledged.

use sqlx::AssertSqlSafe;
use tidings_core::{MessageId, PartnerId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::placeholders;
use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartnerActivity {
    pub partner_id: PartnerId,
    pub name: String,
    pub partner_type: String,
    pub tier: String,
    pub region: Option<String>,
    /// Members who are not disabled.
    pub members: i64,
    /// The latest activity of any of them: a sign-in, a read, an acknowledgment, an open or
    /// a click, or the last activity the vendor's CRM reported.
    pub last_active: Option<Timestamp>,
}

type ActivityRow = (Uuid, String, String, String, Option<String>, i64, Option<i64>);

pub async fn activity(tx: &mut Tx) -> Result<Vec<PartnerActivity>> {
    let rows: Vec<ActivityRow> = on_tx!(tx, |c| sqlx::query_as(
        "select p.id, p.name, p.partner_type, p.tier, p.region, count(m.id), max(m.last_seen_at) from partners p \
         left join members m on m.partner_id = p.id and m.status <> 'disabled' \
         group by p.id, p.name, p.partner_type, p.tier, p.region"
    )
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, partner_type, tier, region, members, last)| PartnerActivity {
            partner_id: PartnerId::from_uuid(id),
            name,
            partner_type,
            tier,
            region,
            members,
            last_active: last.map(Timestamp::from_millis),
        })
        .collect())
}

/// Copies, reads and acknowledgments per partner over the given messages.
pub async fn rates(tx: &mut Tx, messages: &[MessageId]) -> Result<Vec<(PartnerId, i64, i64, i64)>> {
    let mut out: Vec<(PartnerId, i64, i64, i64)> = Vec::new();
    for chunk in messages.chunks(500) {
        let sql = format!(
            "select partner_id, count(*), count(read_at), count(acknowledged_at) from recipients \
             where message_id in ({}) and partner_id is not null group by partner_id",
            placeholders(tx.dialect(), 1, chunk.len())
        );
        let rows: Vec<(Uuid, i64, i64, i64)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(p, n, r, a)| (PartnerId::from_uuid(p), n, r, a)));
    }
    Ok(out)
}

/// Messages released since `since`, test sends left out, with whether each asks for
/// acknowledgment.
pub async fn released_since(tx: &mut Tx, since: Timestamp) -> Result<Vec<(MessageId, bool)>> {
    let ids: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as("select id from messages where released_at >= $1")
        .bind(since.as_millis())
        .fetch_all(c)
        .await)?;
    let ids: Vec<MessageId> = ids.into_iter().map(|(id,)| MessageId::from_uuid(id)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let found = crate::messages::get_many(tx, chunk).await?;
        out.extend(
            chunk
                .iter()
                .filter_map(|id| found.get(id))
                .filter(|m| !m.audience.test_send)
                .map(|m| (m.id, m.acknowledgment.is_some())),
        );
    }
    Ok(out)
}
