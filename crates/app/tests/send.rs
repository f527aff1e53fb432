//! The send path end to end on both engines: release, workers sending through a real SMTP
//! server (mailin, started by the test), the inbox, acknowledgment with its evidence,
//! events and the report; and what happens when the SMTP server is down, slow, or
//! answers 4xx or 5xx.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use tidings_app::consent::{self, ConsentInput};
use tidings_app::inbox::{self, InboxQuery, Origin};
use tidings_app::messages as compose;
use tidings_app::release;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_app::{App, AppError, Caller, events, signing::TokenUse};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_channels::{Channels, SmtpConfig};
use tidings_core::audiences::AudienceDraft;
use tidings_core::deliveries::{DeliveryStatus, EventKind, Purpose, RetryPolicy};
use tidings_core::messages::{AcknowledgmentDraft, ContentDraft, MessageDraft, MessageState, VariantDraft};
use tidings_core::{Member, MemberStatus, MessageId};
use tidings_store::deliveries;
use tidings_store::members::{self, MemberFilter};

both_engines!(
    seeded:
    a_critical_message_is_mailed_read_and_acknowledged_with_evidence,
    a_test_send_reaches_only_test_members,
    transient_answers_are_retried_and_permanent_ones_bounce_and_suppress,
    a_server_that_is_down_or_slow_loses_nothing,
    an_outcome_is_saved_only_by_the_worker_whose_claim_it_still_is,
    a_member_gets_one_message_twice_with_two_purposes,
    a_providers_retry_after_holds_a_delivery_back,
    a_dead_workers_deliveries_go_before_fresh_work,
    a_slow_round_keeps_its_lease,
    a_long_outage_spends_no_attempts,
);

fn mailer_for(port: u16, timeout_secs: u64) -> Channels {
    Channels::default().with_smtp(SmtpConfig { port, timeout_secs, connections: 4, ..SmtpConfig::default() })
}

fn with_smtp(mut app: App, port: u16) -> App {
    app.channels = mailer_for(port, 5);
    app.public_url = Arc::from("https://tidings.example");
    app
}

/// Three active members (two opted in to email) and the demo's test member.
async fn people(app: &App) -> (Vec<Member>, Member) {
    let mut tx = app.db.read().await.unwrap();
    let active = members::list(
        &mut tx,
        &MemberFilter { status: Some(MemberStatus::Active), ..Default::default() },
        None,
        Some(3),
    )
    .await
    .unwrap()
    .items;
    let tester =
        members::list(&mut tx, &MemberFilter { status: Some(MemberStatus::Test), ..Default::default() }, None, Some(1))
            .await
            .unwrap()
            .items
            .remove(0);
    drop(tx);
    for m in active.iter().take(2).chain([&tester]) {
        let input =
            ConsentInput { purpose: "email".into(), granted: true, lawful_basis: None, text_version: "v1".into() };
        consent::record(app, &Caller::operator(), m.id, &input).await.unwrap();
    }
    (active, tester)
}

