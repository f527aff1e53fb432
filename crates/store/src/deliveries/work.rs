//! Workers' side of the queue: claiming due deliveries under a lease and saving what each
//! attempt came to. A delivery is keyed by message, member, channel and purpose.

use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::{MemberId, MessageId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::reports;
use crate::sql::placeholders;
use crate::{Dialect, Error, Result, Tx};

/// A delivery a worker holds under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Channel,
    pub purpose: Purpose,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    message_id: Uuid,
    member_id: Uuid,
    channel: String,
    purpose: String,
    attempts: i32,
}

/// Claims up to `limit` due deliveries on `channel` until `lease_until`: first those whose
/// lease ran out with their worker (a killed worker's batch goes before fresh work, not
/// after a whole send), then queued ones whose time has come, oldest first. PostgreSQL
/// skips rows another worker holds; SQLite's single writer serializes claims.
pub async fn claim(
    tx: &mut Tx,
    channel: Channel,
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
) -> Result<Vec<Claimed>> {
    // The partial index `deliveries_leased` holds only deliveries being sent, so finding
    // the expired ones costs nothing when there are none. The channel is a literal from
    // `Channel::as_str`, so both indexes' leading column is matched.
    // Digest items go out together per member (`claim_digests`); the index on due
    // deliveries leaves them out under this very condition.
    let on = format!("channel = '{}' and purpose <> 'digest'", channel.as_str());
    let expired = format!("{on} and status = 'sending' and due_at <= $2");
    let mut claimed = claim_where(tx, &expired, now, lease_until, limit).await?;
    if claimed.len() < limit {
        let due = format!("{on} and due_at <= $2");
        let rest = claim_where(tx, &due, now, lease_until, limit - claimed.len()).await?;
        claimed.extend(rest);
    }
    Ok(claimed)
}

async fn claim_where(
    tx: &mut Tx,
    condition: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: usize,
) -> Result<Vec<Claimed>> {
    claim_selected(tx, &format!("{condition} order by due_at limit {limit}"), now, lease_until).await
}

/// Leases the deliveries `select ... from deliveries where {selection}` picks.
async fn claim_selected(tx: &mut Tx, selection: &str, now: Timestamp, lease_until: Timestamp) -> Result<Vec<Claimed>> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => format!(
            "update deliveries set status = 'sending', attempts = attempts + 1, due_at = $1, updated_at = $2 \
             where (message_id, member_id, channel, purpose) in (select message_id, member_id, channel, purpose \
             from deliveries where {selection}) \
             returning message_id, member_id, channel, purpose, attempts"
        ),
        Dialect::Postgres => format!(
            "update deliveries d set status = 'sending', attempts = d.attempts + 1, due_at = $1, updated_at = $2 \
             from (select message_id, member_id, channel, purpose from deliveries where {selection} \
             for update skip locked) c \
             where d.message_id = c.message_id and d.member_id = c.member_id and d.channel = c.channel \
             and d.purpose = c.purpose \
             returning d.message_id, d.member_id, d.channel, d.purpose, d.attempts"
        ),
    };
    let rows: Vec<ClaimedRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_all(c)
        .await)?;
    rows.into_iter().map(claimed).collect()
}

fn claimed(r: ClaimedRow) -> Result<Claimed> {
    Ok(Claimed {
        message_id: MessageId::from_uuid(r.message_id),
        member_id: MemberId::from_uuid(r.member_id),
        channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
        purpose: r.purpose.parse::<Purpose>().map_err(Error::corrupt)?,
        attempts: u32::try_from(r.attempts).unwrap_or(0),
    })
}

/// Claims every due digest item of the members with the first due items, up to about
/// `limit` items: a member's items are claimed together, so each member gets one email.
pub async fn claim_digests(tx: &mut Tx, now: Timestamp, lease_until: Timestamp, limit: usize) -> Result<Vec<Claimed>> {
    const DUE: &str = "purpose = 'digest' and due_at is not null and due_at <= $2";
    let members = format!("select member_id from deliveries where {DUE} order by due_at limit {limit}");
    claim_selected(tx, &format!("{DUE} and member_id in ({members})"), now, lease_until).await
}

