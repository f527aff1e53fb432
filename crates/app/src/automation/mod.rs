//! Lifecycle automation: events in from the vendor's CRM or PRM, the triggers that answer
//! them with messages, and the sequences they enrol people in.

mod compose;
pub mod event_types;
pub mod events;
pub mod firing;
pub mod intake;
pub mod sequences;
pub mod silence;
pub mod stepping;
pub mod triggers;
