//! Browser sessions: opaque JSON data under a random id, until an expiry, with the person
//! it signs in (`owner`) when there is one. Saving is one upsert; loading ignores an
//! expired session, `purge_expired` forgets them, and `end_for` signs a person out.

use tidings_core::Timestamp;

use crate::Result;
use crate::Tx;
use crate::db::on_tx;

/// Adds a session; `false` when the id is taken (the caller draws another).
pub async fn create(tx: &mut Tx, id: &str, data: &str, expires_at: Timestamp, owner: Option<&str>) -> Result<bool> {
    let n = on_tx!(tx, |c| sqlx::query(
        "insert into sessions (id, data, expires_at, owner) values ($1, $2, $3, $4) on conflict (id) do nothing"
    )
    .bind(id.to_owned())
    .bind(data.to_owned())
    .bind(expires_at.as_millis())
    .bind(owner)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn save(tx: &mut Tx, id: &str, data: &str, expires_at: Timestamp, owner: Option<&str>) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into sessions (id, data, expires_at, owner) values ($1, $2, $3, $4) \
         on conflict (id) do update set data = excluded.data, expires_at = excluded.expires_at, owner = excluded.owner"
    )
    .bind(id.to_owned())
    .bind(data.to_owned())
    .bind(expires_at.as_millis())
    .bind(owner)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The session's data, unless it has expired.
pub async fn load(tx: &mut Tx, id: &str, now: Timestamp) -> Result<Option<(String, Timestamp)>> {
    let row: Option<(String, i64)> =
        on_tx!(tx, |c| sqlx::query_as("select data, expires_at from sessions where id = $1 and expires_at > $2")
            .bind(id.to_owned())
            .bind(now.as_millis())
            .fetch_optional(c)
            .await)?;
    Ok(row.map(|(data, at)| (data, Timestamp::from_millis(at))))
}

pub async fn delete(tx: &mut Tx, id: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from sessions where id = $1").bind(id.to_owned()).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Ends every session of `owner` but `keep` (the one making the change); returns how many.
pub async fn end_for(tx: &mut Tx, owner: &str, keep: Option<&str>) -> Result<u64> {
    let n = on_tx!(tx, |c| sqlx::query("delete from sessions where owner = $1 and id <> $2")
        .bind(owner.to_owned())
        .bind(keep.unwrap_or_default().to_owned())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}

pub async fn purge_expired(tx: &mut Tx, now: Timestamp) -> Result<u64> {
    let n = on_tx!(tx, |c| sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
