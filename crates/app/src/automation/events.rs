//! Reading the events taken in: by partner, member or type, newest first, and one event
//! with what each trigger did with it.

use serde::{Deserialize, Serialize};
use tidings_core::automation::PartnerEvent;
use tidings_core::{Action, MemberId, PartnerEventId, PartnerId};
use tidings_store::Page;
use tidings_store::partner_events::{self as store, EventFilter};
use tidings_store::triggers::{self, Firing};

use crate::error::not_found;
use crate::{App, AppError, Caller};

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventQuery {
    pub partner_id: Option<PartnerId>,
    pub member_id: Option<MemberId>,
    /// Only events of this type (none match a name that is no type); "" for any.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    pub after: Option<String>,
    /// 1 to 500; 50 by default.
    #[serde(default, deserialize_with = "tidings_core::page_limit::deserialize")]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 500))]
    pub limit: Option<u32>,
}

pub async fn list(app: &App, caller: &Caller, q: &EventQuery) -> Result<Page<PartnerEvent>, AppError> {
    caller.require(Action::ReadDirectory, "read events")?;
    let event_type = q.event_type.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let filter = EventFilter { partner: q.partner_id, member: q.member_id, event_type };
    Ok(store::list(&mut app.db.read().await?, &filter, q.after.as_deref(), q.limit).await?)
}

/// One event and what its triggers did (nothing yet while it waits its turn).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventDetail {
    pub event: PartnerEvent,
    pub firings: Vec<Firing>,
    /// Its triggers and sequences have not run yet.
    pub waiting: bool,
}

pub async fn get(app: &App, caller: &Caller, id: PartnerEventId) -> Result<EventDetail, AppError> {
    caller.require(Action::ReadDirectory, "read events")?;
    let mut tx = app.db.read().await?;
    let event = store::get(&mut tx, id).await.map_err(not_found("event"))?;
    let firings = triggers::firings_of_event(&mut tx, id).await?;
    let waiting = store::is_pending(&mut tx, id).await?;
    Ok(EventDetail { event, firings, waiting })
}
