//! The channels Tidings sends through, as one [`Channels`] set: for each outside channel,
//! how a message is laid out for it (once per text), what one recipient's send carries,
//! and the provider that sends it and reports what the attempt came to as a
//! [`tidings_core::deliveries::Outcome`]. No database here; the workers in `tidings-app`
//! decide what to send and record it.

mod breaker;
pub mod catcher;
mod chat;
pub mod email;
pub mod fake;
mod memory;
pub mod outbound;
pub mod posts;
pub mod push;
mod set;
pub mod slack;
pub mod sms;
pub mod teams;
pub mod webhook;

pub use breaker::Outage;
pub use email::{OutgoingEmail, PartBody, Security, SmtpConfig, SmtpMailer};
pub use memory::{Outbox, Sent};
pub use set::{Channels, Layout, OutgoingPush, Payload, Provider, Recipient};
