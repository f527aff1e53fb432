//! The numbers an operator watches: the queue by channel, report counts not yet folded,
//! the database's size.

use tidings_core::Timestamp;
use tidings_core::consent::Channel;

use crate::db::{Conn, on_tx};
use crate::{Error, Result, Tx};

/// The deliveries waiting on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub channel: Channel,
    /// Waiting for an attempt (queued, retrying, or held by a worker's lease).
    pub waiting: i64,
    /// Of those, the ones whose time has come.
    pub due: i64,
    /// The earliest due time among the waiting ones.
    pub oldest_due_at: Option<Timestamp>,
}

/// The queue by channel, from the index of due deliveries.
pub async fn queue(tx: &mut Tx, now: Timestamp) -> Result<Vec<Queue>> {
    let rows: Vec<(String, i64, i64, Option<i64>)> = on_tx!(tx, |c| sqlx::query_as(
        "select channel, count(*), coalesce(sum(case when due_at <= $1 then 1 else 0 end), 0), min(due_at) \
         from deliveries where due_at is not null group by channel order by channel"
    )
    .bind(now.as_millis())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(channel, waiting, due, oldest)| {
            Ok(Queue {
                channel: channel.parse().map_err(Error::corrupt)?,
                waiting,
                due,
                oldest_due_at: oldest.map(Timestamp::from_millis),
            })
        })
        .collect()
}

/// Report count differences written but not yet summed into the reports.
pub async fn unfolded_report_counts(tx: &mut Tx) -> Result<i64> {
    let n: i64 = on_tx!(tx, |c| sqlx::query_scalar("select count(*) from message_rollup_deltas").fetch_one(c).await)?;
    Ok(n)
}

/// The database's size on disk, in bytes.
pub async fn database_bytes(tx: &mut Tx) -> Result<i64> {
    let bytes: i64 = match tx.conn() {
        Conn::Sqlite(c) => {
            sqlx::query_scalar("select page_count * page_size from pragma_page_count(), pragma_page_size()")
                .fetch_one(c)
                .await?
        }
        Conn::Postgres(c) => sqlx::query_scalar("select pg_database_size(current_database())").fetch_one(c).await?,
    };
    Ok(bytes)
}
