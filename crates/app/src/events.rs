//! What happened to a message: its events, page by page (the counts are `reports`').

use serde::Deserialize;
use tidings_core::deliveries::EventKind;
use tidings_core::{Action, MemberId, MessageId};
pub use tidings_store::events::Event;
use tidings_store::events::{self, EventFilter};
use tidings_store::{Page, messages};

use crate::error::not_found;
use crate::{App, AppError, Caller};

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventQuery {
    pub kind: Option<EventKind>,
    pub member_id: Option<MemberId>,
    pub after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}

pub async fn list(app: &App, caller: &Caller, message: MessageId, q: &EventQuery) -> Result<Page<Event>, AppError> {
    caller.require(Action::ReadDirectory, "read message events")?;
    let mut tx = app.db.read().await?;
    messages::get(&mut tx, message).await.map_err(not_found("message"))?;
    let filter = EventFilter { kind: q.kind, member_id: q.member_id };
    Ok(events::list(&mut tx, message, &filter, q.after.as_deref(), q.limit).await?)
}
