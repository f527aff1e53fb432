//! Segments, audience previews and explanations over the API.

use reqwest::Method;
use serde_json::json;
use tidings_app::{App, Caller, auth, demo};
use tidings_core::StaffRole;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(
    a_segment_is_saved_previewed_and_explained,
    bad_rules_answer_422_with_the_position,
    consent_and_preferences_decide_the_channels,
);

const RULE: &str = r#"partner.type = "distributor" and member.role in ("support", "operations")"#;

async fn a_segment_is_saved_previewed_and_explained(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let (status, segment) =
        app.admin(Method::POST, "/api/v1/segments", Some(json!({"name": "Distributor support", "rule": RULE}))).await;
    assert_eq!(status, 201, "{segment}");
    let id = segment["id"].as_str().unwrap().to_owned();
    let (status, preview) = app.admin(Method::GET, &format!("/api/v1/segments/{id}/preview"), None).await;
    assert_eq!(status, 200, "{preview}");
    let size = preview["size"].as_i64().unwrap();
    assert!(size > 0);
    assert_eq!(preview["breakdown"]["partner_type"], json!([{"value": "distributor", "count": size}]));
    let sample = preview["sample"].as_array().unwrap();
    assert!(!sample.is_empty() && sample.len() <= 10);

    let (_, direct) = app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({"rule": RULE}))).await;
    assert_eq!(direct["size"].as_i64(), Some(size));
    let email = sample[0]["email"].as_str().unwrap();
    let (status, explained) = app
        .admin(
            Method::POST,
            "/api/v1/audiences/explain",
            Some(json!({"audience": {"segments": [id]}, "member": email})),
        )
        .await;
    assert_eq!(status, 200, "{explained}");
    assert_eq!(explained["included"], true);
    assert_eq!(explained["summary"], "in: selected by segment \"Distributor support\"");
    let (_, excluded) = app
        .admin(
            Method::POST,
            "/api/v1/audiences/explain",
            Some(json!({"audience": {"segments": [id], "exclude_members": [sample[0]["id"]]}, "member": email})),
        )
        .await;
    assert_eq!(excluded["summary"], "out: excluded by the excluded members");

    let author = {
        let core_app = App::new(app.db().clone(), Default::default());
        auth::create_token(&core_app, &Caller::operator(), "author", StaffRole::Author, None).await.unwrap().1
    };
    let (status, _) = read(
        app.call(Method::POST, "/api/v1/segments", Some(&author), Some(json!({"name": "Mine", "rule": RULE}))).await,
    )
    .await;
    assert_eq!(status, 201, "authors save segments");
    let analyst = app.analyst.clone();
    let (status, _) = read(
        app.call(Method::POST, "/api/v1/segments", Some(&analyst), Some(json!({"name": "No", "rule": RULE}))).await,
    )
    .await;
    assert_eq!(status, 403, "analysts only read");
    let (status, _) =
        read(app.call(Method::POST, "/api/v1/audiences/preview", Some(&analyst), Some(json!({"rule": RULE}))).await)
            .await;
    assert_eq!(status, 200, "analysts preview");
    assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/segments/{id}"), None).await.0, 204);
    app
}

async fn bad_rules_answer_422_with_the_position(app: TestApp) -> TestApp {
    let (status, problem) =
        app.admin(Method::POST, "/api/v1/segments", Some(json!({"name": "Bad", "rule": "partner.tier > 3"}))).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "rule");
    assert!(
        problem["errors"][0]["message"].as_str().unwrap().starts_with("at character 14: partner.tier is text"),
        "{problem}"
    );
    let (status, problem) = app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({}))).await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("audience")));
    let (status, problem) =
        app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({"rule": "member.rol = 1"}))).await;
    assert_eq!(status, 422);
    assert!(problem["detail"].as_str().unwrap().contains("unknown field 'member.rol'; known:"), "{problem}");
    let (status, empty) =
        app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({"rule": "partner.country = \"AQ\""}))).await;
    assert_eq!((status, empty["size"].as_i64()), (200, Some(0)));
    assert_eq!(empty["warnings"][0], "the audience is empty: no member matches it");
    let (status, _) = app
        .admin(
            Method::POST,
            "/api/v1/audiences/explain",
            Some(json!({"audience": {"rule": "member.email exists"}, "member": "ghost@nowhere.example"})),
        )
        .await;
    assert_eq!(status, 404);
    app
}

async fn consent_and_preferences_decide_the_channels(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let (_, page) = app.admin(Method::GET, "/api/v1/members?role=support&status=active", None).await;
    let member = page["items"][0].clone();
    let id = member["id"].as_str().unwrap().to_owned();
    let explain = json!({"audience": {"rule": "member.role = \"support\""}, "member": id, "topic": "support"});
    let (status, before) = app.admin(Method::POST, "/api/v1/audiences/explain", Some(explain.clone())).await;
    assert_eq!(status, 200, "{before}");
    let email = |e: &serde_json::Value| {
        e["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "email").cloned().unwrap()
    };
    assert_eq!(email(&before)["allowed"], false);

    let opt_in = json!({"purpose": "email", "granted": true, "text_version": "privacy-2026-03"});
    let (status, record) = app.admin(Method::POST, &format!("/api/v1/members/{id}/consent"), Some(opt_in)).await;
    assert_eq!(status, 201, "{record}");
    assert_eq!((record["source"].as_str(), record["recorded_by"].as_str()), (Some("api"), Some("admin")));
    let (_, history) = app.admin(Method::GET, &format!("/api/v1/members/{id}/consent"), None).await;
    assert_eq!(history.as_array().unwrap().len(), 1);
    let (_, after) = app.admin(Method::POST, "/api/v1/audiences/explain", Some(explain)).await;
    assert_eq!(email(&after)["allowed"], true, "{after}");

    let (status, problem) = app
        .admin(Method::PATCH, &format!("/api/v1/members/{id}/preferences"), Some(json!({"topics": {"support": false}})))
        .await;
    assert_eq!(status, 422, "{problem}");
    let (status, prefs) = app
        .admin(Method::PATCH, &format!("/api/v1/members/{id}/preferences"), Some(json!({"channels": {"email": false}})))
        .await;
    assert_eq!(status, 200, "{prefs}");
    assert_eq!(prefs["preferences"]["channels"]["email"], false);
    let (status, _) =
        app.admin(Method::POST, &format!("/api/v1/members/{id}/consent"), Some(json!({"purpose": "fax"}))).await;
    assert_eq!(status, 422);
    let analyst = app.analyst.clone();
    let (status, _) = read(
        app.call(
            Method::PATCH,
            &format!("/api/v1/members/{id}/preferences"),
            Some(&analyst),
            Some(json!({"channels": {}})),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    app
}
