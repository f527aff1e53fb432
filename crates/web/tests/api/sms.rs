//! SMS end to end against a local stand-in for a Twilio-compatible API: a must-know
//! message goes out as a text with its short link, the link opens the message and takes
//! the acknowledgment, the provider's signed status callback marks it delivered, and a
//! member who texts STOP gets no more texts, as their consent history says.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::App;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_channels::Provider;
use tidings_channels::outbound::{Outbound, OutboundPolicy};
use tidings_channels::sms::{Twilio, TwilioConfig, signature};
use tidings_core::consent::Channel;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    a_must_know_text_is_sent_opened_acknowledged_delivered_and_stopped,
    a_slow_sms_provider_does_not_hold_up_email
);

const TOKEN: &str = "twilio-auth-token";

/// The server under test, with SMS through `provider`: served on its own port, so its
/// status callback URL is its own.
async fn with_sms(app: &TestApp, provider: &MockServer) -> (App, String) {
    app.serve_with(|channels, base| {
        let config = TwilioConfig {
            base_url: provider.uri(),
            account_sid: "AC42".into(),
            auth_token: TOKEN.into(),
            from: "+15005550006".into(),
            status_callback: Some(format!("{base}/hooks/sms/status")),
        };
        let http = Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap();
        // Email still goes to the test's mail catcher.
        channels.with(Channel::Sms, Provider::Twilio(Arc::new(Twilio::new(config, http))))
    })
    .await
}

async fn call(app: &TestApp, base: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    app.admin_at(base, method, path, body).await
}