async fn critical(app: &App, to: &[&Member]) -> MessageId {
    let mut tx = app.db.read().await.unwrap();
    let topic = tidings_store::topics::get_by_key(&mut tx, "announcements").await.unwrap();
    drop(tx);
    let variant = VariantDraft {
        title: Some("Recall of battery lots A1 and B2".into()),
        summary: Some("Two lots must be pulled from stock".into()),
        what_changed: Some("We found a fault in **two lots**. See [the list](https://vendor.example/lots).".into()),
        why_it_matters: Some("Customers could be hurt.".into()),
        what_to_do: Some("Hi {{ member.first_name }}, pull the stock of {{ partner.name }} today.".into()),
        call_to_action: Some(tidings_core::messages::CallToAction {
            label: "Start the return".into(),
            url: "https://vendor.example/returns?src=mail".into(),
        }),
    };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("critical".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { members: to.iter().map(|m| m.id).collect(), ..Default::default() }),
        acknowledgment: Some(AcknowledgmentDraft {
            statement: Some("We have pulled the affected stock".into()),
            due_at: Some("2099-01-15".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    compose::create(app, &Caller::operator(), &draft).await.unwrap().id
}

/// Works until nothing is due.
async fn drain(app: &App) -> usize {
    let mut cache = Cache::default();
    let mut total = 0;
    loop {
        let n = work_once(app, &WorkerConfig::default(), &mut cache).await.unwrap();
        if n == 0 {
            return total;
        }
        total += n;
    }
}

async fn status_of(app: &App, message: MessageId) -> Vec<DeliveryStatus> {
    let mut tx = app.db.read().await.unwrap();
    deliveries::of_message(&mut tx, message).await.unwrap().into_iter().map(|d| d.status).collect()
}

async fn a_critical_message_is_mailed_read_and_acknowledged_with_evidence(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    let (active, _) = people(&app).await;
    let id = critical(&app, &active.iter().collect::<Vec<_>>()).await;

    let report = release::release(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!((report.recipients, report.deliveries), (3, 2), "all three get the inbox; two opted in to email");
    assert_eq!(report.message.state, MessageState::Sending);
    let again = release::release(&app, &Caller::operator(), id).await;
    assert!(matches!(again, Err(AppError::Conflict(_))), "a released message cannot be released again: {again:?}");

    assert_eq!(drain(&app).await, 2);
    let mails = smtp.wait_for(2, Duration::from_secs(5));
    assert_eq!(mails.len(), 2);
    let to_first =
        mails.iter().find(|m| m.to == [active[0].profile.email.to_string()]).expect("mail to the first member");
    assert_eq!(to_first.subject(), "[Must know] Recall of battery lots A1 and B2");
    let message_id = app.channels.mail().message_id(id, active[0].id, Purpose::Initial);
    assert_eq!(to_first.header("Message-ID").unwrap(), format!("<{message_id}>"));
    let unsubscribe = to_first.header("List-Unsubscribe").unwrap();
    assert!(unsubscribe.starts_with("<https://tidings.example/u/"), "{unsubscribe}");
    assert_eq!(to_first.header("List-Unsubscribe-Post").unwrap(), "List-Unsubscribe=One-Click");
    let first_name = active[0].profile.name.split_whitespace().next().unwrap();
    let text = to_first.text();
    assert!(text.contains(&format!("Hi {first_name}, pull the stock")), "{text}");
    assert!(text.contains("We have pulled the affected stock"), "{text}");
    // The due time on the member's own clock, with their zone.
    let due = tidings_core::Timestamp::parse("2099-01-15").unwrap().stated(&active[0].profile.time_zone);
    assert!(text.contains(&format!("required by {due}")), "{due} in {text}");
    assert!(to_first.html().contains(&due), "{due}");
    let html = to_first.html();
    assert!(html.contains(&format!("Hi {first_name}, pull the stock")), "{html}");
    assert!(!html.contains("https://vendor.example/returns"), "links go through click tracking");
    // Every tracked link opens to exactly its target, for this message and member.
    let tokens: Vec<&str> =
        html.split("https://tidings.example/t/c/").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    let targets: Vec<String> = tokens
        .iter()
        .map(|t| app.signer.verify_click(t).unwrap())
        .map(|(m, r, url)| {
            assert_eq!((m, r), (id, active[0].id));
            url
        })
        .collect();
    assert!(targets.contains(&"https://vendor.example/returns?src=mail".to_owned()), "{targets:?}");
    assert!(targets.contains(&"https://vendor.example/lots".to_owned()), "{targets:?}");
    assert!(html.contains("https://tidings.example/a/"), "the email leads to the acknowledgment page");
    assert!(html.contains("https://tidings.example/t/o/"), "open pixel");
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent, DeliveryStatus::Sent]);

    // Tracking: the gateway that scans every link and the proxy that fetches every image
    // as the email arrives are told apart from the person who opens and clicks later; an
    // altered link is refused.
    let open = app.signer.recipient_token(TokenUse::Open, id, active[0].id);
    let gateway =
        Origin { ip: Some("192.0.2.99".into()), user_agent: Some("Mozilla/5.0 (compatible; Proofpoint)".into()) };
    assert!(tidings_app::tracking::opened(&app, &open, &gateway).await.unwrap());
    tidings_app::tracking::clicked(&app, tokens[0], &gateway).await.unwrap();
    app.clock.advance(3_600_000);
    let origin = Origin { ip: Some("192.0.2.7".into()), user_agent: Some("Mail/1.0".into()) };
    assert!(tidings_app::tracking::opened(&app, &open, &origin).await.unwrap());
    let target = tidings_app::tracking::clicked(&app, tokens[0], &origin).await.unwrap();
    assert!(target.starts_with("https://vendor.example/"));
    let forged = format!("{}x", tokens[0]);
    assert!(matches!(tidings_app::tracking::clicked(&app, &forged, &origin).await, Err(AppError::Invalid(_))));

    // The inbox: the member sees it, needing acknowledgment; the third member too, without email.
    let member = inbox::authenticate(
        &app,
        &app.signer.member_token(active[0].id, tidings_core::Timestamp::from_millis(common::NOW + 7_200_000)),
    )
    .await
    .unwrap();
    let pending = inbox::pending_acknowledgments(&app, &member).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].title, "Recall of battery lots A1 and B2");
    let other = inbox::list(&app, &active[2], &InboxQuery::default()).await.unwrap();
    assert_eq!(other.items.len(), 1, "the member without email consent still has it in the inbox");
    let view = inbox::view(&app, &member, id, &origin).await.unwrap();
    assert!(view.entry.needs_acknowledgment);
    let wrong = inbox::acknowledge(
        &app,
        &member,
        id,
        "0000",
        &Default::default(),
        &origin,
        tidings_app::evidence::record::AckContext::API,
    )
    .await;
    assert!(matches!(wrong, Err(AppError::Conflict(_))), "an acknowledgment names the version shown: {wrong:?}");
    let done = inbox::acknowledge(
        &app,
        &member,
        id,
        &view.rendered.content_hash,
        &Default::default(),
        &origin,
        tidings_app::evidence::record::AckContext::API,
    )
    .await
    .unwrap();
    assert!(done.created);
    let evidence = &done.acknowledgment;
    assert_eq!(evidence.statement, "We have pulled the affected stock");
    assert_eq!(evidence.content_hash, view.rendered.content_hash);
    assert_eq!((evidence.ip.as_deref(), evidence.user_agent.as_deref()), (Some("192.0.2.7"), Some("Mail/1.0")));
    assert_eq!(evidence.partner_id, member.profile.partner_id);
    let twice = inbox::acknowledge(
        &app,
        &member,
        id,
        &view.rendered.content_hash,
        &Default::default(),
        &origin,
        tidings_app::evidence::record::AckContext::API,
    )
    .await
    .unwrap();
    assert!(!twice.created && twice.acknowledgment == done.acknowledgment, "the first acknowledgment stands");
    assert!(inbox::pending_acknowledgments(&app, &member).await.unwrap().is_empty());

    // Another member cannot see or acknowledge a message that did not reach them.
    let outsider = {
        let mut tx = app.db.read().await.unwrap();
        members::list(
            &mut tx,
            &MemberFilter { status: Some(MemberStatus::Active), ..Default::default() },
            None,
            Some(10),
        )
        .await
        .unwrap()
        .items
        .pop()
        .unwrap()
    };
    assert!(matches!(inbox::view(&app, &outsider, id, &origin).await, Err(AppError::NotFound(_))));
    assert!(matches!(
        inbox::acknowledge(
            &app,
            &outsider,
            id,
            &view.rendered.content_hash,
            &Default::default(),
            &origin,
            tidings_app::evidence::record::AckContext::API
        )
        .await,
        Err(AppError::NotFound(_))
    ));

    // The report and the events say who received, opened, viewed and acknowledged it.
    let full = tidings_app::reports::report(&app, &Caller::operator(), id).await.unwrap();
    let f = &full.funnel;
    assert_eq!((f.audience, f.sent, f.delivered), (3, 2, 2));
    assert_eq!((f.opened, f.clicked, f.read, f.acknowledged), (1, 1, 1, 1), "people only: {f:?}");
    assert_eq!((full.machine_opens, full.scanner_clicks), (1, 1));
    let role_total: i64 = full.by_partner.iter().map(|r| r.steps.recipients).sum();
    assert_eq!(role_total, 3, "every copy is in the partner breakdown");
    assert_eq!(full.over_time.iter().map(|p| p.acknowledged).sum::<i64>(), 1);
    let acks = events::list(
        &app,
        &Caller::operator(),
        id,
        &events::EventQuery { kind: Some(EventKind::Acknowledged), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(acks.items.len(), 1);
    assert_eq!(acks.items[0].member_id, member.id);
    let queued = events::list(
        &app,
        &Caller::operator(),
        id,
        &events::EventQuery { kind: Some(EventKind::Queued), ..Default::default() },
    )
    .await
    .unwrap();
    assert_eq!(queued.items.len(), 5, "three inbox copies and two emails");

    // Every delivery has an outcome: the scheduler marks the message sent.
    release::tick(&app).await.unwrap();
    let mut tx = app.db.read().await.unwrap();
    assert_eq!(tidings_store::messages::get(&mut tx, id).await.unwrap().state, MessageState::Sent);
    drop(tx);

    // The second member unsubscribes (twice: counted once) and their email bounces later.
    let unsubscribe = app.signer.recipient_token(TokenUse::Unsubscribe, id, active[1].id);
    for _ in 0..2 {
        tidings_app::tracking::unsubscribe(&app, &unsubscribe, &origin).await.unwrap();
    }
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example\r\nTo: bounces@tidings.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\n\
         Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         Final-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--B\r\n\
         Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{}>\r\n\r\n--B--\r\n",
        active[1].profile.email,
        app.channels.mail().message_id(id, active[1].id, Purpose::Initial)
    );
    let bounced = tidings_app::tracking::bounce(&app, &Caller::operator(), dsn.as_bytes()).await.unwrap();
    assert_eq!(bounced.bounced, 1);
    let full = tidings_app::reports::report(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!((full.funnel.sent, full.funnel.delivered, full.unsubscribed), (2, 1, 1));
    assert_counts_agree(&app, id).await;
}

/// The report's counts, kept as things happened, are those a recount from the copies and
/// deliveries finds, before and after the differences are folded.
async fn assert_counts_agree(app: &App, id: MessageId) {
    use tidings_store::reports;
    let counts = || async {
        let mut tx = app.db.read().await.unwrap();
        let mut all: Vec<_> = reports::of_message(&mut tx, id)
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, c)| *c != reports::Counts::default())
            .map(|(k, c)| (format!("{k:?}"), c))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    };
    let live = counts().await;
    assert!(!live.is_empty());
    tidings_app::reports::fold(app).await.unwrap();
    assert_eq!(counts().await, live, "folding changes no count");
    tidings_app::reports::recount(app, &Caller::operator(), id).await.unwrap();
    assert_eq!(counts().await, live, "the counts kept are those a recount finds");
}

