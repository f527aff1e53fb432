//! Members' browsers subscribed to web push.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::{MemberId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::placeholders;
use crate::{Result, Tx};

/// One browser's subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub member_id: MemberId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub user_agent: Option<String>,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    member_id: Uuid,
    endpoint: String,
    p256dh: String,
    auth: String,
    user_agent: Option<String>,
    created_at: i64,
}

/// Saves a browser's subscription for `member` (a browser subscribed again, or by someone
/// else signed in on it, replaces its row).
pub async fn subscribe(tx: &mut Tx, s: &PushSubscription) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into push_subscriptions (endpoint, member_id, p256dh, auth, user_agent, created_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (endpoint) do update set member_id = excluded.member_id, \
         p256dh = excluded.p256dh, auth = excluded.auth, user_agent = excluded.user_agent, \
         created_at = excluded.created_at"
    )
    .bind(&s.endpoint)
    .bind(s.member_id.as_uuid())
    .bind(&s.p256dh)
    .bind(&s.auth)
    .bind(&s.user_agent)
    .bind(s.created_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Removes a member's subscription; whether there was one.
pub async fn unsubscribe(tx: &mut Tx, member: MemberId, endpoint: &str) -> Result<bool> {
    let n = on_tx!(tx, |c| sqlx::query("delete from push_subscriptions where member_id = $1 and endpoint = $2")
        .bind(member.as_uuid())
        .bind(endpoint)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Removes subscriptions their push service says are gone.
pub async fn remove(tx: &mut Tx, endpoints: &[String]) -> Result<()> {
    for endpoint in endpoints {
        on_tx!(tx, |c| sqlx::query("delete from push_subscriptions where endpoint = $1")
            .bind(endpoint)
            .execute(c)
            .await
            .map(|_| ()))?;
    }
    Ok(())
}

/// The subscriptions of these members, by member.
pub async fn of_members(tx: &mut Tx, members: &[MemberId]) -> Result<HashMap<MemberId, Vec<PushSubscription>>> {
    let mut out: HashMap<MemberId, Vec<PushSubscription>> = HashMap::new();
    for chunk in members.chunks(500) {
        let sql = format!(
            "select member_id, endpoint, p256dh, auth, user_agent, created_at from push_subscriptions \
             where member_id in ({}) order by created_at",
            placeholders(tx.dialect(), 1, chunk.len())
        );
        let rows: Vec<Row> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        for r in rows {
            let member_id = MemberId::from_uuid(r.member_id);
            out.entry(member_id).or_default().push(PushSubscription {
                member_id,
                endpoint: r.endpoint,
                p256dh: r.p256dh,
                auth: r.auth,
                user_agent: r.user_agent,
                created_at: Timestamp::from_millis(r.created_at),
            });
        }
    }
    Ok(out)
}

/// Whether any member has a browser subscribed.
pub async fn any(tx: &mut Tx) -> Result<bool> {
    let row: Option<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select endpoint from push_subscriptions limit 1").fetch_optional(c).await)?;
    Ok(row.is_some())
}
