//! A partner's bound channels: one webhook URL per partner and service.

use tidings_core::consent::Channel;
use tidings_core::{PartnerId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

/// A partner's shared channel, as stored. The URL is a secret: callers show it masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub channel: Channel,
    pub url: String,
    pub label: String,
    /// Who bound it: a staff email or a member's.
    pub bound_by: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_posted_at: Option<Timestamp>,
    /// Why the last post failed for good, until one succeeds again.
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct BindingRow {
    partner_id: Uuid,
    partner_name: String,
    channel: String,
    url: String,
    label: String,
    bound_by: String,
    created_at: i64,
    updated_at: i64,
    last_posted_at: Option<i64>,
    last_error: Option<String>,
}

impl TryFrom<BindingRow> for Binding {
    type Error = Error;
    fn try_from(r: BindingRow) -> Result<Self> {
        Ok(Self {
            partner_id: PartnerId::from_uuid(r.partner_id),
            partner_name: r.partner_name,
            channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
            url: r.url,
            label: r.label,
            bound_by: r.bound_by,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
            last_posted_at: r.last_posted_at.map(Timestamp::from_millis),
            last_error: r.last_error,
        })
    }
}

const SELECT: &str = "select b.partner_id, p.name as partner_name, b.channel, b.url, b.label, b.bound_by, \
     b.created_at, b.updated_at, b.last_posted_at, b.last_error from partner_bindings b \
     join partners p on p.id = b.partner_id";

/// Binds (or binds again, replacing the URL) a partner's channel; a new URL clears the
/// last error.
pub async fn bind(
    tx: &mut Tx,
    partner: PartnerId,
    channel: Channel,
    url: &str,
    label: &str,
    by: &str,
    now: Timestamp,
) -> Result<Binding> {
    on_tx!(tx, |c| sqlx::query(
        "insert into partner_bindings (partner_id, channel, url, label, bound_by, created_at, updated_at) \
         values ($1, $2, $3, $4, $5, $6, $6) on conflict (partner_id, channel) do update set url = excluded.url, \
         label = excluded.label, bound_by = excluded.bound_by, updated_at = excluded.updated_at, last_error = null"
    )
    .bind(partner.as_uuid())
    .bind(channel.as_str())
    .bind(url)
    .bind(label)
    .bind(by)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    get(tx, partner, channel).await?.ok_or_else(|| Error::corrupt("a binding just saved is missing"))
}

/// Removes a partner's binding; whether there was one.
pub async fn unbind(tx: &mut Tx, partner: PartnerId, channel: Channel) -> Result<bool> {
    let done = on_tx!(tx, |c| sqlx::query("delete from partner_bindings where partner_id = $1 and channel = $2")
        .bind(partner.as_uuid())
        .bind(channel.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

pub async fn get(tx: &mut Tx, partner: PartnerId, channel: Channel) -> Result<Option<Binding>> {
    let sql = format!("{SELECT} where b.partner_id = $1 and b.channel = $2");
    let row: Option<BindingRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(partner.as_uuid())
        .bind(channel.as_str())
        .fetch_optional(c)
        .await)?;
    row.map(Binding::try_from).transpose()
}

/// A partner's bindings, by service.
pub async fn of_partner(tx: &mut Tx, partner: PartnerId) -> Result<Vec<Binding>> {
    let sql = format!("{SELECT} where b.partner_id = $1 order by b.channel");
    let rows: Vec<BindingRow> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(partner.as_uuid()).fetch_all(c).await)?;
    rows.into_iter().map(Binding::try_from).collect()
}

/// Every partner's bindings, by partner name, at most `limit`.
pub async fn all(tx: &mut Tx, limit: u32) -> Result<Vec<Binding>> {
    let sql = format!("{SELECT} order by p.name, b.partner_id, b.channel limit {limit}");
    let rows: Vec<BindingRow> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(c).await)?;
    rows.into_iter().map(Binding::try_from).collect()
}

/// Whether any partner has a channel bound on `channel`.
pub async fn any_bound(tx: &mut Tx, channel: Channel) -> Result<bool> {
    let row: Option<(i32,)> =
        on_tx!(tx, |c| sqlx::query_as("select 1 from partner_bindings where channel = $1 limit 1")
            .bind(channel.as_str())
            .fetch_optional(c)
            .await)?;
    Ok(row.is_some())
}