async fn a_test_send_reaches_only_test_members(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    let (active, tester) = people(&app).await;
    let id = critical(&app, &[&active[0], &tester]).await;
    let report = release::test_send(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!((report.recipients, report.deliveries), (1, 1));
    assert_ne!(report.message.id, id, "a test send is a copy");
    drain(&app).await;
    let mails = smtp.wait_for(1, Duration::from_secs(5));
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, [tester.profile.email.to_string()]);
    let mut tx = app.db.read().await.unwrap();
    assert_eq!(
        tidings_store::messages::get(&mut tx, id).await.unwrap().state,
        MessageState::Draft,
        "the original is untouched"
    );
}

async fn transient_answers_are_retried_and_permanent_ones_bounce_and_suppress(app: App) {
    let smtp = MailCatcher::start();
    let mut app = with_smtp(app, smtp.port);
    app.retry = RetryPolicy { base_ms: 1_000, max_ms: 10_000, max_attempts: 3 };
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0], &active[1]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();

    smtp.set_mode(Mode::Transient);
    assert_eq!(drain(&app).await, 2);
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Queued, DeliveryStatus::Queued], "451: try again later");
    assert_eq!(drain(&app).await, 0, "not due before the backoff");
    app.clock.advance(1_000);
    smtp.set_mode(Mode::Accept);
    assert_eq!(drain(&app).await, 2);
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent, DeliveryStatus::Sent]);
    assert_eq!(smtp.wait_for(2, Duration::from_secs(5)).len(), 2);

    // A second message: 550 for every recipient is a hard bounce.
    let second = critical(&app, &[&active[0], &active[1]]).await;
    release::release(&app, &Caller::operator(), second).await.unwrap();
    smtp.set_mode(Mode::Permanent);
    drain(&app).await;
    assert_eq!(status_of(&app, second).await, [DeliveryStatus::Bounced, DeliveryStatus::Bounced]);
    let prefs = tidings_app::consent::preferences(&app, &Caller::operator(), active[0].id).await.unwrap();
    assert!(prefs.preferences.email_suppressed, "a hard-bounced address is suppressed");
    // A third message skips the suppressed addresses at release.
    let third = critical(&app, &[&active[0], &active[1]]).await;
    let report = release::release(&app, &Caller::operator(), third).await.unwrap();
    assert_eq!((report.recipients, report.deliveries), (2, 0));

    // Transient failures up to the limit end in failed, with the reason.
    let mut tx = app.db.begin().await.unwrap();
    tidings_store::suppressions::remove(&mut tx, &active[0].profile.email).await.unwrap();
    tidings_store::suppressions::remove(&mut tx, &active[1].profile.email).await.unwrap();
    tx.commit().await.unwrap();
    let fourth = critical(&app, &[&active[0]]).await;
    release::release(&app, &Caller::operator(), fourth).await.unwrap();
    smtp.set_mode(Mode::Transient);
    for _ in 0..3 {
        drain(&app).await;
        app.clock.advance(20_000);
    }
    let mut tx = app.db.read().await.unwrap();
    let d = deliveries::of_message(&mut tx, fourth).await.unwrap().remove(0);
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 3));
    assert!(d.error.unwrap().contains("451"));
    drop(tx);
    for message in [id, second, third, fourth] {
        assert_counts_agree(&app, message).await;
    }
}