/// A provider's callback, signed as the provider signs it (or not).
async fn callback(app: &TestApp, base: &str, hook: &str, fields: &[(&str, &str)], signed: bool) -> u16 {
    let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let url = format!("{base}{hook}");
    let mut request = app.client.post(&url).form(&fields);
    if signed {
        request = request.header("x-twilio-signature", signature(TOKEN, &url, &fields));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    assert!(status < 500, "{hook}: {}", response.text().await.unwrap());
    status
}

async fn a_must_know_text_is_sent_opened_acknowledged_delivered_and_stopped(app: TestApp) -> TestApp {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/AC42/Messages.json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1", "status": "queued"})))
        .mount(&provider)
        .await;
    let (sms_app, base) = with_sms(&app, &provider).await;

    let (_, acme) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "dealer"}))).await;
    let new_member = |email: &str, phone: &str| {
        json!({"partner_id": acme["id"], "email": email, "name": "Ana Silva", "roles": ["support"], "phone": phone,
               "time_zone": "Europe/Lisbon"})
    };
    let (status, ana) =
        app.admin(Method::POST, "/api/v1/members", Some(new_member("ana@acme.example", "+351 912 345 678"))).await;
    assert_eq!(status, 201, "{ana}");
    // A colleague without SMS consent is not texted.
    let (_, bo) =
        app.admin(Method::POST, "/api/v1/members", Some(new_member("bo@acme.example", "+351 912 345 679"))).await;
    let ana_id = ana["id"].as_str().unwrap().to_owned();
    let consent = json!({"purpose": "sms", "granted": true, "text_version": "sms-terms-1"});
    let (status, _) = app.admin(Method::POST, &format!("/api/v1/members/{ana_id}/consent"), Some(consent)).await;
    assert_eq!(status, 201);

    let (_, topics) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    let message = |title: &str| {
        json!({
            "topic_id": topics["id"],
            "importance": "critical",
            "channels": ["inbox", "sms"],
            "content": {"variants": {"en": {
                "title": title,
                "summary": "Pull lot 42",
                "what_changed": "Lot 42 overheats.",
                "why_it_matters": "Customers could be hurt.",
                "what_to_do": "Pull lot 42 from stock today."
            }}},
            "audience": {"members": [ana_id, bo["id"]]},
            "acknowledgment": {"statement": "We pulled lot 42", "due_at": "2099-01-15T09:00"}
        })
    };

    // The server without an SMS provider refuses the channel; the one with it takes it.
    let (status, refused) = app.admin(Method::POST, "/api/v1/messages", Some(message("Recall of lot 42"))).await;
    assert_eq!(status, 422, "{refused}");
    assert!(refused.to_string().contains("no sms provider is configured"), "{refused}");
    let (status, created) =
        call(&app, &base, Method::POST, "/api/v1/messages", Some(message("Recall of lot 42"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let preview = json!({"member": "ana@acme.example"});
    let (status, preview) =
        call(&app, &base, Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(preview)).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["sms"]["segments"].as_u64(), preview["sms"]["encoding"].as_str()),
        (Some(2), Some("gsm7")),
        "{preview}"
    );
    assert!(preview["sms"]["text"].as_str().unwrap().starts_with("MUST KNOW: Recall of lot 42\n"), "{preview}");
    let (status, released) = call(&app, &base, Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["deliveries"], 1, "only the member who opted in is texted: {released}");

    let mut cache = Cache::default();
    while work_once(&sms_app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    let sent = provider.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&sent[0].body).unwrap();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(field("To"), "+351912345678");
    assert_eq!(field("From"), "+15005550006");
    assert_eq!(field("StatusCallback"), format!("{base}/hooks/sms/status"));
    let body = field("Body");
    assert!(body.starts_with("MUST KNOW: Recall of lot 42\nPull lot 42 from stock today.\nAcknowledge by "), "{body}");
    assert!(body.ends_with("Reply STOP to opt out"), "{body}");

    // The text's link opens the whole message, with the statement to confirm, and takes
    // the acknowledgment.
    let link = body.split_whitespace().find(|w| w.starts_with(&format!("{base}/s/"))).unwrap().to_owned();
    let page = app.client.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("We pulled lot 42") && page.contains("Lot 42 overheats."), "{page}");
    let hash = page.split("name=\"content_hash\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let done = app.client.post(&link).form(&[("content_hash", hash.as_str())]).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let forged = app.client.get(format!("{link}x")).send().await.unwrap();
    assert_eq!(forged.status(), 400);

    // The provider's callbacks: unsigned ones are refused; a signed "delivered" counts.
    let delivered = [("MessageSid", "SM1"), ("MessageStatus", "delivered"), ("AccountSid", "AC42")];
    assert_eq!(callback(&app, &base, "/hooks/sms/status", &delivered, false).await, 403);
    assert_eq!(callback(&app, &base, "/hooks/sms/status", &delivered, true).await, 204);
    assert_eq!(callback(&app, &base, "/hooks/sms/status", &delivered, true).await, 204, "a repeat is harmless");
    let (_, report) = call(&app, &base, Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
    assert_eq!(report["channels"]["sms"], json!({"delivered": 1}), "{report}");
    assert_eq!(report["funnel"]["acknowledged"], 1, "{report}");
    // By channel: both in the inbox; Ana alone was texted, and she acknowledged.
    let reach =
        |channel: &str| report["by_channel"].as_array().unwrap().iter().find(|c| c["channel"] == channel).cloned();
    let row = |c: Value| (c["people"].clone(), c["delivered"].clone(), c["read"].clone(), c["acknowledged"].clone());
    assert_eq!(row(reach("inbox").unwrap()), (json!(2), json!(2), json!(1), json!(1)), "{report}");
    assert_eq!(row(reach("sms").unwrap()), (json!(1), json!(1), json!(1), json!(1)), "{report}");
    let (_, compliance) = call(&app, &base, Method::GET, &format!("/api/v1/messages/{id}/compliance"), None).await;
    assert_eq!(compliance["by_channel"], report["by_channel"], "the compliance report shows the same");

    // STOP from Ana's phone withdraws her SMS consent; the next must-know is not texted.
    let stop = [("From", "+351912345678"), ("To", "+15005550006"), ("Body", " stop "), ("MessageSid", "SM9")];
    assert_eq!(callback(&app, &base, "/hooks/sms/inbound", &stop, false).await, 403);
    assert_eq!(callback(&app, &base, "/hooks/sms/inbound", &stop, true).await, 200);
    let (_, history) = app.admin(Method::GET, &format!("/api/v1/members/{ana_id}/consent"), None).await;
    let last = history.as_array().unwrap().iter().rfind(|r| r["purpose"] == "sms").unwrap().clone();
    assert_eq!((last["granted"].as_bool(), last["source"].as_str()), (Some(false), Some("sms")), "{history}");
    assert_eq!(last["text_version"], "sms-keyword-stop");
    let (_, next) = call(&app, &base, Method::POST, "/api/v1/messages", Some(message("Recall of lot 43"))).await;
    let next_id = next["id"].as_str().unwrap().to_owned();
    let (_, released) = call(&app, &base, Method::POST, &format!("/api/v1/messages/{next_id}/release"), None).await;
    assert_eq!(released["deliveries"], 0, "{released}");

    // The demo's stand-in phone answers START through the same signed hook: texts resume.
    let caller = tidings_app::Caller::operator();
    let answered = tidings_app::mail_catcher::reply_from_phone(&sms_app, &caller, "+351912345678", "start").await;
    assert!(matches!(answered, Ok(tidings_app::sms_hooks::Inbound::OptedIn(1))), "{answered:?}");
    let (_, history) = app.admin(Method::GET, &format!("/api/v1/members/{ana_id}/consent"), None).await;
    let last = history.as_array().unwrap().iter().rfind(|r| r["purpose"] == "sms").unwrap().clone();
    assert_eq!((last["granted"].as_bool(), last["text_version"].as_str()), (Some(true), Some("sms-keyword-start")));
    drop(sms_app);
    app
}

/// Each channel is a lane of its own: while the SMS provider takes its time answering,
/// the same message's emails all go out.
async fn a_slow_sms_provider_does_not_hold_up_email(app: TestApp) -> TestApp {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"sid": "SM1"}))
                .set_delay(std::time::Duration::from_secs(4)),
        )
        .mount(&provider)
        .await;
    let (sms_app, base) = with_sms(&app, &provider).await;
    let (_, acme) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "dealer"}))).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let body = json!({"partner_id": acme["id"], "email": format!("m{i}@acme.example"), "name": format!("M {i}"),
                          "roles": ["support"], "phone": format!("+35191234560{i}")});
        let (status, member) = app.admin(Method::POST, "/api/v1/members", Some(body)).await;
        assert_eq!(status, 201, "{member}");
        let id = member["id"].as_str().unwrap().to_owned();
        for purpose in ["email", "sms"] {
            let consent = json!({"purpose": purpose, "granted": true, "text_version": "v1"});
            assert_eq!(app.admin(Method::POST, &format!("/api/v1/members/{id}/consent"), Some(consent)).await.0, 201);
        }
        ids.push(id);
    }
    let (_, topic) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "ops", "name": "Ops"}))).await;
    let body = json!({"topic_id": topic["id"], "importance": "action", "channels": ["email", "sms"],
        "content": {"variants": {"en": {"title": "Price list", "what_to_do": "Read the new list."}}},
        "audience": {"members": ids}});
    let (status, created) = call(&app, &base, Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    let (_, released) = call(&app, &base, Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(released["deliveries"], 12, "{released}");

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let config = WorkerConfig { concurrency: 2, ..WorkerConfig::default() };
    let worker = tokio::spawn(tidings_app::workers::deliver::run(sms_app.clone(), config, stopped));
    let smtp = app.smtp.clone();
    let mails =
        tokio::task::spawn_blocking(move || smtp.wait_for(6, std::time::Duration::from_secs(20))).await.unwrap();
    assert_eq!(mails.len(), 6);
    // The emails are recorded sent while the texts' round (six answers, two at a time,
    // four seconds each) is still waiting: email did not wait for them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let report = loop {
        let (_, report) = call(&app, &base, Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
        if report["channels"]["email"] == json!({"sent": 6}) || std::time::Instant::now() > deadline {
            break report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(report["channels"]["email"], json!({"sent": 6}), "{report}");
    assert!(report["channels"]["sms"].get("sent").is_none(), "{report}");
    stop.send(true).unwrap();
    worker.await.unwrap();
    app
}
