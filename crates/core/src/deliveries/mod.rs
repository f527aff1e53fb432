//! Deliveries: one per message, member, outside channel and purpose, from queued to an
//! outcome; the retry schedule for transient failures; and the engagement events appended
//! as a message travels and is read.

mod address;
mod events;
pub mod machine_engagement;
mod purpose;
mod retry;
mod status;

pub use address::Address;
pub use events::{EventKind, EventKindError};
pub use purpose::{Purpose, PurposeError};
pub use retry::RetryPolicy;
pub use status::{DeliveryStatus, DeliveryStatusError, Outcome};
