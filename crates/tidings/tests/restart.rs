//! Restart safety: a `tidings worker` process killed with SIGKILL mid-send, then started
//! again, delivers to every recipient; nobody gets a second copy except deliveries that
//! were in flight (claimed and unsettled) at the moment of the kill.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tidings_app::audiences::AudienceDraft;
use tidings_app::{App, Caller, demo, release};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::messages::{ContentDraft, MessageDraft, VariantDraft};
use tidings_core::{Catalog, MemberStatus};
use tidings_store::members::MemberFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{deliveries, members, topics};

use common::{grant, worker, worker_command};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_killed_worker_restarts_and_delivers_to_everyone_on_sqlite() {
    killed_and_restarted(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_killed_worker_restarts_and_delivers_to_everyone_on_postgres() {
    killed_and_restarted(Engine::Postgres).await;
}

#[tokio::test]
async fn a_worker_killed_mid_send_on_every_channel_loses_nothing_on_sqlite() {
    killed_on_every_channel(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_worker_killed_mid_send_on_every_channel_loses_nothing_on_postgres() {
    killed_on_every_channel(Engine::Postgres).await;
}

async fn killed_and_restarted(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    // Restarts, not quiet hours, are under test here: every email may go at once.
    t.db.execute_raw("update partners set working_hours = null; update members set working_hours = null")
        .await
        .unwrap();
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
        grant(&mut tx, m.id, "email", app.clock.now()).await;
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    let members = active.iter().map(|m| m.id).collect();
    let draft = common::price_list(topic.id, members, "Update your quotes, {{ member.first_name }}.");
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

/// A stand-in for Slack's Web API: each address is its own user (`U` and the address), and
/// every direct message is kept.
async fn fake_slack() -> MockServer {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users.lookupByEmail"))
        .respond_with(|request: &wiremock::Request| {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&request.body).unwrap_or_default();
            let email = form.into_iter().find(|(k, _)| k == "email").map(|(_, v)| v).unwrap_or_default();
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true, "user": {"id": format!("U{email}")}}))
        })
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": true, "ts": "1.0"}))
                .set_delay(Duration::from_millis(10)),
        )
        .mount(&slack)
        .await;
    slack
}

/// Every recipient of each kind of request, as many times as it was received.
async fn recipients(server: &MockServer, path_is: &str, field: impl Fn(&[u8]) -> Option<String>) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests.iter().filter(|r| r.url.path() == path_is).filter_map(|r| field(&r.body)).collect()
}

/// The paths under `prefix` the stand-in received, as many times as it received each.
async fn paths(server: &MockServer, prefix: &str) -> Vec<String> {
    let requests = server.received_requests().await.unwrap_or_default();
    requests.iter().map(|r| r.url.path().to_owned()).filter(|p| p.starts_with(prefix)).collect()
}

