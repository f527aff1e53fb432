//! What the channels can reach, counted for the admin's overview: browsers subscribed to
//! notifications, partners' shared channels bound, webhook endpoints.

use crate::db::on_tx;
use crate::{Result, Tx};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reachable {
    /// Browsers subscribed to notifications.
    pub browsers: i64,
    /// Members with at least one of them.
    pub members_with_browsers: i64,
    /// Partners with a Teams channel bound.
    pub teams_bindings: i64,
    /// Partners with a Slack channel bound.
    pub slack_bindings: i64,
    /// Webhook endpoints that are on (not disabled).
    pub webhook_endpoints: i64,
}

/// Counts each in one statement.
pub async fn reachable(tx: &mut Tx) -> Result<Reachable> {
    Ok(on_tx!(tx, |c| sqlx::query_as(
        "select (select count(*) from push_subscriptions) as browsers, \
         (select count(distinct member_id) from push_subscriptions) as members_with_browsers, \
         (select count(*) from partner_bindings where channel = 'teams') as teams_bindings, \
         (select count(*) from partner_bindings where channel = 'slack') as slack_bindings, \
         (select count(*) from webhook_endpoints where enabled) as webhook_endpoints"
    )
    .fetch_one(c)
    .await)?)
}
