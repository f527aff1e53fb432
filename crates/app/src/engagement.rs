//! The engagement overview: per partner, when its people were last active and how many of
//! the messages of a recent window they read and acknowledged; and the partners gone
//! silent, where no member has been active for a given number of days.

use std::collections::HashMap;

use serde::Serialize;
use tidings_core::{Action, PartnerId, Timestamp};
use tidings_store::engagement as store;

use crate::{App, AppError, Caller};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Serialize)]
pub struct PartnerEngagement {
    pub partner_id: PartnerId,
    pub name: String,
    pub partner_type: String,
    pub tier: String,
    pub region: Option<String>,
    pub members: i64,
    pub last_active: Option<Timestamp>,
    /// Copies of the window's messages, and how many were read.
    pub received: i64,
    pub read: i64,
    /// Copies of the window's messages that ask for acknowledgment, and how many were.
    pub asked: i64,
    pub acknowledged: i64,
    /// No member active for the silence threshold (or ever).
    pub silent: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// Messages released within this many days count for the rates.
    pub window_days: i64,
    /// A partner is silent when no member has been active for this many days.
    pub silent_days: i64,
    pub messages: usize,
    /// The silent first (longest silent first), then the rest by last activity.
    pub partners: Vec<PartnerEngagement>,
}

pub async fn overview(app: &App, caller: &Caller, window_days: i64, silent_days: i64) -> Result<Overview, AppError> {
    caller.require(Action::ReadDirectory, "read engagement")?;
    for (field, days) in [("window_days", window_days), ("silent_days", silent_days)] {
        if !(1..=3650).contains(&days) {
            return Err(AppError::invalid(field, "give a number of days from 1 to 3650"));
        }
    }
    let now = app.clock.now().as_millis();
    let mut tx = app.db.read().await?;
    let released = store::released_since(&mut tx, Timestamp::from_millis(now - window_days * DAY_MS)).await?;
    let all: Vec<_> = released.iter().map(|(id, _)| *id).collect();
    let asking: Vec<_> = released.iter().filter(|(_, asks)| *asks).map(|(id, _)| *id).collect();
    let reads: HashMap<PartnerId, (i64, i64)> =
        store::rates(&mut tx, &all).await?.into_iter().map(|(p, n, r, _)| (p, (n, r))).collect();
    let acks: HashMap<PartnerId, (i64, i64)> =
        store::rates(&mut tx, &asking).await?.into_iter().map(|(p, n, _, a)| (p, (n, a))).collect();
    let activity = store::activity(&mut tx).await?;
    drop(tx);
    let quiet_since = now - silent_days * DAY_MS;
    let mut partners: Vec<PartnerEngagement> = activity
        .into_iter()
        .map(|a| {
            let (received, read) = reads.get(&a.partner_id).copied().unwrap_or_default();
            let (asked, acknowledged) = acks.get(&a.partner_id).copied().unwrap_or_default();
            PartnerEngagement {
                silent: a.last_active.is_none_or(|t| t.as_millis() < quiet_since),
                partner_id: a.partner_id,
                name: a.name,
                partner_type: a.partner_type,
                tier: a.tier,
                region: a.region,
                members: a.members,
                last_active: a.last_active,
                received,
                read,
                asked,
                acknowledged,
            }
        })
        .collect();
    partners.sort_by(|a, b| {
        b.silent
            .cmp(&a.silent)
            .then_with(|| a.last_active.map(|t| t.as_millis()).cmp(&b.last_active.map(|t| t.as_millis())))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Overview { window_days, silent_days, messages: all.len(), partners })
}