async fn a_server_that_is_down_or_slow_loses_nothing(app: App) {
    // Down: nothing listens on the port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut app = with_smtp(app, port);
    app.retry = RetryPolicy { base_ms: 1_000, max_ms: 1_000, max_attempts: 10 };
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0], &active[1]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    drain(&app).await;
    let mut tx = app.db.read().await.unwrap();
    let stored = deliveries::of_message(&mut tx, id).await.unwrap();
    drop(tx);
    assert!(
        stored
            .iter()
            .all(|d| d.status == DeliveryStatus::Queued
                && d.error.as_deref().unwrap_or_default().contains("cannot connect")),
        "{stored:?}"
    );

    // Up, but slower than the mailer waits: the outcome is unknown, and the retry
    // carries the same Message-ID, so the receiver can drop the copy.
    let smtp = MailCatcher::start_on(port);
    smtp.set_mode(Mode::Slow(Duration::from_millis(1_500)));
    app.channels = mailer_for(port, 1);
    app.clock.advance(1_000);
    drain(&app).await;
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Unknown, DeliveryStatus::Unknown]);
    smtp.set_mode(Mode::Accept);
    app.clock.advance(1_000);
    drain(&app).await;
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent, DeliveryStatus::Sent]);
    let mails = smtp.wait_for(4, Duration::from_secs(5));
    for member in &active[..2] {
        let copies: Vec<String> = mails
            .iter()
            .filter(|m| m.to == [member.profile.email.to_string()])
            .map(|m| m.header("Message-ID").unwrap())
            .collect();
        assert!(!copies.is_empty() && copies.len() <= 2, "{copies:?}");
        assert!(copies.iter().all(|c| *c == copies[0]), "every copy has the same Message-ID: {copies:?}");
    }
    assert_counts_agree(&app, id).await;
}

