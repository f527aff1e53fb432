//! The message report: the people-level funnel (audience, sent, delivered, opened,
//! clicked, read, acknowledged) overall, by channel (deliveries, and the people each
//! channel was sent to who read and acknowledged), by partner, by partner type, tier
//! and region, by role, and over time; with machine opens and scanner clicks counted apart
//! from people (the rule is `tidings_core::deliveries::machine_engagement`'s). It reads the counts
//! `tidings_store::reports` keeps as things happen, one row per partner, per combination of
//! roles, per hour and per delivery status, so its cost follows the number of partners,
//! not of copies.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::messages::Importance;
use tidings_core::{Action, MessageId, PartnerId, Role, Roles, Timestamp};
use tidings_store::messages;
use tidings_store::reports::{self, Counts, Key};

use crate::error::not_found;
use crate::{App, AppError, Caller};

/// Partners a report lists by name, the largest first; the rest are summed in the others.
pub const PARTNERS_LISTED: usize = 100;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Funnel {
    /// Members the message reached (its inbox copies).
    pub audience: i64,
    /// Emails handed to the mail server (bounced later or not).
    pub sent: i64,
    /// Emails accepted and not bounced.
    pub delivered: i64,
    /// People who opened the email (machines apart).
    pub opened: i64,
    /// People who clicked in the email (scanners apart).
    pub clicked: i64,
    /// People who read the message (portal, widget, email page).
    pub read: i64,
    pub acknowledged: i64,
}

/// A row of a breakdown: a label and its people at each step.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Row {
    pub label: String,
    pub steps: Counts,
}

/// People reaching each step in one period.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub start: Timestamp,
    pub opened: i64,
    pub clicked: i64,
    pub read: i64,
    pub acknowledged: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = MessageReport))]
pub struct Report {
    pub message_id: MessageId,
    pub title: String,
    pub importance: Importance,
    pub asks_acknowledgment: bool,
    pub released_at: Option<Timestamp>,
    pub funnel: Funnel,
    /// Members with an open by a machine (privacy proxies, prefetchers).
    pub machine_opens: i64,
    /// Members with a scanner's click (security gateways following every link).
    pub scanner_clicks: i64,
    pub unsubscribed: i64,
    /// Deliveries per outside channel and status; those a worker still has to do with
    /// (queued, being sent, to be tried again) are counted as queued.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub channels: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>>,
    /// Posts to partners' shared Teams and Slack channels, per service and status, counted
    /// as `channels` counts deliveries.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub channel_posts: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>>,
    /// The posts themselves, by partner name (the first 200).
    pub posts: Vec<tidings_store::partner_channels::Post>,
    /// Per channel, the people sent to there and how many of them read and acknowledged.
    pub by_channel: Vec<crate::channel_report::ChannelFunnel>,
    pub by_partner: Vec<Row>,
    pub by_type: Vec<Row>,
    pub by_tier: Vec<Row>,
    pub by_region: Vec<Row>,
    pub by_role: Vec<Row>,
    /// `hour` or `day` (UTC).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub period: &'static str,
    pub over_time: Vec<Period>,
}

const DAY_HOURS: i64 = 24;
/// Posts a report lists one by one.
const POSTS_LISTED: u32 = 200;
const HOUR_MS: i64 = 3_600_000;

