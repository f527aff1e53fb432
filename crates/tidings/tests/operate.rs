//! Running Tidings as an operator does: migrations raced by nodes starting together, a
//! database from a newer binary refused, migrations listed before they run, and a backup
//! taken mid-send restored whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tidings_app::audiences::AudienceDraft;
use tidings_app::{App, Caller, demo, release};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::messages::{ContentDraft, MessageDraft, VariantDraft};
use tidings_core::{Catalog, MemberStatus, MessageId};
use tidings_store::members::MemberFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, deliveries, members, reports, topics};

use common::{grant, worker};

fn tidings(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command.arg("--database-url").arg(url).env_remove("RUST_LOG").env("TIDINGS_LOG__LEVEL", "warn");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn three_nodes_starting_together_migrate_once_on_sqlite() {
    migrations_raced(Engine::Sqlite).await;
}

#[tokio::test]
async fn three_nodes_starting_together_migrate_once_on_postgres() {
    migrations_raced(Engine::Postgres).await;
}

async fn migrations_raced(engine: Engine) {
    let Some(t) = TestDb::new_at(engine, 0).await else { return };
    let listed = tidings(&t.url).args(["migrate", "--dry-run"]).output().unwrap();
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let known = t.db.known_schema_version();
    assert!(text(&listed.stdout).lines().count() > 40, "every migration is listed: {}", text(&listed.stdout));
    assert!(text(&listed.stdout).starts_with("1\t"), "{}", text(&listed.stdout));
    assert_eq!(t.db.schema_version().await.unwrap(), None, "a dry run applies nothing");

    let racers: Vec<_> = (0..3)
        .map(|_| tidings(&t.url).arg("migrate").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let outputs: Vec<Output> = racers.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for out in &outputs {
        assert!(out.status.success(), "each node starts: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(&format!("the schema is at migration {known}")), "{}", text(&out.stdout));
    }
    assert_eq!(t.db.schema_version().await.unwrap(), Some(known));
    assert!(t.db.pending_migrations().await.unwrap().is_empty());
    let again = tidings(&t.url).args(["migrate", "--dry-run"]).output().unwrap();
    assert!(text(&again.stdout).starts_with("nothing to migrate"), "{}", text(&again.stdout));
    t.cleanup().await;
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_refused_with_what_to_do_on_sqlite() {
    newer_schema_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_refused_with_what_to_do_on_postgres() {
    newer_schema_refused(Engine::Postgres).await;
}

async fn newer_schema_refused(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let future = t.db.known_schema_version() + 1;
    t.db.execute_raw(&format!(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
         values ({future}, 'from the future', true, {blob}, 1)",
        blob = if engine == Engine::Sqlite { "x'00'" } else { "'\\x00'::bytea" },
    ))
    .await
    .unwrap();
    for args in [&["migrate"][..], &["migrate", "--dry-run"], &["worker"]] {
        let out = tidings(&t.url).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} refuses");
        let said = text(&out.stderr);
        assert!(said.contains("migrated by a newer Tidings"), "{args:?}: {said}");
        assert!(said.contains(&format!("at migration {future}")), "{said}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_backup_taken_mid_send_restores_to_the_moment_it_was_taken() {
    let t = TestDb::sqlite().await;
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    t.db.execute_raw("update partners set working_hours = null; update members set working_hours = null")
        .await
        .unwrap();
    let message = released_to_everyone_active(&app).await;
    let smtp = MailCatcher::start();
    smtp.set_mode(Mode::Slow(Duration::from_millis(10)));
    let mut sender = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.received_count() < 30 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let sent_before = sent(&t.db, message).await;
    let out = tidings(&t.url).arg("backup").arg(&file).output().unwrap();
    let sent_after = sent(&t.db, message).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("backed up to"), "{}", text(&out.stdout));
    let again = tidings(&t.url).arg("backup").arg(&file).output().unwrap();
    assert!(!again.status.success() && text(&again.stderr).contains("already exists"), "no backup is overwritten");
    let deadline = Instant::now() + Duration::from_secs(90);
    while smtp.received_count() < usize::try_from(sent_after).unwrap() + 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    sender.kill().unwrap();
    sender.wait().unwrap();

    let restored_url = format!("sqlite:{}", dir.path().join("restored.db").display());
    let out = tidings(&restored_url).arg("restore").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("partners"), "{}", text(&out.stdout));
    let out = tidings(&restored_url).arg("restore").arg(&file).output().unwrap();
    assert!(!out.status.success() && text(&out.stderr).contains("already exists"), "no database is overwritten");

    let restored = Db::connect(&restored_url).await.unwrap();
    let at_backup = sent(&restored, message).await;
    assert!(
        (sent_before..=sent_after).contains(&at_backup),
        "the copy holds the send as it stood while the backup ran: {sent_before} <= {at_backup} <= {sent_after}"
    );
    assert!(at_backup < sent(&t.db, message).await, "the send went on after the backup");
    let backup = Db::open(&format!("sqlite:{}", file.display())).await.unwrap();
    assert_eq!(restored.table_counts().await.unwrap(), backup.table_counts().await.unwrap());
    backup.close().await;

    let kept = counts(&restored, message).await;
    let mut tx = restored.begin().await.unwrap();
    reports::recount(&mut tx, message).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept, counts(&restored, message).await, "the report in the copy matches its rows");
    restored.close().await;
    t.cleanup().await;
}

async fn released_to_everyone_active(app: &App) -> MessageId {
    let mut tx = app.db.begin().await.unwrap();
    let filter = MemberFilter { status: Some(MemberStatus::Active), ..Default::default() };
    let active = members::list(&mut tx, &filter, None, Some(500)).await.unwrap().items;
    for m in &active {
        grant(&mut tx, m.id, "email", app.clock.now()).await;
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    let variant = VariantDraft {
        title: Some("Price list 2027".into()),
        summary: Some("New prices from January".into()),
        what_changed: Some("Prices change.".into()),
        why_it_matters: Some("Quotes must use them.".into()),
        what_to_do: Some("Update your quotes.".into()),
        call_to_action: None,
    };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("action".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { members: active.iter().map(|m| m.id).collect(), ..Default::default() }),
        ..Default::default()
    };
    let message = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap();
    let report = release::release(app, &Caller::operator(), message.id).await.unwrap();
    assert!(report.deliveries > 100, "{report:?}");
    message.id
}

async fn sent(db: &Db, message: MessageId) -> u64 {
    let mut tx = db.read().await.unwrap();
    let all = deliveries::of_message(&mut tx, message).await.unwrap();
    all.iter().filter(|d| d.status == DeliveryStatus::Sent).count() as u64
}

/// The message's report as kept, without keys that count nothing.
async fn counts(db: &Db, message: MessageId) -> HashMap<reports::Key, reports::Counts> {
    let mut tx = db.read().await.unwrap();
    let mut all = reports::of_message(&mut tx, message).await.unwrap();
    all.retain(|_, c| *c != reports::Counts::default());
    all
}
