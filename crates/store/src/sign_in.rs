//! Portal sign-in links. Only a SHA-256 hash of each token is stored; redeeming one is a
//! single conditional update, so two requests racing with the same link cannot both win.

use tidings_core::{MemberId, Timestamp};
use uuid::Uuid;

use crate::Result;
use crate::Tx;
use crate::db::on_tx;

pub async fn insert(
    tx: &mut Tx,
    token_hash: &str,
    member: MemberId,
    created_at: Timestamp,
    expires_at: Timestamp,
) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into sign_in_links (token_hash, member_id, created_at, expires_at) values ($1, $2, $3, $4)"
    )
    .bind(token_hash.to_owned())
    .bind(member.as_uuid())
    .bind(created_at.as_millis())
    .bind(expires_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Uses the link once: the member it signs in, if it exists, is unused and has not expired.
pub async fn redeem(tx: &mut Tx, token_hash: &str, now: Timestamp) -> Result<Option<MemberId>> {
    let row: Option<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(
        "update sign_in_links set used_at = $2 where token_hash = $1 and used_at is null and expires_at > $2 \
         returning member_id"
    )
    .bind(token_hash.to_owned())
    .bind(now.as_millis())
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|(id,)| MemberId::from_uuid(id)))
}

/// How many links were made for the member since `since`: a cap on how often one address
/// can be sent a link.
pub async fn count_since(tx: &mut Tx, member: MemberId, since: Timestamp) -> Result<i64> {
    let (n,): (i64,) =
        on_tx!(tx, |c| sqlx::query_as("select count(*) from sign_in_links where member_id = $1 and created_at > $2")
            .bind(member.as_uuid())
            .bind(since.as_millis())
            .fetch_one(c)
            .await)?;
    Ok(n)
}

/// Forgets links that can no longer be used.
pub async fn purge_expired(tx: &mut Tx, now: Timestamp) -> Result<u64> {
    let n = on_tx!(tx, |c| sqlx::query("delete from sign_in_links where expires_at <= $1")
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
