//! Finding partners and members by what another system calls them (an id, an external
//! id, or a member's email address), many in one statement, reading only what it takes
//! to tell them apart.

use sqlx::AssertSqlSafe;
use tidings_core::{MemberId, PartnerId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Value, bind_as, placeholders};
use crate::{Result, Tx};

/// A member as a reference finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub id: MemberId,
    pub partner_id: PartnerId,
    pub external_id: Option<String>,
    pub email: String,
}

/// A partner as a reference finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerRef {
    pub id: PartnerId,
    pub external_id: Option<String>,
}

/// Each branch looks up one indexed column (an OR of them can become a scan on
/// PostgreSQL); a member found twice is listed twice.
fn union(tx: &Tx, columns: &str, table: &str, lookups: &[(&str, usize)]) -> Option<String> {
    let mut next = 1;
    let branches: Vec<String> = lookups
        .iter()
        .filter(|(_, count)| *count > 0)
        .map(|(column, count)| {
            let list = placeholders(tx.dialect(), next, *count);
            next += count;
            format!("select {columns} from {table} where {column} in ({list})")
        })
        .collect();
    (!branches.is_empty()).then(|| branches.join(" union all "))
}

/// The members with any of these ids, external ids or (lower-case) emails.
pub async fn members(
    tx: &mut Tx,
    ids: &[MemberId],
    external_ids: &[String],
    emails: &[String],
) -> Result<Vec<MemberRef>> {
    let lookups = [("id", ids.len()), ("external_id", external_ids.len()), ("email", emails.len())];
    let Some(sql) = union(tx, "id, partner_id, external_id, email", "members", &lookups) else {
        return Ok(Vec::new());
    };
    let values: Vec<Value> = ids
        .iter()
        .map(|id| Value::Uuid(id.as_uuid()))
        .chain(external_ids.iter().chain(emails).cloned().map(Value::Text))
        .collect();
    let rows: Vec<(Uuid, Uuid, Option<String>, String)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    Ok(rows
        .into_iter()
        .map(|(id, partner, external_id, email)| MemberRef {
            id: MemberId::from_uuid(id),
            partner_id: PartnerId::from_uuid(partner),
            external_id,
            email,
        })
        .collect())
}

/// The partners with any of these ids or external ids.
pub async fn partners(tx: &mut Tx, ids: &[PartnerId], external_ids: &[String]) -> Result<Vec<PartnerRef>> {
    let lookups = [("id", ids.len()), ("external_id", external_ids.len())];
    let Some(sql) = union(tx, "id, external_id", "partners", &lookups) else {
        return Ok(Vec::new());
    };
    let values: Vec<Value> =
        ids.iter().map(|id| Value::Uuid(id.as_uuid())).chain(external_ids.iter().cloned().map(Value::Text)).collect();
    let rows: Vec<(Uuid, Option<String>)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(id, external_id)| PartnerRef { id: PartnerId::from_uuid(id), external_id }).collect())
}
