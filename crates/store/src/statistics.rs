//! The planner's statistics of the directory. After a bulk import PostgreSQL's picture of
//! `members` and `partners` is stale until autovacuum comes by, and a ladder step or a
//! release run meanwhile is planned for a directory that is not there (a partial index
//! judged empty, a scan where a lookup would do). SQLite plans without statistics here.

use crate::db::on_tx;
use crate::{Dialect, Result, Tx};

/// Samples `members` and `partners` again (PostgreSQL; a no-op on SQLite).
pub async fn refresh_directory(tx: &mut Tx) -> Result<()> {
    if tx.dialect() != Dialect::Postgres {
        return Ok(());
    }
    on_tx!(tx, |c| sqlx::query("analyze members, partners").execute(c).await.map(|_| ()))?;
    Ok(())
}
