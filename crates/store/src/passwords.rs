//! Passwords, as argon2id hashes only: members' optional portal passwords and staff
//! passwords for the admin console, one table each with the same columns.

use sqlx::AssertSqlSafe;
use tidings_core::{MemberId, StaffId, Timestamp};
use uuid::Uuid;

use crate::Result;
use crate::Tx;
use crate::db::on_tx;

/// Whose password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Member(MemberId),
    Staff(StaffId),
}

impl Owner {
    /// The table, its key column and the key.
    fn row(self) -> (&'static str, &'static str, Uuid) {
        match self {
            Self::Member(id) => ("member_passwords", "member_id", id.as_uuid()),
            Self::Staff(id) => ("staff_passwords", "staff_id", id.as_uuid()),
        }
    }
}

pub async fn get(tx: &mut Tx, owner: Owner) -> Result<Option<String>> {
    let (table, key, id) = owner.row();
    let sql = format!("select hash from {table} where {key} = $1");
    let hash: Option<String> =
        on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql.clone())).bind(id).fetch_optional(c).await)?;
    Ok(hash)
}

pub async fn set(tx: &mut Tx, owner: Owner, hash: &str, now: Timestamp) -> Result<()> {
    let (table, key, id) = owner.row();
    let sql = format!(
        "insert into {table} ({key}, hash, updated_at) values ($1, $2, $3) \
         on conflict ({key}) do update set hash = excluded.hash, updated_at = excluded.updated_at"
    );
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql.clone()))
        .bind(id)
        .bind(hash.to_owned())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, owner: Owner) -> Result<()> {
    let (table, key, id) = owner.row();
    let sql = format!("delete from {table} where {key} = $1");
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql.clone())).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}
