//! Signed webhooks end to end against a local receiver that verifies every request with
//! the Standard Webhooks specification's own library: endpoints for the vendor and for one
//! partner (which gets only its own partner's events), the events a release, a failed
//! delivery and acknowledgments make, a retry on the schedule, an endpoint disabled by a
//! 410, a test event, and each endpoint's delivery log.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::Clock;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_channels::Provider;
use tidings_channels::outbound::{Outbound, OutboundPolicy};
use tidings_channels::slack::{SlackBot, SlackConfig};
use tidings_core::Timestamp;
use tidings_core::consent::Channel;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(events_reach_subscribed_endpoints_signed_and_retried);

async fn work(app: &tidings_app::App) {
    let mut cache = Cache::default();
    while work_once(app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
}

/// The requests `path` received, each verified with `secret`, as (type, data).
async fn received(receiver: &MockServer, at: &str, secret: &str) -> Vec<(String, Value)> {
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    let mut out = Vec::new();
    for r in receiver.received_requests().await.unwrap().iter().filter(|r| r.url.path() == at) {
        let mut headers = http::HeaderMap::new();
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let value = r.headers.get(name).unwrap_or_else(|| panic!("{name} missing"));
            headers.insert(name, value.to_str().unwrap().parse().unwrap());
        }
        verifier.verify(&r.body, &headers).unwrap_or_else(|e| panic!("{at}: the signature does not verify: {e}"));
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        out.push((body["type"].as_str().unwrap().to_owned(), body["data"].clone()));
    }
    out
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

async fn events_reach_subscribed_endpoints_signed_and_retried(app: TestApp) -> TestApp {
    let receiver = MockServer::start().await;
    for at in ["/vendor", "/beta"] {
        Mock::given(method("POST")).and(path(at)).respond_with(ResponseTemplate::new(204)).mount(&receiver).await;
    }
    Mock::given(method("POST")).and(path("/gone")).respond_with(ResponseTemplate::new(410)).mount(&receiver).await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&receiver)
        .await;
    Mock::given(method("POST")).and(path("/flaky")).respond_with(ResponseTemplate::new(200)).mount(&receiver).await;
    // A Slack whose users are all disabled: every direct message fails for good.
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users.lookupByEmail"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": {"id": "U1"}})))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "user_disabled"})))
        .mount(&slack)
        .await;
    let (sender, base) = app
        .serve_with(|channels, _| {
            let config = SlackConfig { api_url: slack.uri(), bot_token: "xoxb-test".into() };
            let bot = SlackBot::new(config, Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap());
            channels.with(Channel::Slack, Provider::Slack(Arc::new(bot)))
        })
        .await;

    let mut members = Vec::new();
    let mut partners = Vec::new();
    for (name, people) in [("Acme", 2), ("Beta", 1)] {
        let (_, p) =
            app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": name, "partner_type": "dealer"}))).await;
        for i in 0..people {
            let email = format!("p{i}@{}.example", name.to_lowercase());
            let body = json!({"partner_id": p["id"], "email": email, "name": "Pat", "roles": ["support"]});
            let (_, m) = app.admin(Method::POST, "/api/v1/members", Some(body)).await;
            members.push((m["id"].as_str().unwrap().to_owned(), name));
        }
        partners.push(p["id"].as_str().unwrap().to_owned());
    }

    // Endpoints: a URL inside or an unknown event is refused with the reason.
    let create = |body: Value| async { app.admin(Method::POST, "/api/v1/webhooks", Some(body)).await };
    let (status, problem) = create(json!({"url": "https://10.0.0.1/hook", "events": ["message.released"]})).await;
    assert_eq!(status, 422);
    assert!(problem.to_string().contains("private"), "{problem}");
    let (status, problem) = create(json!({"url": receiver.uri(), "events": ["message.sent"]})).await;
    assert_eq!(status, 422);
    assert!(problem.to_string().contains("message.released, delivery.failed"), "{problem}");
    let all = json!(["message.released", "delivery.failed", "acknowledgment.recorded", "obligation.met"]);
    let (status, vendor) = create(json!({"url": format!("{}/vendor", receiver.uri()), "events": all,
        "description": "Our CRM"}))
    .await;
    assert_eq!(status, 201, "{vendor}");
    let vendor_secret = vendor["secret"].as_str().unwrap().to_owned();
    assert!(vendor_secret.starts_with("whsec_"));
    let (_, beta) =
        create(json!({"url": format!("{}/beta", receiver.uri()), "events": all, "partner_id": partners[1]})).await;
    let (_, gone) = create(json!({"url": format!("{}/gone", receiver.uri()), "events": ["message.released"]})).await;
    let (_, flaky) =
        create(json!({"url": format!("{}/flaky", receiver.uri()), "events": ["acknowledgment.recorded"]})).await;
    let (_, listed) = app.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(listed.as_array().unwrap().len(), 4);
    assert!(listed[0].get("secret").is_none(), "the secret is shown once, on creation");

    // A must-know message on the inbox and Slack (which fails for everyone), released.
    let (_, topic) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    let body = json!({"topic_id": topic["id"], "importance": "critical", "channels": ["inbox", "slack"],
        "content": {"variants": {"en": {"title": "Recall of lot 7", "what_to_do": "Pull it."}}},
        "audience": {"rule": "member.role = \"support\""},
        "acknowledgment": {"statement": "Pulled.", "due_at": "2099-01-15T09:00"}});
    let (status, message) = app.admin_at(&base, Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(app.admin_at(&base, Method::POST, &format!("/api/v1/messages/{id}/release"), None).await.0, 200);
    work(&sender).await;

    // Everyone acknowledges: Beta's one member, then Acme's two.
    for (member, _) in &members {
        let (_, token) = app.admin(Method::POST, &format!("/api/v1/members/{member}/token"), Some(json!({}))).await;
        let token = token["token"].as_str().unwrap().to_owned();
        let (_, shown) = read(app.call(Method::GET, &format!("/api/v1/inbox/{id}"), Some(&token), None).await).await;
        let ack = json!({"content_hash": shown["rendered"]["content_hash"]});
        let done = app.call(Method::POST, &format!("/api/v1/inbox/{id}/acknowledge"), Some(&token), Some(ack)).await;
        assert_eq!(done.status(), 200);
    }
    work(&sender).await;

    let vendor_got = received(&receiver, "/vendor", &vendor_secret).await;
    let mut kinds = types(&vendor_got);
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "acknowledgment.recorded",
            "acknowledgment.recorded",
            "acknowledgment.recorded",
            "delivery.failed",
            "delivery.failed",
            "delivery.failed",
            "message.released",
            "obligation.met",
            "obligation.met"
        ],
        "the vendor's endpoint gets every event"
    );
    let released = &vendor_got.iter().find(|(t, _)| t == "message.released").unwrap().1;
    assert_eq!(
        (released["message_id"].as_str(), released["title"].as_str()),
        (Some(id.as_str()), Some("Recall of lot 7"))
    );
    let failed = &vendor_got.iter().find(|(t, _)| t == "delivery.failed").unwrap().1;
    assert_eq!((failed["channel"].as_str(), failed["status"].as_str()), (Some("slack"), Some("bounced")), "{failed}");
    assert!(failed["reason"].as_str().unwrap().contains("user_disabled"));

    let beta_got = received(&receiver, "/beta", beta["secret"].as_str().unwrap()).await;
    // Requests to one endpoint go several at a time, so they may arrive in any order.
    let mut beta_types = types(&beta_got);
    beta_types.sort_unstable();
    assert_eq!(
        beta_types,
        ["acknowledgment.recorded", "delivery.failed", "message.released", "obligation.met"],
        "Beta's endpoint gets Beta's events only"
    );
    let met = &beta_got[3].1;
    assert_eq!((met["partner_id"].as_str(), met["acknowledged"].as_i64()), (Some(partners[1].as_str()), Some(1)));
    assert!(beta_got.iter().all(|(_, d)| d.get("partner_id").is_none_or(|p| p == partners[1].as_str())));

    // A 410 disables its endpoint, with the reason.
    let gone_id = gone["endpoint"]["id"].as_str().unwrap();
    let (_, gone_now) = app.admin(Method::GET, &format!("/api/v1/webhooks/{gone_id}"), None).await;
    assert_eq!(
        (gone_now["enabled"].as_bool(), gone_now["disabled_reason"].as_str()),
        (Some(false), Some("the endpoint answered 410 Gone"))
    );

    // The flaky endpoint's first request was answered 503: queued for 5 s later, then sent
    // on the retry with the same webhook-id.
    let flaky_id = flaky["endpoint"]["id"].as_str().unwrap();
    let (_, log) = app.admin(Method::GET, &format!("/api/v1/webhooks/{flaky_id}/deliveries"), None).await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3, "three acknowledgments");
    let retried = log.iter().find(|d| d["status"] == "queued").expect("one waits for its retry");
    assert_eq!((retried["response_status"].as_i64(), retried["attempts"].as_i64()), (Some(503), Some(1)));
    let mut later = sender.clone();
    later.clock = Clock::fixed(Timestamp::from_millis(Timestamp::now().as_millis() + 6_000));
    work(&later).await;
    let (_, log) = app.admin(Method::GET, &format!("/api/v1/webhooks/{flaky_id}/deliveries"), None).await;
    assert!(log.as_array().unwrap().iter().all(|d| d["status"] == "sent"), "{log}");
    let ids: Vec<String> = receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/flaky")
        .map(|r| r.headers.get("webhook-id").unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(ids.iter().collect::<std::collections::BTreeSet<_>>().len(), 3, "the retry kept its webhook-id");

    // A test event goes to one endpoint and shows in its log.
    let vendor_id = vendor["endpoint"]["id"].as_str().unwrap();
    let (status, test) = app.admin(Method::POST, &format!("/api/v1/webhooks/{vendor_id}/test"), None).await;
    assert_eq!(status, 202, "{test}");
    work(&sender).await;
    let vendor_got = received(&receiver, "/vendor", &vendor_secret).await;
    assert_eq!(vendor_got.last().unwrap().0, "webhook.test");
    let (_, log) = app.admin(Method::GET, &format!("/api/v1/webhooks/{vendor_id}/deliveries"), None).await;
    assert_eq!((log[0]["id"].as_str(), log[0]["status"].as_str()), (test["id"].as_str(), Some("sent")));

    // The console: add an endpoint (its secret shown on that answer only), send a test
    // event from its page, and see it in the log.
    let staff = crate::console::staff(&app, tidings_core::StaffRole::Admin).await;
    let mut console = crate::console::signed_in(&app, &staff).await;
    let page = console.get("/admin/webhooks").await;
    assert!(page.body.contains(&format!("{}/vendor", receiver.uri())), "{}", page.body);
    let url = format!("{}/beta", receiver.uri());
    let form = [
        ("csrf", page.csrf()),
        ("url", url),
        ("description", "From the console".into()),
        ("event", "message.released".into()),
        ("event", "obligation.met".into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let added = console.post("/admin/webhooks", &form).await;
    assert_eq!(added.status, 200, "{}", added.body);
    assert!(added.body.contains("not shown again"));
    let shown = &added.body[added.body.find("id=\"new-secret\"").expect("the secret's box")..];
    let at = shown.find("<code>whsec_").expect("the secret") + "<code>".len();
    let secret = shown[at..].split('<').next().unwrap();
    assert!(secret.len() > 40, "{secret}");
    assert!(standardwebhooks::Webhook::new(secret).is_ok(), "{secret}");
    let listed = console.get("/admin/webhooks").await;
    assert!(!listed.body.contains(secret), "the secret is shown once");
    let endpoint = console.get(&format!("/admin/webhooks/{vendor_id}")).await;
    assert!(endpoint.body.contains("Latest requests") && endpoint.body.contains("webhook.test"), "{}", endpoint.body);
    let tested = console.post(&format!("/admin/webhooks/{vendor_id}/test"), &[("csrf", &endpoint.csrf())]).await;
    assert_eq!(tested.status, 303);

    // Only admins manage webhooks.
    let analyst = app.analyst.clone();
    let (status, _) = read(app.call(Method::GET, "/api/v1/webhooks", Some(&analyst), None).await).await;
    assert_eq!(status, 403);
    app
}