async fn an_outcome_is_saved_only_by_the_worker_whose_claim_it_still_is(app: App) {
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0], &active[1]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    let now = app.clock.now();
    let lease = |ms: i64| tidings_core::Timestamp::from_millis(now.as_millis() + ms);
    let claim = |at, until| {
        let app = app.clone();
        async move {
            let mut tx = app.db.begin().await.unwrap();
            let claimed =
                deliveries::claim(&mut tx, tidings_core::consent::Channel::Email, at, until, 10).await.unwrap();
            tx.commit().await.unwrap();
            claimed
        }
    };
    let first = claim(now, lease(1_000)).await;
    assert_eq!(first.len(), 2, "both opted-in members have an email delivery");
    // The first worker stalls past its lease; a second takes both deliveries over.
    let second = claim(lease(2_000), lease(60_000)).await;
    assert_eq!(second.len(), 2);
    assert!(second.iter().all(|c| c.attempts == 2));
    let settled = |claims: &[deliveries::Claimed]| -> Vec<(deliveries::Claimed, DeliveryStatus)> {
        claims.iter().map(|c| (c.clone(), DeliveryStatus::Sent)).collect()
    };
    let settle = |outcomes: Vec<(deliveries::Claimed, DeliveryStatus)>| {
        let app = app.clone();
        async move {
            let rows: Vec<deliveries::Settled<'_>> = outcomes
                .iter()
                .map(|(c, status)| deliveries::Settled {
                    claimed: c,
                    status: *status,
                    due_at: None,
                    provider_id: Some("late"),
                    error: None,
                    refund_attempt: false,
                })
                .collect();
            let mut tx = app.db.begin().await.unwrap();
            let saved = deliveries::settle(&mut tx, &rows, lease(3_000)).await.unwrap();
            tx.commit().await.unwrap();
            saved
        }
    };
    // The stalled worker's outcomes change nothing; one claim of the current worker and
    // one stale claim in the same batch are told apart row by row.
    assert_eq!(settle(settled(&first)).await, vec![false, false]);
    let mixed = vec![(second[0].clone(), DeliveryStatus::Sent), (first[1].clone(), DeliveryStatus::Sent)];
    assert_eq!(settle(mixed).await, vec![true, false]);
    let mut tx = app.db.read().await.unwrap();
    let stored = deliveries::of_message(&mut tx, id).await.unwrap();
    let of = |c: &deliveries::Claimed| stored.iter().find(|d| d.member_id == c.member_id).unwrap().clone();
    assert_eq!(of(&second[0]).status, DeliveryStatus::Sent);
    assert_eq!(of(&second[0]).provider_id.as_deref(), Some("late"));
    assert_eq!(of(&second[1]).status, DeliveryStatus::Sending, "still the second worker's to settle");
    drop(tx);
    assert_counts_agree(&app, id).await;
}

