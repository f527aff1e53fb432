//! Deliveries: one per message, member and outside channel, from queued to an outcome;
//! the retry schedule for transient failures; and the engagement events appended as a
//! message travels and is read.

pub mod automation;
mod events;
mod retry;
mod status;

pub use events::{EventKind, EventKindError};
pub use retry::RetryPolicy;
pub use status::{DeliveryStatus, DeliveryStatusError, Outcome};