/// Moves the lease of deliveries still being sent on to `lease_until`, while a slow round
/// is still working on them; a delivery another worker took over meanwhile is left alone.
pub async fn renew_lease(tx: &mut Tx, claimed: &[Claimed], lease_until: Timestamp) -> Result<()> {
    for c in claimed {
        on_tx!(tx, |conn| sqlx::query(
            "update deliveries set due_at = $5 where message_id = $1 and member_id = $2 and channel = $3 \
             and purpose = $4 and status = 'sending' and attempts = $6"
        )
        .bind(c.message_id.as_uuid())
        .bind(c.member_id.as_uuid())
        .bind(c.channel.as_str())
        .bind(c.purpose.to_string())
        .bind(lease_until.as_millis())
        .bind(i32::try_from(c.attempts).unwrap_or(i32::MAX))
        .execute(conn)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// What an attempt came to, to be saved.
#[derive(Debug, Clone)]
pub struct Settled<'a> {
    pub claimed: &'a Claimed,
    pub status: DeliveryStatus,
    /// When to try again (for a retry), else `None`.
    pub due_at: Option<Timestamp>,
    pub provider_id: Option<&'a str>,
    pub error: Option<&'a str>,
    /// The attempt was the provider's outage, not the recipient's failure: it is not
    /// counted against the delivery's attempts.
    pub refund_attempt: bool,
}

/// Saves outcomes. Each row changes only if it is still the attempt its worker claimed:
/// a worker whose lease ran out (and whose delivery was claimed again) changes nothing.
/// Returns, for each outcome, whether it was saved.
pub async fn settle(tx: &mut Tx, outcomes: &[Settled<'_>], now: Timestamp) -> Result<Vec<bool>> {
    const COLUMNS: usize = 10;
    let d = tx.dialect();
    let mut saved = HashSet::with_capacity(outcomes.len());
    // One statement per chunk: a round trip per delivery held PostgreSQL to 3,000 a second.
    for chunk in outcomes.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * COLUMNS;
                match d {
                    // Parameters in VALUES have no type from context on PostgreSQL.
                    Dialect::Postgres => format!(
                        "(${}::uuid, ${}::uuid, ${}::text, ${}::text, ${}::text, ${}::bigint, ${}::text, ${}::text, \
                         ${}::int, ${}::int)",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6,
                        n + 7,
                        n + 8,
                        n + 9,
                        n + 10
                    ),
                    Dialect::Sqlite => format!("({})", placeholders(d, n + 1, COLUMNS)),
                }
            })
            .collect();
        let now_at = chunk.len() * COLUMNS + 1;
        let now_placeholder = match d {
            Dialect::Postgres => format!("${now_at}"),
            Dialect::Sqlite => "?".to_owned(),
        };
        // SQLite 3.51 without statistics scanned all deliveries and looked each up in an
        // automatic index on `v` (85 ms a batch at a million rows); a unary `+` keeps `v`'s
        // columns out of any index, which leaves the primary key lookup. PostgreSQL has no
        // `+` for uuid and needs none.
        let plus = if d == Dialect::Sqlite { "+" } else { "" };
        let sql = format!(
            "with v (message_id, member_id, channel, purpose, status, due_at, provider_id, error, attempts, refund) \
             as (values {}) \
             update deliveries set status = v.status, due_at = v.due_at, \
             provider_id = coalesce(v.provider_id, deliveries.provider_id), error = v.error, updated_at = {now_placeholder}, \
             attempts = deliveries.attempts - v.refund \
             from v where deliveries.message_id = {plus}v.message_id and deliveries.member_id = {plus}v.member_id \
             and deliveries.channel = {plus}v.channel and deliveries.purpose = {plus}v.purpose \
             and deliveries.status = 'sending' and deliveries.attempts = v.attempts \
             returning deliveries.message_id, deliveries.member_id, deliveries.channel, deliveries.purpose, \
             deliveries.status",
            rows.join(", ")
        );
        let changed: Vec<(Uuid, Uuid, String, String, String)> = on_tx!(tx, |c| {
            // Not a named prepared statement: PostgreSQL's generic plan for it (after five
            // runs) hash-joined the whole table, 140 ms a batch instead of 5.
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
            for o in chunk {
                q = q
                    .bind(o.claimed.message_id.as_uuid())
                    .bind(o.claimed.member_id.as_uuid())
                    .bind(o.claimed.channel.as_str())
                    .bind(o.claimed.purpose.to_string())
                    .bind(o.status.as_str())
                    .bind(o.due_at.map(Timestamp::as_millis))
                    .bind(o.provider_id)
                    .bind(o.error)
                    .bind(i32::try_from(o.claimed.attempts).unwrap_or(i32::MAX))
                    .bind(i32::from(o.refund_attempt));
            }
            q.bind(now.as_millis()).fetch_all(c).await
        })?;
        // Each saved attempt leaves `sending` for its outcome, counted once per kind of move.
        let mut moved: HashMap<(Uuid, Channel, DeliveryStatus), i64> = HashMap::new();
        for (message, member, channel, purpose, status) in changed {
            let status = status.parse::<DeliveryStatus>().map_err(Error::corrupt)?;
            *moved.entry((message, channel.parse::<Channel>().map_err(Error::corrupt)?, status)).or_default() += 1;
            saved.insert((message, member, channel, purpose));
        }
        let deltas: Vec<_> = moved
            .into_iter()
            .flat_map(|((message, channel, status), n)| {
                reports::delivery_moved(MessageId::from_uuid(message), channel, DeliveryStatus::Sending, status, n)
            })
            .collect();
        reports::add(tx, &deltas).await?;
    }
    Ok(outcomes
        .iter()
        .map(|o| {
            let key = (
                o.claimed.message_id.as_uuid(),
                o.claimed.member_id.as_uuid(),
                o.claimed.channel.as_str().to_owned(),
                o.claimed.purpose.to_string(),
            );
            saved.contains(&key)
        })
        .collect())
}
