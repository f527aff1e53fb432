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

/// A partner's row for one quota, as `acknowledged_many` moves it.
#[derive(sqlx::FromRow)]
struct QuotaRow {
    partner_id: Uuid,
    quota: i64,
    role_mask: i64,
    wanted: Option<i64>,
    in_scope: i64,
    acknowledged: i64,
    met_at: Option<i64>,
}

/// Counts acknowledgments, each by a member of a partner holding some roles (as at
/// release), in each quota they count toward, all at `at`. Returns the partners whose
/// obligation they met: every quota that asks anything of the partner is met now, and
/// one was met by these. The rows are read (locked on PostgreSQL), moved here, and
/// written back in one statement.
pub async fn acknowledged_many(
    tx: &mut Tx,
    message: MessageId,
    copies: &[(PartnerId, Roles)],
    at: Timestamp,
) -> Result<Vec<PartnerId>> {
    let mut partners: Vec<PartnerId> = copies.iter().map(|(p, _)| *p).collect();
    partners.sort_unstable_by_key(|p| p.as_uuid());
    partners.dedup();
    let d = tx.dialect();
    let lock = if d == Dialect::Postgres { " for update" } else { "" };
    let mut rows = Vec::new();
    for chunk in partners.chunks(500) {
        // Numbered and anonymous parameters do not mix on SQLite: bound in text order.
        let (first, ids) = (crate::sql::placeholders(d, 1, 1), crate::sql::placeholders(d, 2, chunk.len()));
        let sql = format!(
            "select partner_id, quota, role_mask, wanted, in_scope, acknowledged, met_at from obligation_progress \
             where message_id = {first} and partner_id in ({ids}) order by partner_id, quota{lock}"
        );
        let found: Vec<QuotaRow> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid());
            for p in chunk {
                q = q.bind(p.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        rows.extend(found);
    }
    let mut roles_of: HashMap<Uuid, Vec<Roles>> = HashMap::new();
    for (partner, roles) in copies {
        roles_of.entry(partner.as_uuid()).or_default().push(*roles);
    }
    let mut moved: Vec<(Uuid, i64, i64, Option<i64>)> = Vec::new();
    let mut open: HashMap<Uuid, bool> = HashMap::new();
    let mut met_now: Vec<Uuid> = Vec::new();
    for QuotaRow { partner_id: partner, quota, role_mask, wanted, in_scope, acknowledged, met_at } in rows {
        let held = roles_of.get(&partner).map_or(&[][..], Vec::as_slice);
        let counted = held.iter().filter(|roles| role_mask == 0 || roles.bits() & role_mask != 0).count();
        let added = i64::try_from(counted).map_err(Error::corrupt)?;
        let needed = match wanted {
            Some(w) if w <= in_scope => w,
            _ => in_scope,
        };
        let total = acknowledged + added;
        let met = match met_at {
            None if added > 0 && in_scope > 0 && total >= needed => {
                met_now.push(partner);
                Some(at.as_millis())
            }
            other => other,
        };
        *open.entry(partner).or_default() |= in_scope > 0 && met.is_none();
        if added > 0 {
            moved.push((partner, quota, total, met));
        }
    }
    for chunk in moved.chunks(500) {
        let rows = crate::sql::value_rows(d, chunk.len(), 5);
        let sql = format!(
            "with v (message_id, partner_id, quota, acknowledged, met_at) as (values {rows}) \
             update obligation_progress set acknowledged = v.acknowledged, met_at = v.met_at from v \
             where obligation_progress.message_id = v.message_id and obligation_progress.partner_id = v.partner_id \
             and obligation_progress.quota = v.quota"
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (partner, quota, total, met) in chunk {
                q = q.bind(message.as_uuid()).bind(*partner).bind(*quota).bind(*total).bind(*met);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    met_now.sort_unstable();
    met_now.dedup();
    Ok(met_now.into_iter().filter(|p| open.get(p) == Some(&false)).map(PartnerId::from_uuid).collect())
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
