//! No input produces a 500: a corpus of malformed requests, each answered with a
//! problem document and a 4xx status.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(malformed_requests_get_a_4xx_problem_never_a_500);

async fn malformed_requests_get_a_4xx_problem_never_a_500(app: TestApp) -> TestApp {
    let id = "01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b";
    let long = "x".repeat(100_000);
    let json_cases = [
        (Method::POST, "/api/v1/partners".to_owned(), json!(null)),
        (Method::POST, "/api/v1/partners".to_owned(), json!([])),
        (Method::POST, "/api/v1/partners".to_owned(), json!({"name": long, "partner_type": "dealer"})),
        (
            Method::POST,
            "/api/v1/partners".to_owned(),
            json!({"name": "A", "partner_type": "dealer", "attributes": {"a": [1]}}),
        ),
        (
            Method::POST,
            "/api/v1/partners".to_owned(),
            json!({"name": "A", "partner_type": "dealer", "attributes": {"Bad Key": 1}}),
        ),
        (Method::POST, "/api/v1/partners".to_owned(), json!({"name": "A\u{0000}B", "partner_type": "dealer"})),
        (Method::POST, "/api/v1/members".to_owned(), json!({"partner_id": "not-a-uuid", "email": "a@b.example"})),
        (
            Method::POST,
            "/api/v1/members".to_owned(),
            json!({"partner_id": id, "email": "a@b.example", "last_seen_at": "soon"}),
        ),
        (Method::PATCH, format!("/api/v1/members/{id}"), json!({"status": "gone"})),
        (Method::POST, "/api/v1/topics".to_owned(), json!({"key": "a".repeat(65), "name": "A"})),
        (Method::PATCH, "/api/v1/topics/42".to_owned(), json!({})),
    ];
    for (method, path, body) in json_cases {
        let (status, problem) = app.admin(method.clone(), &path, Some(body)).await;
        assert!((400..500).contains(&status), "{method} {path}: {status} {problem}");
        assert!(problem["code"].is_string(), "{method} {path}: {problem}");
    }
    let query_cases = [
        "/api/v1/partners?limit=abc",
        "/api/v1/partners?limit=-1",
        "/api/v1/partners?country=XX",
        "/api/v1/partners?lifecycle_stage=zombie",
        "/api/v1/members?partner_id=xyz",
        "/api/v1/members?status=gone",
        "/api/v1/nothing-here",
        "/api/v1/partners/%00",
    ];
    let admin = app.admin.clone();
    for path in query_cases {
        let response = app.call(Method::GET, path, Some(&admin), None).await;
        let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
        let (status, problem) = read(response).await;
        assert!((400..500).contains(&status), "{path}: {status} {problem}");
        assert_eq!(content_type, "application/problem+json", "{path}");
    }
    let raw = app
        .client
        .post(format!("{}/api/v1/partners", app.base))
        .bearer_auth(&admin)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 415);
    let huge = serde_json::json!({"name": "x".repeat(3_000_000), "partner_type": "dealer"});
    let (status, problem) = read(app.call(Method::POST, "/api/v1/partners", Some(&admin), Some(huge)).await).await;
    assert_eq!((status, problem["code"].as_str()), (413, Some("payload_too_large")));
    let (status, problem) = read(app.call(Method::PUT, "/api/v1/partners", Some(&admin), None).await).await;
    assert_eq!((status, problem["code"].as_str()), (405, Some("method_not_allowed")));
    let binary = app
        .client
        .post(format!("{}/api/v1/imports/partners", app.base))
        .bearer_auth(&admin)
        .body(vec![0xff, 0xfe, 0x00, 0x41, 0x0a, 0xc3, 0x28, 0x0a])
        .send()
        .await
        .unwrap();
    assert!(binary.status().is_client_error(), "{}", binary.status());
    app
}
