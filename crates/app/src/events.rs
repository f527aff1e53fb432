//! What happened to a message: its events, page by page, and a report of the counts
//! (recipients, deliveries by channel and status, members per event kind).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, EventKind};
use tidings_core::{Action, MemberId, MessageId};
use tidings_store::events::{self, Event, EventFilter};
use tidings_store::inbox::{self, RecipientCounts};
use tidings_store::{Page, deliveries, messages};

use crate::error::not_found;
use crate::{App, AppError, Caller};

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
pub struct EventQuery {
    pub kind: Option<EventKind>,
    pub member_id: Option<MemberId>,
    pub after: Option<String>,
    pub limit: Option<u32>,
}

pub async fn list(app: &App, caller: &Caller, message: MessageId, q: &EventQuery) -> Result<Page<Event>, AppError> {
    caller.require(Action::ReadDirectory, "read message events")?;
    let mut tx = app.db.read().await?;
    messages::get(&mut tx, message).await.map_err(not_found("message"))?;
    let filter = EventFilter { kind: q.kind, member_id: q.member_id };
    Ok(events::list(&mut tx, message, &filter, q.after.as_deref(), q.limit).await?)
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageReport {
    pub message_id: MessageId,
    /// Inbox copies, and how many were viewed, read and acknowledged.
    pub inbox: RecipientCounts,
    /// Deliveries on outside channels by channel, then status.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub deliveries: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>>,
    /// Members with at least one event of each kind.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub members_by_event: BTreeMap<EventKind, i64>,
}

pub async fn report(app: &App, caller: &Caller, message: MessageId) -> Result<MessageReport, AppError> {
    caller.require(Action::ReadDirectory, "read message reports")?;
    let mut tx = app.db.read().await?;
    messages::get(&mut tx, message).await.map_err(not_found("message"))?;
    let mut by_channel: BTreeMap<Channel, BTreeMap<DeliveryStatus, i64>> = BTreeMap::new();
    for (channel, status, n) in deliveries::status_counts(&mut tx, message).await? {
        by_channel.entry(channel).or_default().insert(status, n);
    }
    let mut members_by_event: BTreeMap<EventKind, i64> =
        events::member_counts(&mut tx, message).await?.into_iter().collect();
    let inbox = inbox::counts(&mut tx, message).await?;
    members_by_event.insert(EventKind::Queued, inbox.recipients);
    Ok(MessageReport { message_id: message, inbox, deliveries: by_channel, members_by_event })
}
