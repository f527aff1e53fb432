//! With `--features otlp`, the spans of requests reach an OpenTelemetry collector over
//! OTLP/HTTP, naming their route and request id (`.ci/run` runs this with the feature).

#![cfg(feature = "otlp")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn request_spans_are_exported_to_an_otlp_collector() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let endpoint = ("TIDINGS_LOG__OTLP_ENDPOINT", format!("{}/v1/traces", collector.uri()));
    let (mut child, token) = common::demo_server(dir.path(), port, &[endpoint]);
    tidings_channels::outbound::install_crypto_provider();
    let answered = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/v1/partners"))
        .bearer_auth(&token)
        .header("x-request-id", "otlp-test-7")
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    // A clean stop sends what the exporter still holds.
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(child.wait().unwrap().success());

    let deadline = Instant::now() + Duration::from_secs(10);
    let exported = loop {
        let requests = collector.received_requests().await.unwrap_or_default();
        let bodies: Vec<Vec<u8>> = requests.iter().map(|r| r.body.clone()).collect();
        if bodies.iter().any(|b| contains(b, b"otlp-test-7")) || Instant::now() > deadline {
            break (requests, bodies);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (requests, bodies) = exported;
    assert!(!requests.is_empty(), "the collector heard from Tidings");
    assert_eq!(requests[0].headers["content-type"], "application/x-protobuf");
    let span = bodies.iter().find(|b| contains(b, b"otlp-test-7")).expect("the request's span, with its request id");
    for expected in [&b"request"[..], b"/api/v1/partners", b"tidings"] {
        assert!(contains(span, expected), "the export names {}", String::from_utf8_lossy(expected));
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
