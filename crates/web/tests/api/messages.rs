//! Composing messages over the API.

use reqwest::Method;
use serde_json::json;
use tidings_app::{App, demo};

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(
    a_critical_message_is_composed_previewed_scheduled_and_frozen_when_done,
    multi_line_text_with_browser_line_ends_is_kept_and_saves_again_unchanged,
    a_send_time_keeps_its_time_of_day_and_its_time_zone,
);

async fn a_critical_message_is_composed_previewed_scheduled_and_frozen_when_done(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let ops = topics["items"].as_array().unwrap().iter().find(|t| t["key"] == "operations").unwrap()["id"].clone();
    let body = json!({
        "topic_id": ops,
        "importance": "critical",
        "content": {"variants": {"en": {
            "title": "Recall: lots {{ member.attr.trained }}",
            "summary": "Battery packs from two lots must be pulled",
            "what_changed": "We found a fault in **two lots**.",
            "why_it_matters": "Customers could be hurt. <script>alert(1)</script>",
            "what_to_do": "Hi {{ member.first_name }}, pull the stock today.",
            "call_to_action": {"label": "Start the return", "url": "https://vendor.example/returns"}
        }}},
        "audience": {"rule": "member.role in (\"support\", \"operations\") and partner.type = \"distributor\""},
        "acknowledgment": {"statement": "We have pulled the affected stock", "due_at": "2027-01-15"}
    });
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!((message["state"].as_str(), message["importance"].as_str()), (Some("draft"), Some("critical")));
    let id = message["id"].as_str().unwrap().to_owned();

    let (_, members) = app.admin(Method::GET, "/api/v1/members?role=operations&status=active", None).await;
    let email = members["items"][0]["email"].as_str().unwrap().to_owned();
    let (status, preview) =
        app.admin(Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(json!({"member": email}))).await;
    assert_eq!(status, 200, "{preview}");
    let rendered = &preview["rendered"];
    assert!(rendered["what_to_do"].as_str().unwrap().starts_with("<p>Hi "), "{rendered}");
    assert!(!rendered["why_it_matters"].as_str().unwrap().contains("<script"), "{rendered}");
    assert_eq!(rendered["content_hash"].as_str().unwrap().len(), 64);
    let channels: Vec<&str> =
        preview["channels"].as_array().unwrap().iter().map(|c| c["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["inbox", "popup", "email"]);

    let broken = json!({"content": {"variants": {"en": {"title": "Hi {{ member.nickname }}"}}}});
    assert_eq!(app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(broken)).await.0, 200);
    let (status, problem) =
        app.admin(Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(json!({"member": email}))).await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "content.variants.en.title");

    let (status, problem) = app
        .admin(
            Method::POST,
            &format!("/api/v1/messages/{id}/schedule"),
            Some(json!({"send_at": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("send_at")));
    let (status, scheduled) = app
        .admin(
            Method::POST,
            &format!("/api/v1/messages/{id}/schedule"),
            Some(json!({"send_at": "2099-01-01T09:00:00Z"})),
        )
        .await;
    assert_eq!((status, scheduled["state"].as_str()), (200, Some("scheduled")), "{scheduled}");
    let (status, draft) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/unschedule"), None).await;
    assert_eq!((status, draft["state"].as_str(), draft["send_at"].is_null()), (200, Some("draft"), true));
    let (status, cancelled) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/cancel"), None).await;
    assert_eq!((status, cancelled["state"].as_str()), (200, Some("cancelled")));
    let (status, problem) =
        app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(json!({"importance": "info"}))).await;
    assert_eq!(status, 409);
    assert_eq!(problem["detail"], "a message that is cancelled cannot change: copy it to send a new version");
    let (status, copy) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/copy"), None).await;
    assert_eq!((status, copy["state"].as_str()), (201, Some("draft")));
    assert_ne!(copy["id"], id.as_str());
    let (_, listed) = app.admin(Method::GET, "/api/v1/messages?state=draft", None).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);

    let (status, problem) = app
        .admin(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"topic_id": ops, "importance": "urgent", "content": {"variants": {}}})),
        )
        .await;
    assert_eq!(status, 422, "{problem}");
    // A channel that cannot be sent is refused with the reason, not accepted to deliver nothing.
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let body = json!({"topic_id": topics["items"][0]["id"], "importance": "critical", "channels": ["sms", "webhook", "email"],
        "content": {"variants": {"en": {"title": "Recall"}}}});
    let (status, problem) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 422, "{problem}");
    let reasons: Vec<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(
        reasons,
        [
            "no sms provider is configured, so sms would reach nobody",
            "webhook is not a channel a message is sent on: webhooks report events (message.released, acknowledgment.recorded, ...) to the endpoints added at /api/v1/webhooks"
        ],
        "sms and webhook, not email"
    );
    let analyst = app.analyst.clone();
    let (status, _) =
        read(app.call(Method::POST, &format!("/api/v1/messages/{id}/copy"), Some(&analyst), None).await).await;
    assert_eq!(status, 403);
    // The role is checked before the body is read: a caller who may not compose learns
    // nothing of the body's shape, whatever they send.
    for (path, body) in [
        ("/api/v1/messages".to_owned(), json!({"nonsense": true})),
        (format!("/api/v1/messages/{id}"), json!({"importance": 5})),
        (format!("/api/v1/messages/{id}/schedule"), json!({})),
        ("/api/v1/partners".to_owned(), json!([])),
        ("/api/v1/settings/approval-policy".to_owned(), json!("x")),
    ] {
        let method = if path.ends_with(&id) {
            Method::PATCH
        } else if path.contains("approval-policy") {
            Method::PUT
        } else {
            Method::POST
        };
        let (status, problem) = read(app.call(method.clone(), &path, Some(&analyst), Some(body.clone())).await).await;
        assert_eq!(status, 403, "{method} {path}: {problem}");
        assert_eq!(app.admin(method, &path, Some(body)).await.0, 422, "{path}: an admin learns what is wrong");
    }
    app
}

