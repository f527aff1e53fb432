//! Email addresses never to mail again: hard bounces and complaints.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use tidings_core::{Email, Timestamp};

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, found};
use crate::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suppression {
    pub email: String,
    pub reason: String,
    #[serde(skip)]
    created_at: i64,
}

impl Suppression {
    pub fn created_at(&self) -> Timestamp {
        Timestamp::from_millis(self.created_at)
    }
}

/// Puts an address on the list; `false` when it was already there (the first reason stays).
pub async fn add(tx: &mut Tx, email: &Email, reason: &str, now: Timestamp) -> Result<bool> {
    let done = on_tx!(tx, |c| sqlx::query(
        "insert into email_suppressions (email, reason, created_at) values ($1, $2, $3) on conflict do nothing"
    )
    .bind(email.as_str())
    .bind(reason)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

/// Takes an address off the list (after the owner fixed their mailbox).
pub async fn remove(tx: &mut Tx, email: &Email) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("delete from email_suppressions where email = $1")
        .bind(email.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}

pub async fn list(tx: &mut Tx, after: Option<&str>, limit: Option<u32>) -> Result<Page<Suppression>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(after) = after {
        let n = f.bind(Value::Text(after.to_owned()));
        f.push(format!("email > {n}"));
    }
    let sql = format!(
        "select email, reason, created_at from email_suppressions {} order by email limit {}",
        f.sql(),
        limit + 1
    );
    let rows: Vec<Suppression> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    Ok(Page::from_rows(rows, limit, |s| s.email.clone()))
}
