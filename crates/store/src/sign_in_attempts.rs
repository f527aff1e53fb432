//! Failed password sign-ins per account within a window (see `tidings_app::passwords`).

use tidings_core::Timestamp;

use crate::db::on_tx;
use crate::{Result, Tx};

/// Failures counted for `account` in the window that began at or after `since`.
pub async fn failures_since(tx: &mut Tx, account: &str, since: Timestamp) -> Result<i64> {
    let n: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(
        "select failures from sign_in_attempts where account = $1 and window_start >= $2"
    )
    .bind(account.to_owned())
    .bind(since.as_millis())
    .fetch_optional(c)
    .await)?;
    Ok(n.unwrap_or(0))
}

/// Counts a failure: one more in the current window, or the first of a new window when the
/// last one began before `window_from`.
pub async fn fail(tx: &mut Tx, account: &str, now: Timestamp, window_from: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into sign_in_attempts (account, failures, window_start) values ($1, 1, $2) \
         on conflict (account) do update set \
         failures = case when sign_in_attempts.window_start < $3 then 1 else sign_in_attempts.failures + 1 end, \
         window_start = case when sign_in_attempts.window_start < $3 then $2 else sign_in_attempts.window_start end"
    )
    .bind(account.to_owned())
    .bind(now.as_millis())
    .bind(window_from.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Forgets the account's failures (a successful sign-in).
pub async fn clear(tx: &mut Tx, account: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from sign_in_attempts where account = $1")
        .bind(account.to_owned())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Forgets windows that began before `before`; returns how many.
pub async fn purge_before(tx: &mut Tx, before: Timestamp) -> Result<u64> {
    let n = on_tx!(tx, |c| sqlx::query("delete from sign_in_attempts where window_start < $1")
        .bind(before.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n)
}