async fn multi_line_text_with_browser_line_ends_is_kept_and_saves_again_unchanged(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let ops = topics["items"][0]["id"].clone();
    let content = json!({"variants": {"en": {
        "title": "Recall",
        "what_to_do": "1. Pull the stock\r\n2. Tell your customers\r\n\r\n3. Return it",
    }}});
    let body = json!({"topic_id": ops, "importance": "action", "content": content, "audience": {"rule": "member.role = \"support\""}});
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    let stored = &message["content"]["variants"]["en"]["what_to_do"];
    assert_eq!(stored, "1. Pull the stock\n2. Tell your customers\n\n3. Return it");
    let id = message["id"].as_str().unwrap().to_owned();
    let (status, again) =
        app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(json!({"content": message["content"]}))).await;
    assert_eq!(status, 200, "the text as read back saves again: {again}");
    assert_eq!(again["content"]["variants"]["en"]["what_to_do"], *stored);
    app
}

/// A recall chosen for 09:00 in Berlin goes at 09:00 in Berlin: the time of day and the
/// zone are kept, stated back, and a time in the past is refused.
async fn a_send_time_keeps_its_time_of_day_and_its_time_zone(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let body = json!({"topic_id": topics["items"][0]["id"], "importance": "action",
        "content": {"variants": {"en": {"title": "Price list"}}}, "audience": {"rule": "member.role = \"sales\""}});
    let (_, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(message["time_zone"], "UTC");
    let url = format!("/api/v1/messages/{id}/schedule");
    let schedule = |body| app.admin(Method::POST, &url, Some(body));

    // As a browser's datetime-local sends it: no seconds, no zone.
    let (status, scheduled) = schedule(json!({"send_at": "2099-12-24T09:00", "time_zone": "Europe/Berlin"})).await;
    assert_eq!(status, 200, "{scheduled}");
    assert_eq!(scheduled["send_at"], "2099-12-24T08:00:00Z", "09:00 in Berlin, not midnight");
    assert_eq!(scheduled["time_zone"], "Europe/Berlin");
    app.admin(Method::POST, &format!("/api/v1/messages/{id}/unschedule"), None).await;
    // Without a zone, the message's own (now Berlin's); an offset wins over both.
    let (_, again) = schedule(json!({"send_at": "2099-07-01 09:00"})).await;
    assert_eq!(again["send_at"], "2099-07-01T07:00:00Z", "summer time in Berlin");
    app.admin(Method::POST, &format!("/api/v1/messages/{id}/unschedule"), None).await;
    let (_, offset) = schedule(json!({"send_at": "2099-07-01T09:00:00-05:00"})).await;
    assert_eq!(offset["send_at"], "2099-07-01T14:00:00Z");
    app.admin(Method::POST, &format!("/api/v1/messages/{id}/unschedule"), None).await;

    let (status, problem) = schedule(json!({"send_at": "2020-01-01T09:00", "time_zone": "Europe/Berlin"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("send_at")), "{problem}");
    let (status, problem) = schedule(json!({"send_at": "2099-12-24T09:00", "time_zone": "Mars/Olympus"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("time_zone")), "{problem}");
    let (status, problem) = schedule(json!({"send_at": "Christmas morning"})).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("send_at")), "{problem}");

    // A due date is read in the message's zone too.
    let due = json!({"acknowledgment": {"statement": "Read", "due_at": "2099-12-31 17:00"}});
    let (status, changed) = app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(due)).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["acknowledgment"]["due_at"], "2099-12-31T16:00:00Z");
    app
}
