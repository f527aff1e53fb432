//! `/api/v1/audit`: what staff did through the API, readable by admins alone.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(api_changes_appear_in_the_audit_log, only_admins_read_the_audit_log);

async fn api_changes_appear_in_the_audit_log(app: TestApp) -> TestApp {
    let (status, topic) =
        app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "recalls", "name": "Recalls"}))).await;
    assert_eq!(status, 201, "{topic}");
    let id = topic["id"].as_str().unwrap().to_owned();
    let renamed = app
        .client
        .patch(format!("{}/api/v1/topics/{id}", app.base))
        .bearer_auth(&app.admin)
        .header("x-request-id", "crm-sync-42")
        .json(&json!({"name": "Recall notices"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);
    assert_eq!(renamed.headers()["x-request-id"], "crm-sync-42", "the request id is returned");

    let (status, log) = app.admin(Method::GET, &format!("/api/v1/audit?subject_id={id}"), None).await;
    assert_eq!(status, 200, "{log}");
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "topic.update");
    assert_eq!(items[0]["actor"]["kind"], "token");
    assert_eq!(items[0]["actor"]["name"], "admin");
    assert_eq!(items[0]["before"]["name"], "Recalls");
    assert_eq!(items[0]["after"]["name"], "Recall notices");
    assert_eq!(items[0]["request_id"], "crm-sync-42", "the change names the request that made it");
    assert_eq!(items[1]["action"], "topic.create");
    let generated = items[1]["request_id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "one is made when the client sends none: {generated}");

    let (_, one) = app.admin(Method::GET, "/api/v1/audit?action=topic.create&limit=1", None).await;
    assert_eq!(one["items"].as_array().unwrap().len(), 1);
    assert_eq!(one["items"][0]["subject_id"], id.as_str());
    let (status, problem) = app.admin(Method::GET, "/api/v1/audit?subject_id=nope", None).await;
    assert_eq!(status, 400, "{problem}");
    app
}

async fn only_admins_read_the_audit_log(app: TestApp) -> TestApp {
    let (status, problem) = read(app.call(Method::GET, "/api/v1/audit", Some(&app.analyst), None).await).await;
    assert_eq!(status, 403, "{problem}");
    let (status, _) = read(app.call(Method::GET, "/api/v1/audit", None, None).await).await;
    assert_eq!(status, 401);
    app
}
