//! Posts of messages to partners' bound channels. A release queues one post per partner
//! reached and bound channel the message names; workers claim due posts under a lease,
//! post them and save what each attempt came to, like deliveries.

use sqlx::AssertSqlSafe;
use tidings_core::consent::Channel;
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{MessageId, PartnerId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Dialect, Error, Result, Tx};

/// Queues the posts of a message whose fan-out is done: one for each partner with a
/// member among its recipients and a binding on one of `channels`. Run once, when the
/// release finishes; queued again it adds nothing.
pub async fn queue_for_release(tx: &mut Tx, message: MessageId, channels: &[Channel], now: Timestamp) -> Result<u64> {
    if channels.is_empty() {
        return Ok(0);
    }
    let list: Vec<String> = channels.iter().map(|c| format!("'{}'", c.as_str())).collect();
    let sql = format!(
        "insert into channel_posts (message_id, partner_id, channel, status, attempts, due_at, updated_at) \
         select $1, b.partner_id, b.channel, 'queued', 0, $2, $2 from partner_bindings b \
         where b.channel in ({}) and b.partner_id in (select partner_id from recipients where message_id = $1) \
         on conflict do nothing",
        list.join(", ")
    );
    let done = on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(now.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}

/// A post a worker holds under a lease, with where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPost {
    pub message_id: MessageId,
    pub partner_id: PartnerId,
    pub channel: Channel,
    pub attempts: u32,
    /// The binding's URL now; `None` when the partner removed the binding since.
    pub url: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    message_id: Uuid,
    partner_id: Uuid,
    channel: String,
    attempts: i32,
}

/// Claims up to `limit` due posts until `lease_until`: queued ones whose time has come and
/// those whose lease ran out with their worker.
pub async fn claim(tx: &mut Tx, now: Timestamp, lease_until: Timestamp, limit: usize) -> Result<Vec<ClaimedPost>> {
    let pick = format!(
        "select message_id, partner_id, channel from channel_posts where due_at <= $2 order by due_at limit {limit}"
    );
    let sql = match tx.dialect() {
        Dialect::Sqlite => format!(
            "update channel_posts set status = 'sending', attempts = attempts + 1, due_at = $1, updated_at = $2 \
             where (message_id, partner_id, channel) in ({pick}) \
             returning message_id, partner_id, channel, attempts"
        ),
        Dialect::Postgres => format!(
            "update channel_posts p set status = 'sending', attempts = p.attempts + 1, due_at = $1, updated_at = $2 \
             from ({pick} for update skip locked) c \
             where p.message_id = c.message_id and p.partner_id = c.partner_id and p.channel = c.channel \
             returning p.message_id, p.partner_id, p.channel, p.attempts"
        ),
    };
    let rows: Vec<ClaimedRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_all(c)
        .await)?;
    let mut claimed = Vec::with_capacity(rows.len());
    for r in rows {
        let channel = r.channel.parse::<Channel>().map_err(Error::corrupt)?;
        let partner_id = PartnerId::from_uuid(r.partner_id);
        let url = super::get(tx, partner_id, channel).await?.map(|b| b.url);
        claimed.push(ClaimedPost {
            message_id: MessageId::from_uuid(r.message_id),
            partner_id,
            channel,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            url,
        });
    }
    Ok(claimed)
}

/// What a post's attempt came to.
#[derive(Debug, Clone)]
pub struct SettledPost<'a> {
    pub claimed: &'a ClaimedPost,
    /// `Sent`, `Failed`, or `Queued`/`Unknown` with `due_at` for a retry.
    pub status: DeliveryStatus,
    pub due_at: Option<Timestamp>,
    pub error: Option<&'a str>,
}

/// Saves outcomes, each only if it is still the attempt its worker claimed, and keeps
/// each binding's last post and last lasting failure. Returns how many were saved.
pub async fn settle(tx: &mut Tx, outcomes: &[SettledPost<'_>], now: Timestamp) -> Result<usize> {
    let mut saved = 0;
    for o in outcomes {
        let c = o.claimed;
        let done = on_tx!(tx, |conn| sqlx::query(
            "update channel_posts set status = $4, due_at = $5, error = $6, updated_at = $7 \
             where message_id = $1 and partner_id = $2 and channel = $3 and status = 'sending' and attempts = $8"
        )
        .bind(c.message_id.as_uuid())
        .bind(c.partner_id.as_uuid())
        .bind(c.channel.as_str())
        .bind(o.status.as_str())
        .bind(o.due_at.map(Timestamp::as_millis))
        .bind(o.error)
        .bind(now.as_millis())
        .bind(i32::try_from(c.attempts).unwrap_or(i32::MAX))
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
        if done == 0 {
            continue;
        }
        saved += 1;
        let binding = match o.status {
            DeliveryStatus::Sent => Some(("last_posted_at = $3, last_error = null", None)),
            DeliveryStatus::Failed => Some(("last_error = $4", o.error)),
            _ => None,
        };
        if let Some((set, error)) = binding {
            let sql = format!("update partner_bindings set {set} where partner_id = $1 and channel = $2");
            on_tx!(tx, |conn| sqlx::query(AssertSqlSafe(sql))
                .bind(c.partner_id.as_uuid())
                .bind(c.channel.as_str())
                .bind(now.as_millis())
                .bind(error)
                .execute(conn)
                .await
                .map(|_| ()))?;
        }
    }
    Ok(saved)
}

/// One post as a report lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Post {
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub error: Option<String>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct PostRow {
    partner_id: Uuid,
    partner_name: String,
    channel: String,
    status: String,
    attempts: i32,
    error: Option<String>,
    updated_at: i64,
}

/// A message's posts, by partner name, at most `limit`.
pub async fn of_message(tx: &mut Tx, message: MessageId, limit: u32) -> Result<Vec<Post>> {
    let sql = format!(
        "select c.partner_id, p.name as partner_name, c.channel, c.status, c.attempts, c.error, c.updated_at \
         from channel_posts c join partners p on p.id = c.partner_id where c.message_id = $1 \
         order by p.name, c.partner_id, c.channel limit {limit}"
    );
    let rows: Vec<PostRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?;
    rows.into_iter()
        .map(|r| {
            Ok(Post {
                partner_id: PartnerId::from_uuid(r.partner_id),
                partner_name: r.partner_name,
                channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
                status: r.status.parse::<DeliveryStatus>().map_err(Error::corrupt)?,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                error: r.error,
                updated_at: Timestamp::from_millis(r.updated_at),
            })
        })
        .collect()
}

/// How many of a message's posts are in each channel and status.
pub async fn counts(tx: &mut Tx, message: MessageId) -> Result<Vec<(Channel, DeliveryStatus, i64)>> {
    let rows: Vec<(String, String, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select channel, status, count(*) from channel_posts where message_id = $1 group by channel, status \
         order by channel, status"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(channel, status, n)| {
            Ok((
                channel.parse::<Channel>().map_err(Error::corrupt)?,
                status.parse::<DeliveryStatus>().map_err(Error::corrupt)?,
                n,
            ))
        })
        .collect()
}

/// The partners a message was posted to (the post sent or delivered), with the service.
pub async fn posted_partners(tx: &mut Tx, message: MessageId) -> Result<Vec<(Channel, PartnerId)>> {
    let rows: Vec<(String, Uuid)> = on_tx!(tx, |c| sqlx::query_as(
        "select channel, partner_id from channel_posts where message_id = $1 and status in ('sent', 'delivered')"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(channel, partner)| {
            Ok((channel.parse::<Channel>().map_err(Error::corrupt)?, PartnerId::from_uuid(partner)))
        })
        .collect()
}
