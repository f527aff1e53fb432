//! The OpenAPI description matches the routes: every operation it lists is served, and
//! every resource the API has is in it.

use reqwest::Method;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(every_described_operation_is_routed);

async fn every_described_operation_is_routed(app: TestApp) -> TestApp {
    let (status, spec) = read(app.call(Method::GET, "/api/v1/openapi.json", None, None).await).await;
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, _) in item.as_object().unwrap() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else {
                continue;
            };
            let concrete = path.replace("{id}", "01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b");
            let admin = app.admin.clone();
            let (status, body) =
                read(app.call(method.clone(), &format!("/api/v1{concrete}"), Some(&admin), None).await).await;
            assert_ne!(status, 405, "{method} {path} is described but not routed");
            assert!(
                !(status == 404 && body["detail"].as_str().is_some_and(|d| d.starts_with("no such route"))),
                "{method} {path} is described but not routed"
            );
            operations += 1;
        }
    }
    let expected = [
        "/partners",
        "/partners/{id}",
        "/members",
        "/members/{id}",
        "/topics",
        "/topics/{id}",
        "/partner-groups",
        "/partner-groups/{id}",
        "/imports/partners",
        "/imports/members",
        "/segments",
        "/segments/{id}",
        "/segments/{id}/preview",
        "/audiences/preview",
        "/audiences/explain",
        "/members/{id}/consent",
        "/members/{id}/preferences",
        "/messages",
        "/messages/{id}",
        "/messages/{id}/schedule",
        "/messages/{id}/preview",
        "/messages/{id}/release",
        "/messages/{id}/test-send",
        "/messages/{id}/test-email",
        "/messages/{id}/events",
        "/messages/{id}/report",
        "/members/{id}/token",
        "/bounces",
        "/inbox",
        "/inbox/pending-acknowledgments",
        "/inbox/{id}",
        "/inbox/{id}/read",
        "/inbox/{id}/acknowledge",
        "/audit",
        "/messages/{id}/approval",
        "/settings/approval-policy",
        "/compliance",
        "/messages/{id}/compliance",
        "/messages/{id}/compliance/partners/{partner_id}",
        "/messages/{id}/compliance.csv",
    ];
    for path in expected {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI description");
    }
    assert_eq!(operations, 64);
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    app
}