/// A reminder is a delivery of its own: a row beside the first send's, its own Message-ID
/// (receivers would drop a repeat), and a bounce of it lands on it, not on the first send.
async fn a_member_gets_one_message_twice_with_two_purposes(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    let (active, _) = people(&app).await;
    let member = &active[0];
    let id = critical(&app, &[member]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!(drain(&app).await, 1);

    let reminder = deliveries::DeliveryKey {
        message_id: id,
        member_id: member.id,
        channel: tidings_core::consent::Channel::Email,
        purpose: Purpose::Reminder(1),
    };
    let now = app.clock.now();
    let mut tx = app.db.begin().await.unwrap();
    assert_eq!(deliveries::queue(&mut tx, &[reminder], now, now).await.unwrap(), 1);
    assert_eq!(deliveries::queue(&mut tx, &[reminder], now, now).await.unwrap(), 0, "queued once");
    tx.commit().await.unwrap();
    assert_eq!(drain(&app).await, 1);

    let mails = smtp.wait_for(2, Duration::from_secs(5));
    assert_eq!(mails.len(), 2);
    let ids: Vec<String> = mails.iter().map(|m| m.header("Message-ID").unwrap()).collect();
    let first = app.channels.mail().message_id(id, member.id, Purpose::Initial);
    let second = app.channels.mail().message_id(id, member.id, Purpose::Reminder(1));
    assert_ne!(first, second);
    assert!(ids.contains(&format!("<{first}>")) && ids.contains(&format!("<{second}>")), "{ids:?}");

    let mut tx = app.db.read().await.unwrap();
    let stored = deliveries::of_message(&mut tx, id).await.unwrap();
    drop(tx);
    let purposes: Vec<(Purpose, DeliveryStatus)> = stored.iter().map(|d| (d.purpose, d.status)).collect();
    assert_eq!(purposes, [(Purpose::Initial, DeliveryStatus::Sent), (Purpose::Reminder(1), DeliveryStatus::Sent)]);

    let dsn = format!(
        "From: MAILER-DAEMON@mx.example\r\nTo: bounces@tidings.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\n\
         Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n\
         Final-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: 5.2.2\r\n\r\n--B\r\n\
         Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <{second}>\r\n\r\n--B--\r\n",
        member.profile.email,
    );
    let bounced = tidings_app::tracking::bounce(&app, &Caller::operator(), dsn.as_bytes()).await.unwrap();
    assert_eq!(bounced.bounced, 1);
    let mut tx = app.db.read().await.unwrap();
    let stored = deliveries::of_message(&mut tx, id).await.unwrap();
    drop(tx);
    let purposes: Vec<(Purpose, DeliveryStatus)> = stored.iter().map(|d| (d.purpose, d.status)).collect();
    assert_eq!(purposes, [(Purpose::Initial, DeliveryStatus::Sent), (Purpose::Reminder(1), DeliveryStatus::Bounced)]);
    let query = events::EventQuery { kind: Some(EventKind::Bounced), ..Default::default() };
    let events = events::list(&app, &Caller::operator(), id, &query).await.unwrap();
    let bounces: Vec<Option<Purpose>> = events.items.iter().map(|e| e.purpose).collect();
    assert_eq!(bounces, [Some(Purpose::Reminder(1))]);
    let query = events::EventQuery { kind: Some(EventKind::Sent), ..Default::default() };
    let events = events::list(&app, &Caller::operator(), id, &query).await.unwrap();
    let mut sent: Vec<Option<Purpose>> = events.items.iter().map(|e| e.purpose).collect();
    sent.sort();
    assert_eq!(sent, [Some(Purpose::Initial), Some(Purpose::Reminder(1))]);
    assert_counts_agree(&app, id).await;
}

/// A provider that answers "not before" (an HTTP 429 with Retry-After) is not asked again
/// sooner, even when the backoff would; the in-memory provider stands in for it.
async fn a_providers_retry_after_holds_a_delivery_back(mut app: App) {
    let outbox = tidings_channels::Outbox::new();
    app.channels = Channels::default()
        .with(tidings_core::consent::Channel::Email, tidings_channels::Provider::Memory(outbox.clone()));
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    let three_hours = 3 * 3_600_000;
    outbox.answer_with(Some(tidings_core::deliveries::Outcome::RetryAfter {
        reason: "429 slow down".into(),
        after_ms: three_hours,
    }));
    assert_eq!(drain(&app).await, 1);
    let mut tx = app.db.read().await.unwrap();
    let d = deliveries::of_message(&mut tx, id).await.unwrap().remove(0);
    drop(tx);
    assert_eq!(d.status, DeliveryStatus::Queued);
    assert!(d.due_at.unwrap().as_millis() >= app.clock.now().as_millis() + three_hours as i64, "{d:?}");

    outbox.answer_with(None);
    app.clock.advance(three_hours as i64 - 1_000);
    assert_eq!(drain(&app).await, 0, "not before the provider said");
    app.clock.advance(1_000);
    assert_eq!(drain(&app).await, 1);
    assert_eq!(outbox.sent().len(), 1);
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent]);
}

