//! Topics and partner groups have the same shape (key, name, description); their
//! writes live here once, parameterized by the table.

use sqlx::AssertSqlSafe;
use tidings_core::{Keyed, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::found;
use crate::{Result, Tx};

#[derive(Clone, Copy)]
pub(crate) enum Table {
    Topics,
    PartnerGroups,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Self::Topics => "topics",
            Self::PartnerGroups => "partner_groups",
        }
    }
}

pub(crate) async fn insert(tx: &mut Tx, table: Table, id: Uuid, k: &Keyed, now: Timestamp) -> Result<()> {
    let sql = format!(
        "insert into {} (id, key, name, description, created_at, updated_at) values ($1, $2, $3, $4, $5, $5)",
        table.name()
    );
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(k.key.as_str().to_owned())
        .bind(k.name.clone())
        .bind(k.description.clone())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub(crate) async fn update(tx: &mut Tx, table: Table, id: Uuid, k: &Keyed, now: Timestamp) -> Result<()> {
    let sql =
        format!("update {} set key = $2, name = $3, description = $4, updated_at = $5 where id = $1", table.name());
    let done = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .bind(k.key.as_str().to_owned())
        .bind(k.name.clone())
        .bind(k.description.clone())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}

pub(crate) async fn delete(tx: &mut Tx, table: Table, id: Uuid) -> Result<()> {
    let sql = format!("delete from {} where id = $1", table.name());
    let done = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql)).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    found(done)
}
