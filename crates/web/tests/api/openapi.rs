//! The OpenAPI description matches the routes: every operation it lists is served, and
//! every resource the API has is in it.

use reqwest::Method;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(every_described_operation_is_routed, the_description_says_what_the_api_does);

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
        "/messages/{id}/reach",
        "/partners/{id}/channels",
        "/partners/{id}/channels/{channel}",
        "/partners/{id}/channels/{channel}/test",
        "/channels",
        "/settings/channel-defaults",
        "/obligations/overdue",
        "/messages/{id}/compliance/partners/{partner_id}/waiver",
        "/webhooks",
        "/webhooks/{id}",
        "/webhooks/{id}/deliveries",
        "/webhooks/{id}/test",
        "/webhooks/{id}/secret",
        "/ladders",
        "/ladders/{key}",
        "/topics/{id}/ladder",
        "/messages/{id}/chase",
        "/messages/{id}/compliance/partners/{partner_id}/escalate",
        "/messages/{id}/chase/next",
        "/partners/{id}/roles",
        "/partners/{id}/roles/{role}",
        "/evidence",
        "/messages/{id}/corrections",
        "/messages/{id}/versions",
        "/evidence/rotate-key",
        "/events",
        "/events/batch",
        "/events/{id}",
        "/event-types",
        "/event-types/{name}",
        "/triggers",
        "/triggers/{key}",
        "/sequences",
        "/sequences/{key}",
        "/tasks",
        "/tasks/{id}/done",
        "/settings/silent-partners",
        "/silent-partners/find",
        "/settings/noise",
        "/partners/{id}/defaults",
    ];
    for path in expected {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI description");
    }
    assert_eq!(operations, 124);
    assert!(spec["components"]["securitySchemes"]["bearer"].is_object());
    app
}

/// The drifts an outside fuzzer found, each held: errors documented as the problems they
/// are, one schema per name, query filters in the query with their ranges and values,
/// what a creation requires, and bodies that are not objects refused.
async fn the_description_says_what_the_api_does(app: TestApp) -> TestApp {
    let (_, spec) = read(app.call(Method::GET, "/api/v1/openapi.json", None, None).await).await;
    let text = spec.to_string();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for name in text.split("#/components/schemas/").skip(1).map(|s| s.split('"').next().unwrap()) {
        assert!(schemas.contains_key(name), "{name} is referenced but not described");
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["400", "401", "404", "422"] {
                let Some(response) = responses.get(status) else { continue };
                let content = response["content"].as_object().unwrap();
                assert!(content.contains_key("application/problem+json"), "{method} {path} {status}: {content:?}");
            }
            assert!(responses.contains_key("401"), "{method} {path} documents no 401");
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path} documents no 404");
            }
        }
    }
    // The ask and the evidence are two schemas, not one name for both.
    assert_eq!(spec["components"]["schemas"]["AcknowledgmentAsked"]["properties"]["statement"]["type"], "string");
    assert!(spec["components"]["schemas"]["AcknowledgmentRecord"]["properties"]["content_hash"].is_object());
    assert!(spec["components"]["schemas"]["MessageReport"]["properties"]["funnel"].is_object());
    assert!(spec["components"]["schemas"]["ComplianceReport"]["properties"]["partners"].is_object());
    let parameter = |path: &str, name: &str| {
        spec["paths"][path]["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap().clone()
    };
    assert_eq!(parameter("/inbox", "importance")["in"], "query");
    assert_eq!(parameter("/messages/{id}/events", "kind")["in"], "query");
    assert_eq!(parameter("/partners", "limit")["schema"]["maximum"], 500);
    assert!(parameter("/partners", "tier")["schema"]["enum"].as_array().unwrap().contains(&"growth".into()));
    assert!(parameter("/members", "role")["schema"].to_string().contains("Role"));
    assert_eq!(spec["components"]["schemas"]["NewMember"]["required"], serde_json::json!(["partner_id", "email"]));
    assert_eq!(spec["components"]["schemas"]["AuditEntry"]["properties"]["before"].get("type"), None, "any JSON value");

    let (status, body) = app.admin(Method::PUT, "/api/v1/settings/approval-policy", Some(serde_json::json!([]))).await;
    assert_eq!(status, 422, "an array is not a policy: {body}");
    let (status, _) = app.admin(Method::GET, "/api/v1/partners?limit=501", None).await;
    assert_eq!(status, 400, "a limit above the documented range is refused");
    let (status, _) = app.admin(Method::GET, "/api/v1/partners?limit=500", None).await;
    assert_eq!(status, 200);
    app
}

/// Two types described under one name make one silently replace the other in the
/// description (a report's rows once claimed another report's shape): every type that
/// derives a schema has a name of its own, its Rust name or the one `schema(as = ...)`
/// gives it.
#[test]
fn every_schema_has_a_name_of_its_own() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut names: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
    let mut files = vec![root.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("tests") {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            }
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut described = false;
        let mut renamed: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.contains("derive(utoipa::ToSchema)") {
                described = true;
            } else if described && line.contains("schema(as = ") {
                renamed = line.split("schema(as = ").nth(1).and_then(|r| r.split(')').next()).map(str::to_owned);
            } else if described && (line.starts_with("pub struct ") || line.starts_with("pub enum ")) {
                let rust = line.split_whitespace().nth(2).unwrap().trim_end_matches(['{', ';', '(']).to_owned();
                let rust = rust.split('<').next().unwrap().to_owned();
                let name = renamed.take().unwrap_or(rust);
                names.entry(name).or_default().push(path.display().to_string());
                described = false;
            }
        }
    }
    let twice: Vec<_> = names.iter().filter(|(_, places)| places.len() > 1).collect();
    assert!(names.len() > 50, "the scan found the described types: {}", names.len());
    assert!(twice.is_empty(), "described under one name twice: {twice:?}");
}

/// axum's own `Query` and `Path` answer a bad value in plain text, not the problem
/// document the description promises (an overdue queue's `all=null` once did): the API's
/// handlers take them from `crate::extract`.
#[test]
fn api_handlers_use_the_extractors_that_answer_with_problems() {
    let api = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    for entry in std::fs::read_dir(&api).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("use axum::extract")) {
            assert!(
                !line.contains("Query") && !line.contains("Path"),
                "{}: {line}: take Query and Path from crate::extract",
                path.display()
            );
        }
    }
}
