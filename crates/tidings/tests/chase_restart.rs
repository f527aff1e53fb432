//! An escalation ladder survives its worker being killed with SIGKILL between steps: the
//! `tidings worker` restarted afterwards runs the next step, never one that ran already,
//! skips none, and every reminder reaches its person, twice only if it was in flight at
//! the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tidings_app::clock::Clock;
use tidings_app::{App, Caller, demo, release};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_channels::{Channels, Outbox, Provider};
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::escalation::{LadderDraft, LadderStep, StepTarget};
use tidings_core::{Catalog, MemberStatus, MessageId, Timestamp};
use tidings_store::members::MemberFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{deliveries, ladders, members};

use common::{grant, worker};

#[tokio::test]
async fn a_ladder_killed_between_steps_runs_each_step_once_on_sqlite() {
    killed_between_steps(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_ladder_killed_between_steps_runs_each_step_once_on_postgres() {
    killed_between_steps(Engine::Postgres).await;
}

const HOUR: i64 = 3_600_000;

/// Deliveries of the message now in flight (claimed, unsettled).
async fn in_flight(app: &App, message: MessageId) -> usize {
    let mut tx = app.db.read().await.unwrap();
    let all = deliveries::of_message(&mut tx, message).await.unwrap();
    all.iter().filter(|d| d.status == DeliveryStatus::Sending).count()
}

async fn steps_run(app: &App, message: MessageId) -> Vec<u16> {
    let mut tx = app.db.read().await.unwrap();
    ladders::steps_run(&mut tx, message).await.unwrap().iter().map(|s| s.step).collect()
}

/// Runs a worker until `steps` ladder steps have run, then kills it; returns the
/// deliveries in flight at the kill.
async fn run_until_step(app: &App, t: &TestDb, smtp: &MailCatcher, message: MessageId, steps: usize) -> usize {
    // The time between two steps passes: the chase job is due again at once.
    t.db.execute_raw("update jobs set due_at = 0 where name = 'chase'").await.unwrap();
    let mut process = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while steps_run(app, message).await.len() < steps && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    process.kill().unwrap(); // SIGKILL: nothing settles
    process.wait().unwrap();
    assert_eq!(steps_run(app, message).await.len(), steps, "the kill came after step {steps}, before the next");
    in_flight(app, message).await
}

async fn killed_between_steps(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let mut app = App::new(t.db.clone(), Catalog::default());
    // Released three and a half days ago: every step of the ladder is due by now.
    app.clock = Clock::fixed(Timestamp::from_millis(Timestamp::now().as_millis() - 84 * HOUR));
    // The worker processes send; this app only needs to know email can be.
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    demo::seed(&app).await.unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let filter = MemberFilter { status: Some(MemberStatus::Active), ..Default::default() };
    let active = members::list(&mut tx, &filter, None, Some(120)).await.unwrap().items;
    for m in &active {
        grant(&mut tx, m.id, "email", app.clock.now()).await;
    }
    tx.commit().await.unwrap();
    let steps = [(24, StepTarget::Members), (24, StepTarget::Members), (24, StepTarget::PartnerLead)];
    let ladder = LadderDraft {
        key: Some("kill-chase".into()),
        name: Some("Killed between steps".into()),
        steps: Some(steps.iter().map(|(h, t)| LadderStep { after_hours: *h, target: *t }).collect()),
        repeat: None,
        working_hours_only: Some(false),
    };
    tidings_app::ladders::put(&app, &Caller::operator(), &ladder).await.unwrap();
    let ids: Vec<String> = active.iter().map(|m| m.id.to_string()).collect();
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "announcements",
        "importance": "critical",
        "channels": ["inbox", "email"],
        "content": {"variants": {"en": {"title": "Recall of lot 7", "what_to_do": "Pull lot 7."}}},
        "audience": {"members": ids},
        "acknowledgment": {"statement": "Pulled.", "ladder": "kill-chase"}
    }))
    .unwrap();
    let message = tidings_app::messages::create(&app, &Caller::operator(), &draft).await.unwrap().id;
    release::release(&app, &Caller::operator(), message).await.unwrap();

    let smtp = MailCatcher::start();
    smtp.set_mode(Mode::Slow(Duration::from_millis(5)));
    let mut in_flight_at_kills = 0;
    for step in 1..=2 {
        in_flight_at_kills += run_until_step(&app, &t, &smtp, message, step).await;
    }
    // The last step, then everything settles.
    t.db.execute_raw("update jobs set due_at = 0 where name = 'chase'").await.unwrap();
    let mut last = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(90);
    let settled = loop {
        let mut tx = app.db.read().await.unwrap();
        let all = deliveries::of_message(&mut tx, message).await.unwrap();
        drop(tx);
        let done = steps_run(&app, message).await.len() == 3
            && all.iter().all(|d| !matches!(d.status, DeliveryStatus::Queued | DeliveryStatus::Sending));
        if done || Instant::now() > deadline {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    last.kill().unwrap();
    last.wait().unwrap();

    assert_eq!(steps_run(&app, message).await, [0, 1, 2], "each step ran once, in order, none skipped");
    let reminders: Vec<_> = settled.iter().filter(|d| d.purpose != Purpose::Initial).collect();
    let by_purpose = |p: Purpose| reminders.iter().filter(|d| d.purpose == p).count();
    let emailed = settled.iter().filter(|d| d.purpose == Purpose::Initial).count();
    assert_eq!(by_purpose(Purpose::Reminder(1)), emailed, "nobody acknowledged: everyone is reminded");
    assert_eq!(by_purpose(Purpose::Reminder(2)), emailed);
    assert!(by_purpose(Purpose::Escalation(1)) > 0, "the leads are told");
    assert!(reminders.iter().all(|d| d.status == DeliveryStatus::Sent), "every reminder is sent");

    // Every email reached its person; a second copy only for one in flight at a kill.
    let mut wanted: HashMap<String, usize> = HashMap::new();
    let mut mtx = app.db.read().await.unwrap();
    for d in &settled {
        let m = members::get(&mut mtx, d.member_id).await.unwrap();
        *wanted.entry(m.profile.email.to_string()).or_default() += 1;
    }
    drop(mtx);
    let mut got: HashMap<String, usize> = HashMap::new();
    for mail in smtp.received() {
        *got.entry(mail.to.join(",")).or_default() += 1;
    }
    let lost: usize = wanted.iter().map(|(to, n)| n.saturating_sub(got.get(to).copied().unwrap_or(0))).sum();
    let duplicates: usize = got.iter().map(|(to, n)| n.saturating_sub(wanted.get(to).copied().unwrap_or(0))).sum();
    eprintln!("{} deliveries, {in_flight_at_kills} in flight at the kills, {duplicates} second copies", settled.len());
    assert_eq!(lost, 0, "every delivery reached its person");
    assert!(duplicates <= in_flight_at_kills, "{duplicates} second copies, {in_flight_at_kills} in flight");
    t.cleanup().await;
}
