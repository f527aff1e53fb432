//! Lifecycle automation: what the vendor's CRM or PRM reports about a partner and its
//! people (a deal registered, approved or rejected; progress towards an incentive; a claim
//! deadline), and the triggers that answer such an event with a message of their own.

pub mod event;
mod parts;
pub mod sequence;
pub mod silence;
pub mod trigger;

pub use event::{DataKind, EventInput, EventSchema, EventType, FieldSpec, PartnerEvent};
pub use trigger::{Recipients, Trigger, TriggerDraft};