pub async fn report(app: &App, caller: &Caller, id: MessageId) -> Result<Report, AppError> {
    caller.require(Action::ReadDirectory, "read message reports")?;
    let mut tx = app.db.read().await?;
    let message = messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    let released_at = messages::released_at(&mut tx, id).await?;
    let mut partner_rows: Vec<(Option<PartnerId>, Counts)> = Vec::new();
    let mut roles_rows: Vec<(Roles, Counts)> = Vec::new();
    let mut hours: BTreeMap<i64, Counts> = BTreeMap::new();
    let mut channels: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>> = BTreeMap::new();
    let counted = reports::of_message(&mut tx, id).await?;
    let by_channel = crate::channel_report::by_channel(&mut tx, id, &counted).await?;
    for (key, counts) in counted {
        match key {
            Key::Partner(partner_id) => partner_rows.push((partner_id, counts)),
            Key::Roles(roles) => roles_rows.push((roles, counts)),
            Key::Period(hour) => *hours.entry(hour).or_default() += counts,
            Key::Delivery { channel, status } if counts.deliveries != 0 => {
                channels.entry(channel).or_default().insert(status, counts.deliveries);
            }
            Key::Delivery { .. } | Key::Channel(_) => {}
        }
    }

    let labels = reports::partner_labels(&mut tx, id).await?;
    let mut channel_posts: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>> = BTreeMap::new();
    for (channel, status, n) in tidings_store::partner_channels::counts(&mut tx, id).await? {
        let status = match status {
            DeliveryStatus::Sending | DeliveryStatus::Unknown => DeliveryStatus::Queued,
            other => other,
        };
        *channel_posts.entry(channel).or_default().entry(status).or_default() += n;
    }
    let posts = tidings_store::partner_channels::of_message(&mut tx, id, POSTS_LISTED).await?;
    drop(tx);

    // Hours for the first two days, then days (UTC).
    let by_day = released_at.is_some_and(|at| app.clock.now().as_millis() - at.as_millis() > 2 * DAY_HOURS * HOUR_MS);
    let (period, hours_per_period) = if by_day { ("day", DAY_HOURS) } else { ("hour", 1) };
    let mut periods: BTreeMap<i64, Counts> = BTreeMap::new();
    for (hour, counts) in hours {
        *periods.entry(hour.div_euclid(hours_per_period)).or_default() += counts;
    }

    let email = channels.get(&Channel::Email);
    let status = |s: DeliveryStatus| email.and_then(|m| m.get(&s)).copied().unwrap_or(0);
    let mut total = Counts::default();
    roles_rows.iter().for_each(|(_, c)| total += *c);
    let funnel = Funnel {
        audience: total.recipients,
        sent: status(DeliveryStatus::Sent) + status(DeliveryStatus::Delivered) + status(DeliveryStatus::Bounced),
        delivered: status(DeliveryStatus::Sent) + status(DeliveryStatus::Delivered),
        opened: total.opened,
        clicked: total.clicked,
        read: total.read,
        acknowledged: total.acknowledged,
    };
    let profile = |p: &Option<PartnerId>| p.and_then(|p| labels.get(&p));
    let mut by_partner = sum(&partner_rows, |p| profile(p).map_or("(deleted partner)".into(), |p| p.name.clone()));
    if by_partner.len() > PARTNERS_LISTED {
        let rest = by_partner.split_off(PARTNERS_LISTED - 1);
        let mut steps = Counts::default();
        rest.iter().for_each(|r| steps += r.steps);
        by_partner.push(Row { label: format!("{} other partners", rest.len()), steps });
    }
    let none = || "none".to_owned();
    let by_role = Role::ALL
        .into_iter()
        .map(|role| {
            let mut steps = Counts::default();
            roles_rows.iter().filter(|(roles, _)| roles.contains(role)).for_each(|(_, c)| steps += *c);
            Row { label: role.as_str().to_owned(), steps }
        })
        .filter(|r| r.steps.recipients > 0)
        .collect();
    Ok(Report {
        message_id: id,
        title: message.title().to_owned(),
        importance: message.importance,
        asks_acknowledgment: message.acknowledgment.is_some(),
        released_at,
        funnel,
        machine_opens: total.machine_opened,
        scanner_clicks: total.scanner_clicked,
        unsubscribed: total.unsubscribed,
        channels,
        channel_posts,
        posts,
        by_channel,
        by_partner,
        by_type: sum(&partner_rows, |p| profile(p).map_or_else(none, |p| p.partner_type.clone())),
        by_tier: sum(&partner_rows, |p| profile(p).map_or_else(none, |p| p.tier.clone())),
        by_region: sum(&partner_rows, |p| profile(p).and_then(|p| p.region.clone()).unwrap_or_else(none)),
        by_role,
        period,
        over_time: periods
            .into_iter()
            .map(|(n, c)| Period {
                start: Timestamp::from_millis(n * hours_per_period * HOUR_MS),
                opened: c.opened,
                clicked: c.clicked,
                read: c.read,
                acknowledged: c.acknowledged,
            })
            .collect(),
    })
}

/// The partners' counts summed by label, the largest audience first.
fn sum(rows: &[(Option<PartnerId>, Counts)], label: impl Fn(&Option<PartnerId>) -> String) -> Vec<Row> {
    let mut sums: HashMap<String, Counts> = HashMap::new();
    for (partner, counts) in rows {
        *sums.entry(label(partner)).or_default() += *counts;
    }
    let mut rows: Vec<Row> = sums.into_iter().map(|(label, steps)| Row { label, steps }).collect();
    rows.sort_by(|a, b| b.steps.recipients.cmp(&a.steps.recipients).then_with(|| a.label.cmp(&b.label)));
    rows
}

/// Differences folded in one transaction: a large release leaves hundreds of thousands,
/// and SQLite's one writer should not be held by a fold for more than a moment.
const FOLD_LIMIT: u32 = 20_000;

/// Sums the differences to the report counts appended since the last fold (the worker
/// runs it every few seconds), a transaction per `FOLD_LIMIT`; returns how many it folded.
pub async fn fold(app: &App) -> Result<u64, AppError> {
    let mut folded = 0;
    loop {
        let mut tx = app.db.begin().await?;
        let n = reports::fold(&mut tx, FOLD_LIMIT).await?;
        tx.commit().await?;
        folded += n;
        if n < u64::from(FOLD_LIMIT) {
            return Ok(folded);
        }
    }
}

/// Builds a message's report counts again from its copies and deliveries: for an
/// operator who restored a backup or changed rows by hand.
pub async fn recount(app: &App, caller: &Caller, id: MessageId) -> Result<(), AppError> {
    caller.require(Action::Configure, "recount message reports")?;
    let mut tx = app.db.begin().await?;
    messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    reports::recount(&mut tx, id).await?;
    crate::audit::entry(caller, "message.recount", id.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}
