//! Forgetting what can no longer be used: expired sign-in links, sessions and counts of
//! failed password attempts. The job registry runs it once a minute.

use tidings_core::Timestamp;
use tidings_store::{sessions, sign_in, sign_in_attempts};

use crate::{App, AppError};

/// Deletes expired sign-in links and sessions; returns how many of each.
pub async fn purge_expired(app: &App) -> Result<(u64, u64), AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let links = sign_in::purge_expired(&mut tx, now).await?;
    let sessions = sessions::purge_expired(&mut tx, now).await?;
    // An hour is well past any window of failed password attempts.
    sign_in_attempts::purge_before(&mut tx, Timestamp::from_millis(now.as_millis() - 3_600_000)).await?;
    tx.commit().await?;
    Ok((links, sessions))
}
