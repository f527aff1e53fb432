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

/// `tidings serve --demo` in `dir` on `port`, with `settings` as environment variables;
/// returns the process and the admin API token its banner printed.
pub fn demo_server(dir: &std::path::Path, port: u16, settings: &[(&str, String)]) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command
        .current_dir(dir)
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in settings {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the tidings binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let token = loop {
        let line = lines.next().expect("the banner names a token").unwrap();
        if let Some(token) = line.strip_prefix("API token: ") {
            break token.to_owned();
        }
    };
    // Read on, so the server's later lines never meet a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, token)
}

/// The price list notice the send tests use, to `members`.
pub fn price_list(
    topic: tidings_core::TopicId,
    members: Vec<MemberId>,
    what_to_do: &str,
) -> tidings_core::messages::MessageDraft {
    use tidings_core::messages::{ContentDraft, MessageDraft, VariantDraft};
    let variant = VariantDraft {
        title: Some("Price list 2027".into()),
        summary: Some("New prices from January".into()),
        what_changed: Some("Prices change.".into()),
        why_it_matters: Some("Quotes must use them.".into()),
        what_to_do: Some(what_to_do.into()),
        call_to_action: None,
    };
    MessageDraft {
        topic_id: Some(topic),
        importance: Some("action".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(tidings_app::audiences::AudienceDraft { members, ..Default::default() }),
        ..Default::default()
    }
}
