//! Slack direct messages end to end against a local stand-in for Slack's Web API: the
//! member is found by email and gets Block Kit whose button opens the message in the
//! portal; a member with no Slack user is recorded as such in the ledger.

use std::sync::Arc;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_channels::Provider;
use tidings_channels::outbound::{Outbound, OutboundPolicy};
use tidings_channels::slack::{SlackBot, SlackConfig};
use tidings_core::consent::Channel;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(a_must_know_message_reaches_slack_users_and_says_who_has_none);

async fn a_must_know_message_reaches_slack_users_and_says_who_has_none(app: TestApp) -> TestApp {
    let slack = MockServer::start().await;
    let found = json!({"ok": true, "user": {"id": "U42"}});
    Mock::given(method("POST"))
        .and(path("/users.lookupByEmail"))
        .and(body_string_contains("ana%40acme.example"))
        .respond_with(ResponseTemplate::new(200).set_body_json(found))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/users.lookupByEmail"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "users_not_found"})))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "ts": "1700000000.000100"})))
        .mount(&slack)
        .await;
    let (slack_app, base) = app
        .serve_with(|channels, _| {
            let config = SlackConfig { api_url: slack.uri(), bot_token: "xoxb-test".into() };
            let bot = SlackBot::new(config, Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap());
            channels.with(Channel::Slack, Provider::Slack(Arc::new(bot)))
        })
        .await;

    let (_, acme) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "dealer"}))).await;
    let mut ids = Vec::new();
    for email in ["ana@acme.example", "bo@acme.example"] {
        let body = json!({"partner_id": acme["id"], "email": email, "name": "Ana Silva", "roles": ["support"]});
        let (status, member) = app.admin(Method::POST, "/api/v1/members", Some(body)).await;
        assert_eq!(status, 201, "{member}");
        ids.push(member["id"].clone());
    }
    let (_, topic) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    let body = json!({
        "topic_id": topic["id"], "importance": "critical", "channels": ["inbox", "slack"],
        "content": {"variants": {"en": {"title": "Recall of lot 42", "what_changed": "Lot 42 overheats.",
                                        "what_to_do": "Pull lot 42 today."}}},
        "audience": {"members": ids},
        "acknowledgment": {"statement": "We pulled lot 42", "due_at": "2099-01-15T09:00"}
    });
    let (status, refused) = app.admin(Method::POST, "/api/v1/messages", Some(body.clone())).await;
    assert_eq!(status, 422, "without a Slack bot the channel is refused: {refused}");
    let (status, created) = app.admin_at(&base, Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let preview = json!({"member": "ana@acme.example"});
    let (status, preview) =
        app.admin_at(&base, Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(preview)).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["slack"]["lines"][0], "Recall of lot 42", "{preview}");
    assert_eq!(preview["slack"]["buttons"][0][0], "Read and acknowledge", "{preview}");
    let (_, released) = app.admin_at(&base, Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(released["deliveries"], 2, "Slack needs no opt-in: {released}");

    let mut cache = Cache::default();
    while work_once(&slack_app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    let posts: Vec<Value> = slack
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/chat.postMessage")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 1, "only the member with a Slack user is messaged");
    let post = &posts[0];
    assert_eq!(post["channel"], "U42");
    assert!(post["text"].as_str().unwrap().starts_with("Must know: Recall of lot 42 (please acknowledge) "));
    assert_eq!(post["blocks"][0]["text"]["text"], "Recall of lot 42");
    let button = post["blocks"].as_array().unwrap().last().unwrap()["elements"][0].clone();
    assert_eq!(button["text"]["text"], "Read and acknowledge");
    let link = button["url"].as_str().unwrap();
    assert!(link.starts_with(&format!("{base}/s/")), "{link}");
    let page = app.client.get(link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("We pulled lot 42") && page.contains("Lot 42 overheats."));

    let (_, report) = app.admin_at(&base, Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
    assert_eq!(report["channels"]["slack"], json!({"sent": 1, "suppressed": 1}), "{report}");
    let (_, events) = app.admin_at(&base, Method::GET, &format!("/api/v1/messages/{id}/events"), None).await;
    let suppressed = events["items"].as_array().unwrap().iter().find(|e| e["kind"] == "suppressed").unwrap().clone();
    assert_eq!(suppressed["detail"]["reason"], "no Slack user has the address bo@acme.example", "{suppressed}");

    // Ana turns Slack off in her preferences: the next message is not sent to her there.
    let ana_id: tidings_core::MemberId = serde_json::from_value(ids[0].clone()).unwrap();
    let ana = tidings_app::members::get(&slack_app, &tidings_app::Caller::operator(), ana_id).await.unwrap();
    let settings = tidings_app::self_service::settings(&slack_app, &ana).await.unwrap();
    assert!(settings.slack_channel, "Slack is on until the member turns it off");
    let change = tidings_app::self_service::SettingsChange {
        topics: Default::default(),
        topic_channels: Default::default(),
        email_channel: true,
        email_opt_in: false,
        sms_opt_in: None,
        slack_channel: Some(false),
        accept_terms: false,
        locale: "en".into(),
        time_zone: "UTC".into(),
        working_hours: None,
        opt_in_text_version: "portal-email-1/en".into(),
        sms_opt_in_text_version: "portal-sms-1/en".into(),
        digest: None,
    };
    assert!(!tidings_app::self_service::change(&slack_app, &ana, &change).await.unwrap().slack_channel);
    let (_, copy) = app.admin_at(&base, Method::POST, &format!("/api/v1/messages/{id}/copy"), None).await;
    let copy = copy["id"].as_str().unwrap().to_owned();
    let (_, released) = app.admin_at(&base, Method::POST, &format!("/api/v1/messages/{copy}/release"), None).await;
    assert_eq!(released["deliveries"], 1, "only Bo is left on Slack: {released}");
    app
}
