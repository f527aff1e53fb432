//! Each partner's progress on a message's obligation, one row per partner and quota:
//! written once the release's fan-out is done (counting any acknowledgment that came
//! during it), then moved by each acknowledgment in its own transaction. Partner and roles
//! are the copy's, as at release, like the report's.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::obligations::{Obligation, Quota, QuotaProgress};
use tidings_core::{MessageId, PartnerId, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Dialect, Error, Result, Tx};

/// How many acknowledgments meet a row's quota, in SQL (see `QuotaProgress::needed`).
const NEEDED: &str = "(case when wanted is null or wanted > in_scope then in_scope else wanted end)";

fn mask(quota: &Quota) -> i64 {
    quota.role.map_or(0, |r| std::iter::once(r).collect::<Roles>().bits())
}

fn quota_of(role_mask: i64, wanted: Option<i64>) -> Result<Quota> {
    let role = match role_mask {
        0 => None,
        bits => Some(Roles::from_bits(bits).iter().next().ok_or_else(|| Error::corrupt("an unknown role bit"))?),
    };
    let count = wanted.map(|w| u32::try_from(w).map_err(Error::corrupt)).transpose()?;
    Ok(Quota { role, count })
}

/// Writes every reached partner's row for each quota, in the transaction that finishes
/// the release's fan-out (which holds the message's row, so no acknowledgment moves a row
/// before it exists: see `lock_for_acknowledgment`).
pub async fn start(tx: &mut Tx, message: MessageId, obligation: &Obligation) -> Result<()> {
    for (i, quota) in obligation.quotas.iter().enumerate() {
        let scope = "($3 = 0 or (roles & $3) <> 0)";
        let sql = format!(
            "insert into obligation_progress (message_id, partner_id, quota, role_mask, wanted, in_scope, \
             acknowledged, met_at) \
             select $1, partner_id, $2, $3, wanted, in_scope, acknowledged, \
             case when in_scope > 0 and acknowledged >= {NEEDED} then last_at end from ( \
             select partner_id, cast($4 as bigint) as wanted, \
             sum(case when {scope} then 1 else 0 end) as in_scope, \
             sum(case when {scope} and acknowledged_at is not null then 1 else 0 end) as acknowledged, \
             max(case when {scope} then acknowledged_at end) as last_at \
             from recipients where message_id = $1 and partner_id is not null group by partner_id) t"
        );
        let index = i64::try_from(i).map_err(Error::corrupt)?;
        on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
            .bind(message.as_uuid())
            .bind(index)
            .bind(mask(quota))
            .bind(quota.count.map(i64::from))
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// On PostgreSQL, waits for a release finishing its fan-out (which holds the message's row
/// for update), so that the acknowledgment counts in rows that exist; many
/// acknowledgments share the lock. SQLite's one writer orders them already.
pub async fn lock_for_acknowledgment(tx: &mut Tx, message: MessageId) -> Result<()> {
    if tx.dialect() == Dialect::Postgres {
        on_tx!(tx, |c| sqlx::query("select 1 from messages where id = $1 for share")
            .bind(message.as_uuid())
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// Counts an acknowledgment by a member of `partner` holding `roles` (as at release) in
/// each quota it counts toward. Returns whether it met the partner's obligation: every
/// quota that asks anything of the partner is met now, and one was met by this one.
pub async fn acknowledged(
    tx: &mut Tx,
    message: MessageId,
    partner: PartnerId,
    roles: Roles,
    at: Timestamp,
) -> Result<bool> {
    let sql = format!(
        "update obligation_progress set acknowledged = acknowledged + 1, met_at = case when met_at is null \
         and in_scope > 0 and acknowledged + 1 >= {NEEDED} then $4 else met_at end \
         where message_id = $1 and partner_id = $2 and (role_mask = 0 or (role_mask & $3) <> 0)"
    );
    let moved = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .bind(roles.bits())
        .bind(at.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    if moved == 0 {
        return Ok(false);
    }
    let (open, just_met): (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "select coalesce(sum(case when in_scope > 0 and met_at is null then 1 else 0 end), 0), \
         coalesce(sum(case when met_at = $3 then 1 else 0 end), 0) \
         from obligation_progress where message_id = $1 and partner_id = $2"
    )
    .bind(message.as_uuid())
    .bind(partner.as_uuid())
    .bind(at.as_millis())
    .fetch_one(c)
    .await)?;
    Ok(open == 0 && just_met > 0)
}

#[derive(sqlx::FromRow)]
struct Row {
    partner_id: Uuid,
    role_mask: i64,
    wanted: Option<i64>,
    in_scope: i64,
    acknowledged: i64,
    met_at: Option<i64>,
}

impl Row {
    fn progress(&self) -> Result<QuotaProgress> {
        Ok(QuotaProgress {
            quota: quota_of(self.role_mask, self.wanted)?,
            in_scope: self.in_scope,
            acknowledged: self.acknowledged,
            met_at: self.met_at.map(Timestamp::from_millis),
        })
    }
}

/// A row as `sqlite_json_rows` reads it: partner (hex), quota, then the `Row`'s columns.
type JsonProgress = (String, i64, i64, Option<i64>, i64, i64, Option<i64>);

const COLUMNS: &str = "partner_id, role_mask, wanted, in_scope, acknowledged, met_at from obligation_progress";

/// Every reached partner's progress, quota by quota in the obligation's order; empty
/// until the release's fan-out is done.
pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<HashMap<PartnerId, Vec<QuotaProgress>>> {
    let sql = format!("select {COLUMNS} where message_id = $1 order by partner_id, quota");
    let rows: Vec<Row> = if tx.dialect() == Dialect::Sqlite {
        let sql = format!("select quota, {COLUMNS} where message_id = $1");
        let columns = "hex(partner_id), quota, role_mask, wanted, in_scope, acknowledged, met_at";
        let mut raw: Vec<JsonProgress> = crate::sql::sqlite_json_rows(tx, columns, &sql, message.as_uuid()).await?;
        // An aggregate's order is not the subquery's: the quotas' order is restored here.
        raw.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        raw.into_iter()
            .map(|(p, _, role_mask, wanted, in_scope, acknowledged, met_at)| {
                Ok(Row { partner_id: crate::sql::hex_id(&p)?, role_mask, wanted, in_scope, acknowledged, met_at })
            })
            .collect::<Result<_>>()?
    } else {
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?
    };
    let mut out: HashMap<PartnerId, Vec<QuotaProgress>> = HashMap::new();
    for r in &rows {
        out.entry(PartnerId::from_uuid(r.partner_id)).or_default().push(r.progress()?);
    }
    Ok(out)
}

/// One partner's progress, quota by quota.
pub async fn of_partner(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Vec<QuotaProgress>> {
    let sql = format!("select {COLUMNS} where message_id = $1 and partner_id = $2 order by quota");
    let rows: Vec<Row> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .fetch_all(c)
        .await)?;
    rows.iter().map(Row::progress).collect()
}

/// For each message, how many partners have an obligation not yet met (messages released
/// before obligations were kept have no rows and are left out).
pub async fn unmet_partners(tx: &mut Tx, messages: &[MessageId]) -> Result<HashMap<MessageId, i64>> {
    if messages.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = crate::sql::placeholders(tx.dialect(), 1, messages.len());
    let sql = format!(
        "select message_id, count(distinct case when in_scope > 0 and met_at is null then partner_id end) \
         from obligation_progress where message_id in ({ids}) group by message_id"
    );
    let rows: Vec<(Uuid, i64)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for m in messages {
            q = q.bind(m.as_uuid());
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|(m, n)| (MessageId::from_uuid(m), n)).collect())
}
