//! The send path in SQL. A release fans a message out (`fan_out`); reminders, escalation
//! and sequences queue further deliveries with their own purpose (`queue`); workers claim
//! due deliveries under a lease and record what each attempt came to (`work`).

pub mod chase;
mod fan_out;
pub mod noise;
mod work;

pub use fan_out::{ReachCounts, Release, ReleaseBatch, fans_out, posts_reach, reach, release_batch, release_progress};
pub use work::{Claimed, Settled, claim, claim_digests, renew_lease, settle};

use sqlx::AssertSqlSafe;
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::{MemberId, MessageId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::reports::{self, Counts, Key};
use crate::sql::placeholders;
use crate::{Dialect, Error, Result, Tx};

/// One delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Channel,
    pub purpose: Purpose,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub due_at: Option<Timestamp>,
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    message_id: Uuid,
    member_id: Uuid,
    channel: String,
    purpose: String,
    status: String,
    attempts: i32,
    due_at: Option<i64>,
    provider_id: Option<String>,
    error: Option<String>,
    updated_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = Error;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Self {
            message_id: MessageId::from_uuid(r.message_id),
            member_id: MemberId::from_uuid(r.member_id),
            channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
            purpose: r.purpose.parse::<Purpose>().map_err(Error::corrupt)?,
            status: r.status.parse::<DeliveryStatus>().map_err(Error::corrupt)?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            due_at: r.due_at.map(Timestamp::from_millis),
            provider_id: r.provider_id,
            error: r.error,
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

const DELIVERY: &str = "select message_id, member_id, channel, purpose, status, attempts, due_at, provider_id, \
     error, updated_at from deliveries";

/// Names one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryKey {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Channel,
    pub purpose: Purpose,
}

/// One delivery by its key, bound as $1 to $4 in `DeliveryKey`'s field order.
const BY_KEY: &str = "message_id = $1 and member_id = $2 and channel = $3 and purpose = $4";

pub async fn get(tx: &mut Tx, key: DeliveryKey) -> Result<Delivery> {
    let sql = format!("{DELIVERY} where {BY_KEY}");
    let row: Option<DeliveryRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(key.message_id.as_uuid())
        .bind(key.member_id.as_uuid())
        .bind(key.channel.as_str())
        .bind(key.purpose.to_string())
        .fetch_optional(c)
        .await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// Queues deliveries beyond a release's (a reminder, an escalation step, a sequence
/// step), due at `due_at`. A delivery that already exists is left as it is, so a job that
/// runs twice queues each send once. Returns how many were queued.
pub async fn queue(tx: &mut Tx, keys: &[DeliveryKey], due_at: Timestamp, now: Timestamp) -> Result<u64> {
    const COLUMNS: usize = 6;
    let d = tx.dialect();
    let mut queued: std::collections::HashMap<(MessageId, Channel), i64> = Default::default();
    for chunk in keys.chunks(500) {
        let rows: Vec<String> =
            (0..chunk.len()).map(|i| format!("({}, 'queued', 0)", placeholders(d, i * COLUMNS + 1, COLUMNS))).collect();
        let sql = format!(
            "insert into deliveries (message_id, member_id, channel, purpose, due_at, updated_at, status, attempts) \
             values {} on conflict do nothing returning message_id, channel",
            rows.join(", ")
        );
        let written: Vec<(Uuid, String)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for k in chunk {
                q = q
                    .bind(k.message_id.as_uuid())
                    .bind(k.member_id.as_uuid())
                    .bind(k.channel.as_str())
                    .bind(k.purpose.to_string())
                    .bind(due_at.as_millis())
                    .bind(now.as_millis());
            }
            q.fetch_all(c).await
        })?;
        for (message, channel) in written {
            let channel = channel.parse::<Channel>().map_err(Error::corrupt)?;
            *queued.entry((MessageId::from_uuid(message), channel)).or_default() += 1;
        }
    }
    let total = queued.values().sum::<i64>();
    let deltas: Vec<_> = queued
        .into_iter()
        .map(|((message, channel), n)| {
            (
                message,
                Key::Delivery { channel, status: DeliveryStatus::Queued },
                Counts { deliveries: n, ..Counts::default() },
            )
        })
        .collect();
    reports::add(tx, &deltas).await?;
    Ok(total.unsigned_abs())
}

/// Every delivery of a message (for tests and small messages; reports count in SQL).
pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<Vec<Delivery>> {
    let sql = format!("{DELIVERY} where message_id = $1 order by member_id, channel, purpose");
    let rows: Vec<DeliveryRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// Messages whose release is done and none of whose deliveries awaits an attempt: they
/// move from sending to sent. Items waiting for members' digests do not hold a message in
/// sending for a week.
pub async fn finish_sent(tx: &mut Tx, now: Timestamp) -> Result<Vec<MessageId>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(
        "update messages set state = 'sent', updated_at = $1 where state = 'sending' and release_done \
         and not exists (select 1 from deliveries d where d.message_id = messages.id and d.due_at is not null \
         and d.purpose <> 'digest') \
         and not exists (select 1 from channel_posts p where p.message_id = messages.id and p.due_at is not null) \
         returning id"
    )
    .bind(now.as_millis())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| MessageId::from_uuid(id)).collect())
}

/// The delivery a provider knows by `provider_id` on `channel`.
pub async fn by_provider_id(tx: &mut Tx, channel: Channel, provider_id: &str) -> Result<Option<DeliveryKey>> {
    let rows: Option<(Uuid, Uuid, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select message_id, member_id, purpose from deliveries where provider_id = $1 and channel = $2 limit 1"
    )
    .bind(provider_id)
    .bind(channel.as_str())
    .fetch_optional(c)
    .await)?;
    rows.map(|(message, member, purpose)| {
        Ok(DeliveryKey {
            message_id: MessageId::from_uuid(message),
            member_id: MemberId::from_uuid(member),
            channel,
            purpose: purpose.parse::<Purpose>().map_err(Error::corrupt)?,
        })
    })
    .transpose()
}

/// Marks a delivery with a later outcome reported by the provider (delivered, bounced).
pub async fn mark(
    tx: &mut Tx,
    key: DeliveryKey,
    status: DeliveryStatus,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    // The status it leaves, read under the row's lock, moves the report's counts.
    let lock = if tx.dialect() == Dialect::Postgres { " for update" } else { "" };
    let sql = format!("select status from deliveries where {BY_KEY}{lock}");
    let was: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(key.message_id.as_uuid())
        .bind(key.member_id.as_uuid())
        .bind(key.channel.as_str())
        .bind(key.purpose.to_string())
        .fetch_optional(c)
        .await)?;
    let was = was.ok_or(Error::NotFound)?.parse::<DeliveryStatus>().map_err(Error::corrupt)?;
    reports::add(tx, &reports::delivery_moved(key.message_id, key.channel, was, status, 1)).await?;
    let sql = format!(
        "update deliveries set status = $5, error = coalesce($6, error), due_at = null, updated_at = $7 where {BY_KEY}"
    );
    let done = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(key.message_id.as_uuid())
        .bind(key.member_id.as_uuid())
        .bind(key.channel.as_str())
        .bind(key.purpose.to_string())
        .bind(status.as_str())
        .bind(error)
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}