async fn killed_on_every_channel(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    // Restarts, not quiet hours, are under test here: every email may go at once.
    t.db.execute_raw("update partners set working_hours = null; update members set working_hours = null")
        .await
        .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let active = members::list(
        &mut tx,
        &MemberFilter { status: Some(MemberStatus::Active), ..Default::default() },
        None,
        Some(150),
    )
    .await
    .unwrap()
    .items;
    for (i, m) in active.iter().enumerate() {
        let mut member = m.clone();
        member.profile.phone = Some(tidings_core::Phone::parse(&format!("+1555{i:07}")).unwrap());
        members::update(&mut tx, &member).await.unwrap();
        for purpose in ["email", "sms"] {
            grant(&mut tx, m.id, purpose, app.clock.now()).await;
        }
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    let variant = VariantDraft {
        title: Some("Recall of lot 42".into()),
        what_changed: Some("Lot 42 overheats.".into()),
        what_to_do: Some("Pull lot 42 today.".into()),
        ..Default::default()
    };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("critical".into()),
        channels: Some(vec!["email".into(), "sms".into(), "slack".into(), "web_push".into(), "teams".into()]),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { members: active.iter().map(|m| m.id).collect(), ..Default::default() }),
        ..Default::default()
    };
    let smtp = MailCatcher::start();
    smtp.set_mode(Mode::Slow(Duration::from_millis(10)));
    let sms = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"sid": "SM1"}))
                .set_delay(Duration::from_millis(10)),
        )
        .mount(&sms)
        .await;
    let slack = fake_slack().await;
    // Browsers' push services and partners' Teams channels: one stand-in for both.
    let hooks = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_millis(10)))
        .mount(&hooks)
        .await;
    // Releasing checks that each channel has a provider: this app has them as the worker will.
    let http =
        tidings_channels::outbound::Outbound::new(tidings_channels::outbound::OutboundPolicy { allow_loopback: true })
            .unwrap();
    let twilio = tidings_channels::sms::TwilioConfig {
        base_url: sms.uri(),
        account_sid: "AC1".into(),
        auth_token: "t".into(),
        from: "+15005550006".into(),
        status_callback: None,
    };
    let bot = tidings_channels::slack::SlackConfig { api_url: slack.uri(), bot_token: "xoxb-1".into() };
    let app = App {
        channels: tidings_channels::Channels::default()
            .with_smtp(tidings_channels::SmtpConfig { port: smtp.port, ..Default::default() })
            .with(
                tidings_core::consent::Channel::Sms,
                tidings_channels::Provider::Twilio(std::sync::Arc::new(tidings_channels::sms::Twilio::new(
                    twilio,
                    http.clone(),
                ))),
            )
            .with(
                tidings_core::consent::Channel::Slack,
                tidings_channels::Provider::Slack(std::sync::Arc::new(tidings_channels::slack::SlackBot::new(
                    bot,
                    http.clone(),
                ))),
            )
            .with_outbound(http.clone()),
        ..app
    };
    // The worker signs with the same stored VAPID key.
    let app = app.with_web_push(http, "mailto:ops@vendor.example").await.unwrap();
    let mut partners = Vec::new();
    for m in &active {
        let browser = tidings_channels::push::Subscription::stand_in(format!("{}/push/{}", hooks.uri(), m.id));
        tidings_app::push::subscribe(&app, m, browser, None).await.unwrap();
        if !partners.contains(&m.profile.partner_id) {
            partners.push(m.profile.partner_id);
        }
    }
    for partner in &partners {
        let url = format!("{}/teams/{partner}", hooks.uri());
        let who = tidings_app::partner_channels::PartnerAdmin::Staff(&Caller::operator());
        tidings_app::partner_channels::bind(&app, who, *partner, tidings_core::consent::Channel::Teams, &url, "")
            .await
            .unwrap();
    }
    let message = tidings_app::messages::create(&app, &Caller::operator(), &draft).await.unwrap();
    let report = release::release(&app, &Caller::operator(), message.id).await.unwrap();
    let expected = usize::try_from(report.deliveries).unwrap();
    assert_eq!(expected, active.len() * 4, "{report:?}");

    let start = |smtp_port: u16| {
        worker_command(&t.url, smtp_port)
            .env("TIDINGS_SMS__BASE_URL", sms.uri())
            .env("TIDINGS_SMS__ACCOUNT_SID", "AC1")
            .env("TIDINGS_SMS__AUTH_TOKEN", "t")
            .env("TIDINGS_SMS__FROM", "+15005550006")
            .env("TIDINGS_SLACK__API_URL", slack.uri())
            .env("TIDINGS_SLACK__BOT_TOKEN", "xoxb-1")
            .env("TIDINGS_OUTBOUND__ALLOW_LOOPBACK", "true")
            .env("TIDINGS_SMS__RATE_PER_SECOND", "100000")
            .env("TIDINGS_SLACK__RATE_PER_SECOND", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the tidings binary starts")
    };
    let sent_so_far = || async {
        let texts = sms.received_requests().await.unwrap_or_default().len();
        let dms = recipients(&slack, "/chat.postMessage", |_| Some(String::new())).await.len();
        let pushes = hooks.received_requests().await.unwrap_or_default().len();
        smtp.received_count() + texts + dms + pushes
    };
    let mut first = start(smtp.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sent_so_far().await < expected / 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap(); // SIGKILL: no chance to finish the round or settle anything
    first.wait().unwrap();
    assert!(sent_so_far().await < expected, "the kill came mid-send");
    let mut tx = app.db.read().await.unwrap();
    let in_flight = deliveries::of_message(&mut tx, message.id)
        .await
        .unwrap()
        .iter()
        .filter(|d| d.status == DeliveryStatus::Sending)
        .count()
        + tidings_store::partner_channels::of_message(&mut tx, message.id, 10_000)
            .await
            .unwrap()
            .iter()
            .filter(|p| p.status == DeliveryStatus::Sending)
            .count();
    drop(tx);

    let mut second = start(smtp.port);
    let deadline = Instant::now() + Duration::from_secs(90);
    let settled = loop {
        let mut tx = app.db.read().await.unwrap();
        let all = deliveries::of_message(&mut tx, message.id).await.unwrap();
        let posts = tidings_store::partner_channels::of_message(&mut tx, message.id, 10_000).await.unwrap();
        drop(tx);
        let posted = posts.len() == partners.len() && posts.iter().all(|p| p.status == DeliveryStatus::Sent);
        if (posted && all.iter().all(|d| d.status == DeliveryStatus::Sent)) || Instant::now() > deadline {
            assert!(posted, "every partner's Teams post ends sent: {posts:?}");
            break all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();
    let stuck: Vec<_> = settled.iter().filter(|d| d.status != DeliveryStatus::Sent).collect();
    assert!(stuck.is_empty(), "every delivery ends sent; {} do not, such as {:?}", stuck.len(), stuck.first());

    let form_field = |name: &'static str| {
        move |body: &[u8]| {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
            form.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
        }
    };
    let json_field =
        |body: &[u8]| serde_json::from_slice::<serde_json::Value>(body).ok()?["channel"].as_str().map(str::to_owned);
    let received = [
        ("email", smtp.received().into_iter().map(|m| m.to.join(",")).collect::<Vec<_>>()),
        ("sms", recipients(&sms, "/2010-04-01/Accounts/AC1/Messages.json", form_field("To")).await),
        ("slack", recipients(&slack, "/chat.postMessage", json_field).await),
        ("web_push", paths(&hooks, "/push/").await),
        ("teams", paths(&hooks, "/teams/").await),
    ];
    let mut duplicates = 0;
    for (channel, to) in &received {
        let mut copies: HashMap<&String, usize> = HashMap::new();
        for r in to {
            *copies.entry(r).or_default() += 1;
        }
        let wanted = if *channel == "teams" { partners.len() } else { active.len() };
        assert_eq!(copies.len(), wanted, "everyone got the {channel} message");
        duplicates += copies.values().map(|n| n - 1).sum::<usize>();
    }
    eprintln!("{expected} deliveries, {in_flight} in flight at the kill, {duplicates} second copies");
    assert!(duplicates <= in_flight, "{duplicates} second copies but only {in_flight} deliveries were in flight");
    t.cleanup().await;
}
