//! What the tests that kill `tidings worker` processes share: starting one, and members'
//! consent to be reached.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};

use tidings_core::{MemberId, Timestamp};
use tidings_store::{Tx, consent};

/// A `tidings worker` on the database at `url`, sending email to the SMTP server on
/// `smtp_port`, with short leases so that a restart takes over what a killed one held.
pub fn worker(url: &str, smtp_port: u16) -> Child {
    worker_command(url, smtp_port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tidings binary starts")
}

/// The command `worker` runs, for a test to add to.
pub fn worker_command(url: &str, smtp_port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command
        .arg("worker")
        .env("TIDINGS_DATABASE_URL", url)
        .env("TIDINGS_SMTP__PORT", smtp_port.to_string())
        .env("TIDINGS_SMTP__SECURITY", "none")
        .env("TIDINGS_WORKER__LEASE_SECS", "2")
        .env("TIDINGS_WORKER__CONCURRENCY", "4")
        .env("TIDINGS_WORKER__BATCH", "20")
        .env("TIDINGS_LOG__LEVEL", "warn");
    command
}

/// Records the member's consent to `purpose` (email, sms) as given through the API.
pub async fn grant(tx: &mut Tx, member: MemberId, purpose: &str, at: Timestamp) {
    let record = consent::ConsentRecord {
        id: uuid::Uuid::now_v7(),
        member_id: member,
        purpose: purpose.into(),
        granted: true,
        source: "api".into(),
        lawful_basis: "consent".into(),
        text_version: "v1".into(),
        recorded_by: "test".into(),
        recorded_at: at,
    };
    consent::record(tx, &record).await.unwrap();
}