/// A worker dies holding one delivery; meanwhile a large release queues fresh work. When
/// the lease ends, the next claim takes the dead worker's delivery first, not after every
/// fresh one is sent.
async fn a_dead_workers_deliveries_go_before_fresh_work(app: App) {
    let (active, tester) = people(&app).await;
    let first = critical(&app, &[&active[0]]).await;
    release::release(&app, &Caller::operator(), first).await.unwrap();
    let now = app.clock.now();
    let at = |ms: i64| tidings_core::Timestamp::from_millis(now.as_millis() + ms);
    let mut tx = app.db.begin().await.unwrap();
    let dead = deliveries::claim(&mut tx, tidings_core::consent::Channel::Email, now, at(60_000), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(dead.len(), 1);
    // Fresh work, queued after the dead worker claimed (so due earlier than its lease ends).
    app.clock.advance(1_000);
    let fresh = critical(&app, &[&active[1], &tester]).await;
    release::release(&app, &Caller::operator(), fresh).await.unwrap();

    let mut tx = app.db.begin().await.unwrap();
    let next =
        deliveries::claim(&mut tx, tidings_core::consent::Channel::Email, at(61_000), at(120_000), 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!((next[0].message_id, next[0].member_id, next[0].attempts), (first, active[0].id, 2), "{next:?}");
}

/// A round held up by a slow server renews its short lease while it works, so no other
/// worker takes its deliveries over (and sends them twice) meanwhile.
async fn a_slow_round_keeps_its_lease(app: App) {
    let smtp = MailCatcher::start();
    smtp.set_mode(Mode::Slow(Duration::from_millis(1_500)));
    let app = with_smtp(app, smtp.port);
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    let config = WorkerConfig { lease: Duration::from_millis(300), ..WorkerConfig::default() };
    let worker = {
        let app = app.clone();
        tokio::spawn(async move { work_once(&app, &config, &mut Cache::default()).await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Past the first lease on the app's clock; the round renews from there.
    app.clock.advance(250);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut tx = app.db.begin().await.unwrap();
    let later = tidings_core::Timestamp::from_millis(app.clock.now().as_millis() + 150);
    let taken = deliveries::claim(&mut tx, tidings_core::consent::Channel::Email, later, later, 10).await.unwrap();
    tx.commit().await.unwrap();
    assert!(taken.is_empty(), "the slow round still holds its delivery: {taken:?}");
    assert_eq!(worker.await.unwrap(), 1);
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent]);
    assert_eq!(smtp.wait_for(1, Duration::from_secs(5)).len(), 1, "sent once");
}

/// While the SMTP server is down for many rounds, deliveries wait without spending their
/// attempts (a long outage used to mark good addresses failed), and go once it is back.
async fn a_long_outage_spends_no_attempts(app: App) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut app = with_smtp(app, port);
    app.retry = RetryPolicy { base_ms: 1_000, max_ms: 1_000, max_attempts: 3 };
    let (active, _) = people(&app).await;
    let id = critical(&app, &[&active[0], &active[1]]).await;
    release::release(&app, &Caller::operator(), id).await.unwrap();
    for _ in 0..10 {
        drain(&app).await;
        app.clock.advance(60_000);
    }
    let mut tx = app.db.read().await.unwrap();
    let stored = deliveries::of_message(&mut tx, id).await.unwrap();
    drop(tx);
    assert!(stored.iter().all(|d| d.status == DeliveryStatus::Queued && d.attempts == 0), "{stored:?}");
    let outages = app.channels.outages();
    assert_eq!(outages.len(), 1, "the outage is known: {outages:?}");
    assert!(outages[0].1.reason.contains("cannot connect"), "{outages:?}");

    let smtp = MailCatcher::start_on(port);
    // The channel's pause (wall clock, a second) ends; a round after it tries the server
    // again. On a loaded machine the first round may still fall inside the pause.
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.clock.advance(60_000);
        drain(&app).await;
        if status_of(&app, id).await == [DeliveryStatus::Sent, DeliveryStatus::Sent] {
            break;
        }
    }
    assert_eq!(status_of(&app, id).await, [DeliveryStatus::Sent, DeliveryStatus::Sent]);
    assert_eq!(smtp.wait_for(2, Duration::from_secs(5)).len(), 2);
    assert!(app.channels.outages().is_empty(), "the server answered: the outage is over");
}
