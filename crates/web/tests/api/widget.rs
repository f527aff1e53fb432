//! The embeddable inbox: tokens the vendor's server signs, CORS for allowed origins only,
//! and a member of one partner never reaching another's messages through it.

use reqwest::Method;
use reqwest::header::{ACCESS_CONTROL_ALLOW_ORIGIN, AUTHORIZATION, ORIGIN};
use serde_json::{Value, json};
use tidings_app::widget::{self, WidgetClaims};

use crate::both_engines;
use crate::helpers::{TestApp, WIDGET_ORIGIN, read};
use crate::portal::{directory, release};

both_engines!(a_vendor_signed_token_reads_and_acknowledges_only_its_member, only_allowed_origins_get_cors);

async fn token(app: &TestApp, claims: WidgetClaims) -> String {
    let secret = widget::secret(&app.app).await.unwrap();
    widget::sign(&secret, &claims)
}

fn in_an_hour(app: &TestApp) -> i64 {
    app.app.clock.now().as_millis() / 1000 + 3600
}

async fn get(app: &TestApp, path: &str, token: &str) -> (u16, Value) {
    read(app.call(Method::GET, path, Some(token), None).await).await
}

async fn a_vendor_signed_token_reads_and_acknowledges_only_its_member(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let ours = release(&app, &topic, &[&ids[0]], "critical", "Acme recall", true).await;
    let theirs = release(&app, &topic, &[&ids[2]], "critical", "Globex recall", true).await;
    let ana = token(
        &app,
        WidgetClaims { email: Some(emails[0].to_uppercase()), exp: in_an_hour(&app), ..Default::default() },
    )
    .await;

    let (status, page) = get(&app, "/widget/v1/inbox", &ana).await;
    assert_eq!(status, 200, "{page}");
    let titles: Vec<&str> = page["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Acme recall"]);
    assert_eq!(get(&app, &format!("/widget/v1/inbox/{theirs}"), &ana).await.0, 404);
    let (status, shown) = get(&app, &format!("/widget/v1/inbox/{ours}"), &ana).await;
    assert_eq!(status, 200);
    let body = json!({"content_hash": shown["rendered"]["content_hash"]});
    let acked = app
        .client
        .post(format!("{}/widget/v1/inbox/{ours}/acknowledge", app.base))
        .bearer_auth(&ana)
        .header("x-forwarded-for", "6.6.6.6")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(acked.status(), 200);
    let (_, record) = read(acked).await;
    assert_eq!(record["acknowledgment"]["ip"], "127.0.0.1", "a client cannot name its own address");
    let forged = app
        .call(
            Method::POST,
            &format!("/widget/v1/inbox/{theirs}/acknowledge"),
            Some(&ana),
            Some(json!({"content_hash": "x"})),
        )
        .await;
    assert_eq!(forged.status(), 404);
    let read = app.call(Method::POST, &format!("/widget/v1/inbox/{theirs}/read"), Some(&ana), None).await;
    assert_eq!(read.status(), 404, "marking another partner's message read");
    let (_, pending) = get(&app, "/widget/v1/inbox/pending-acknowledgments", &ana).await;
    assert!(pending.as_array().unwrap().iter().all(|m| m["title"] != "Globex recall"), "{pending}");
    for query in ["?q=Globex", "?importance=critical", "?needs_acknowledgment=true"] {
        let (_, page) = get(&app, &format!("/widget/v1/inbox{query}"), &ana).await;
        assert!(!page.to_string().contains("Globex"), "{query}");
    }
    let (_, events) = app.admin(Method::GET, &format!("/api/v1/messages/{theirs}/events"), None).await;
    assert!(events["items"].as_array().unwrap().iter().all(|e| e["kind"] != "read" && e["kind"] != "viewed"));
    // The same token works on the API's inbox too.
    assert_eq!(get(&app, "/api/v1/inbox/pending-acknowledgments", &ana).await.0, 200);

    // Every fault is the same 401.
    let expired = token(&app, WidgetClaims { email: Some(emails[0].clone()), exp: 1, ..Default::default() }).await;
    let stranger = token(
        &app,
        WidgetClaims { email: Some("nobody@x.example".into()), exp: in_an_hour(&app), ..Default::default() },
    )
    .await;
    let by_external =
        token(&app, WidgetClaims { external_id: Some("none".into()), exp: in_an_hour(&app), ..Default::default() })
            .await;
    let other_secret = widget::sign(
        "tws_not_ours",
        &WidgetClaims { email: Some(emails[0].clone()), exp: in_an_hour(&app), ..Default::default() },
    );
    let (signed, _) = ana.rsplit_once('.').unwrap();
    let altered = format!("{signed}.AAAA");
    for bad in [expired, stranger, by_external, other_secret, altered, "tw1.".to_owned()] {
        assert_eq!(get(&app, "/widget/v1/inbox", &bad).await.0, 401, "{bad}");
    }
    // Rotating the secret ends every token signed with the old one.
    widget::rotate_secret(&app.app, &tidings_app::Caller::operator()).await.unwrap();
    assert_eq!(get(&app, "/widget/v1/inbox", &ana).await.0, 401);
    app
}

async fn only_allowed_origins_get_cors(app: TestApp) -> TestApp {
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, format!("{}/widget/v1/inbox", app.base))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let allowed = preflight(WIDGET_ORIGIN).await.unwrap();
    assert_eq!(allowed.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).unwrap(), WIDGET_ORIGIN);
    let allowed_headers =
        allowed.headers().get("access-control-allow-headers").unwrap().to_str().unwrap().to_lowercase();
    assert!(allowed_headers.contains("authorization"));
    let evil = preflight("https://evil.example").await.unwrap();
    assert!(evil.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // The member API itself is not opened to other origins.
    let api = app
        .client
        .request(Method::OPTIONS, format!("{}/api/v1/inbox", app.base))
        .header(ORIGIN, WIDGET_ORIGIN)
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(api.headers().get(ACCESS_CONTROL_ALLOW_ORIGIN).is_none());

    let script = app.client.get(format!("{}/widget/tidings-inbox.js", app.base)).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(script.headers()["access-control-allow-origin"], "*", "a module script loads across origins");
    assert!(script.text().await.unwrap().contains("customElements.define(\"tidings-inbox\""));
    let unauthenticated =
        app.client.get(format!("{}/widget/v1/inbox", app.base)).header(AUTHORIZATION, "Bearer x").send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);
    app
}
