//! Lifecycle automation: events in from the vendor's CRM or PRM, and the triggers that
//! answer them with messages.

pub mod event_types;
pub mod events;
pub mod firing;
pub mod intake;
pub mod triggers;
