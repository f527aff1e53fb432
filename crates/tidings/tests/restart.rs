//! Restart safety: a `tidings worker` process killed with SIGKILL mid-send, then started
//! again, delivers to every recipient; nobody gets a second copy except deliveries that
//! were in flight (claimed and unsettled) at the moment of the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tidings_app::audiences::AudienceDraft;
use tidings_app::{App, Caller, demo, release};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::messages::{ContentDraft, MessageDraft, VariantDraft};
use tidings_core::{Catalog, MemberStatus};
use tidings_store::members::MemberFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{consent, deliveries, members, topics};

#[tokio::test]
async fn a_killed_worker_restarts_and_delivers_to_everyone_on_sqlite() {
    killed_and_restarted(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_killed_worker_restarts_and_delivers_to_everyone_on_postgres() {
    killed_and_restarted(Engine::Postgres).await;
}

fn worker(url: &str, smtp_port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("worker")
        .env("TIDINGS_DATABASE_URL", url)
        .env("TIDINGS_SMTP__PORT", smtp_port.to_string())
        .env("TIDINGS_SMTP__SECURITY", "none")
        .env("TIDINGS_WORKER__LEASE_SECS", "2")
        .env("TIDINGS_WORKER__CONCURRENCY", "4")
        .env("TIDINGS_WORKER__BATCH", "20")
        .env("TIDINGS_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the tidings binary starts")
}

async fn killed_and_restarted(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let active = members::list(
        &mut tx,
        &MemberFilter { status: Some(MemberStatus::Active), ..Default::default() },
        None,
        Some(500),
    )
    .await
    .unwrap()
    .items;
    for m in &active {
        let record = consent::ConsentRecord {
            id: uuid::Uuid::now_v7(),
            member_id: m.id,
            purpose: "email".into(),
            granted: true,
            source: "api".into(),
            lawful_basis: "consent".into(),
            text_version: "v1".into(),
            recorded_by: "test".into(),
            recorded_at: app.clock.now(),
        };
        consent::record(&mut tx, &record).await.unwrap();
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    let variant = VariantDraft {
        title: Some("Price list 2027".into()),
        summary: Some("New prices from January".into()),
        what_changed: Some("Prices change.".into()),
        why_it_matters: Some("Quotes must use them.".into()),
        what_to_do: Some("Update your quotes, {{ member.first_name }}.".into()),
        call_to_action: None,
    };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("action".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { members: active.iter().map(|m| m.id).collect(), ..Default::default() }),
        ..Default::default()
    };
    let message = tidings_app::messages::create(&app, &Caller::operator(), &draft).await.unwrap();
    let report = release::release(&app, &Caller::operator(), message.id).await.unwrap();
    let expected = usize::try_from(report.deliveries).unwrap();
    assert!(expected > 100, "{report:?}");

    let smtp = MailCatcher::start();
    smtp.set_mode(Mode::Slow(Duration::from_millis(10)));
    let mut first = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.received_count() < expected / 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    first.kill().unwrap(); // SIGKILL: no chance to finish the round or settle anything
    first.wait().unwrap();
    assert!(smtp.received_count() < expected, "the kill came mid-send");
    let mut tx = app.db.read().await.unwrap();
    let in_flight = deliveries::of_message(&mut tx, message.id)
        .await
        .unwrap()
        .iter()
        .filter(|d| d.status == DeliveryStatus::Sending)
        .count();
    drop(tx);

    let mut second = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(90);
    let settled = loop {
        let mut tx = app.db.read().await.unwrap();
        let all = deliveries::of_message(&mut tx, message.id).await.unwrap();
        drop(tx);
        if all.iter().all(|d| d.status == DeliveryStatus::Sent) || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();

    assert!(settled.iter().all(|d| d.status == DeliveryStatus::Sent), "every delivery ends sent");
    let mut copies: HashMap<String, usize> = HashMap::new();
    for mail in smtp.received() {
        *copies.entry(mail.to.join(",")).or_default() += 1;
    }
    let wanted: Vec<String> = active.iter().map(|m| m.profile.email.to_string()).collect();
    assert_eq!(copies.len(), expected, "everyone with a delivery got the email");
    assert!(wanted.iter().filter(|w| copies.contains_key(*w)).count() == expected);
    let duplicates: usize = copies.values().map(|n| n - 1).sum();
    eprintln!("{expected} recipients, {in_flight} in flight at the kill, {duplicates} second copies");
    assert!(duplicates <= in_flight, "{duplicates} second copies but only {in_flight} deliveries were in flight");
    t.cleanup().await;
}
