//! Provider clients: they take what a channel needs (an email, later a Slack message or
//! an SMS) and report what the attempt came to as a [`tidings_core::deliveries::Outcome`].
//! No database here; the workers in `tidings-app` decide what to send and record it.

pub mod email;
mod smtp;
#[cfg(feature = "testing")]
pub mod testing;

pub use email::{OutgoingEmail, PartBody, Security, SmtpConfig};
pub use smtp::SmtpMailer;
