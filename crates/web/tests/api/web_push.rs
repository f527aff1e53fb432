//! Web push end to end: a member asks for notifications in the portal (the page's script
//! posts the browser's subscription), a must-know message on the web push channel reaches
//! the browser's push service (a local stand-in) encrypted per RFC 8291, the test decrypts
//! it with the browser's private key and follows its link to the message; a subscription
//! its push service answers 410 for is forgotten.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use web_push_native::p256::SecretKey;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_engines;
use crate::browse::Browser;
use crate::helpers::TestApp;

both_engines!(a_must_know_message_reaches_a_subscribed_browser);

async fn work(app: &TestApp) {
    let mut cache = Cache::default();
    while work_once(&app.app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
}

async fn ana_id(app: &TestApp) -> String {
    let (_, found) = app.admin(Method::GET, "/api/v1/members?q=ana%40acme.example", None).await;
    found["items"][0]["id"].as_str().unwrap().to_owned()
}

async fn a_must_know_message_reaches_a_subscribed_browser(app: TestApp) -> TestApp {
    let push_service = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/push/ana"))
        .respond_with(ResponseTemplate::new(201))
        .up_to_n_times(1)
        .mount(&push_service)
        .await;
    Mock::given(method("POST"))
        .and(path("/push/ana"))
        .respond_with(ResponseTemplate::new(410))
        .mount(&push_service)
        .await;

    let (_, acme) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "dealer"}))).await;
    for email in ["ana@acme.example", "bo@acme.example"] {
        let body = json!({"partner_id": acme["id"], "email": email, "name": "Ana Silva", "roles": ["support"]});
        assert_eq!(app.admin(Method::POST, "/api/v1/members", Some(body)).await.0, 201);
    }

    // Ana asks for notifications: the page carries the key and runs our script only.
    let mut ana = Browser::sign_in(&app, "ana@acme.example").await;
    let prefs = ana.get("/portal/preferences").await;
    assert!(prefs.body.contains("Notify me in this browser") && prefs.body.contains("data-key=\""), "{}", prefs.body);
    assert!(prefs.body.contains("<script src=\"/portal/assets/push.js\" defer></script>"));
    let worker = app.client.get(format!("{}/portal/sw.js", app.base)).send().await.unwrap();
    assert_eq!(worker.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(worker.text().await.unwrap().contains("notificationclick"));

    // A browser's keys, as pushManager.subscribe() makes them.
    let secret = SecretKey::random(&mut web_push_native::p256::elliptic_curve::rand_core::OsRng);
    let auth = [9u8; 16];
    let p256dh = URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes());
    let endpoint = format!("{}/push/ana", push_service.uri());
    let csrf = prefs.csrf();
    let bad = [("csrf", csrf.as_str()), ("endpoint", "https://10.0.0.9/push"), ("p256dh", &p256dh), ("auth", "AAAA")];
    let refused = ana.post("/portal/push/subscriptions", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let auth_text = URL_SAFE_NO_PAD.encode(auth);
    let form = [("csrf", csrf.as_str()), ("endpoint", &endpoint), ("p256dh", &p256dh), ("auth", &auth_text)];
    assert_eq!(ana.post("/portal/push/subscriptions", &form).await.status, 204);
    assert!(ana.get("/portal/preferences").await.body.contains("1 of your browsers get notifications"));

    // Staff see the key browsers subscribe with, and how many do; a member's token does not.
    let (status, overview) = app.admin(Method::GET, "/api/v1/channels", None).await;
    assert_eq!(status, 200, "{overview}");
    let key = prefs.body.split("data-key=\"").nth(1).unwrap().split('"').next().unwrap();
    assert_eq!(overview["web_push_public_key"], key);
    assert_eq!(
        (overview["reachable"]["browsers"].as_i64(), overview["reachable"]["members_with_browsers"].as_i64()),
        (Some(1), Some(1))
    );
    let provider = |c: &str| {
        overview["channels"].as_array().unwrap().iter().find(|x| x["channel"] == c).unwrap()["provider"].clone()
    };
    assert_eq!(
        (provider("inbox"), provider("email"), provider("sms")),
        (json!("the portal"), json!("SMTP"), Value::Null)
    );
    // Must-know messages go by default wherever someone can be reached: here the inbox,
    // the pop-up, email and browsers (no SMS or Slack provider, no partner channel bound).
    let (_, defaults) = app.admin(Method::GET, "/api/v1/settings/channel-defaults", None).await;
    assert_eq!(defaults["critical"], json!(["inbox", "popup", "email", "sms", "slack", "teams", "web_push"]));
    let (_, topic) =
        app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "notices", "name": "Notices"}))).await;
    let plain = json!({"topic_id": topic["id"], "importance": "critical",
        "content": {"variants": {"en": {"title": "Defaults", "what_to_do": "Read it."}}}});
    let (_, created) = app.admin(Method::POST, "/api/v1/messages", Some(plain.clone())).await;
    assert_eq!(created["channels"], json!(["inbox", "popup", "email", "web_push"]), "{created}");
    let narrower = json!({"info": ["inbox"], "action": ["inbox", "email"], "critical": ["inbox", "email"]});
    let (status, _) = app.admin(Method::PUT, "/api/v1/settings/channel-defaults", Some(narrower)).await;
    assert_eq!(status, 200);
    let (_, created) = app.admin(Method::POST, "/api/v1/messages", Some(plain)).await;
    assert_eq!(created["channels"], json!(["inbox", "email"]), "{created}");
    let bad = json!({"info": ["inbox"], "action": ["webhook"], "critical": ["inbox"]});
    assert_eq!(app.admin(Method::PUT, "/api/v1/settings/channel-defaults", Some(bad)).await.0, 422);
    let by_analyst = app
        .call(
            Method::PUT,
            "/api/v1/settings/channel-defaults",
            Some(&app.analyst.clone()),
            Some(json!({"info": [], "action": [], "critical": []})),
        )
        .await;
    assert_eq!(by_analyst.status(), 403, "admins set them");

    let analyst = app.call(Method::GET, "/api/v1/channels", Some(&app.analyst.clone()), None).await;
    assert_eq!(analyst.status(), 200, "every staff role reads it");
    let (_, token) =
        app.admin(Method::POST, &format!("/api/v1/members/{}/token", ana_id(&app).await), Some(json!({}))).await;
    let member = app.call(Method::GET, "/api/v1/channels", token["token"].as_str(), None).await;
    assert!(matches!(member.status().as_u16(), 401 | 403), "{}", member.status());

    let (_, topic) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    let message = |title: &str| {
        json!({"topic_id": topic["id"], "importance": "critical", "channels": ["inbox", "web_push"],
            "content": {"variants": {"en": {"title": title, "summary": "Lot 9 overheats.", "what_to_do": "Pull it."}}},
            "audience": {"rule": "member.role = \"support\""},
            "acknowledgment": {"statement": "Pulled.", "due_at": "2099-01-15T09:00"}})
    };
    let (status, created) = app.admin(Method::POST, "/api/v1/messages", Some(message("Recall of lot 9"))).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, reach) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/reach"), None).await;
    let push_reach = reach["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "web_push").unwrap().clone();
    assert_eq!((push_reach["reached"].as_i64(), push_reach["out_of"].as_i64()), (Some(1), Some(2)), "{reach}");
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await.0, 200);
    work(&app).await;

    // The browser's side: decrypt with its private key, read the notification, follow it.
    let received = push_service.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].headers["urgency"], "high");
    let plain =
        web_push_native::decrypt(received[0].body.clone(), &secret, &web_push_native::Auth::from(auth)).unwrap();
    let shown: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(shown["title"], "Must know: Recall of lot 9");
    assert_eq!(shown["body"], "Lot 9 overheats. Please read and acknowledge.");
    assert_eq!(shown["requireInteraction"], true);
    let url = shown["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/s/", app.base)), "{url}");
    let page = app.client.get(url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Recall of lot 9") && page.contains("Pulled."), "{page}");
    let (_, report) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
    assert_eq!(report["channels"]["web_push"], json!({"sent": 1}), "only Ana has a browser subscribed: {report}");

    // The push service now says the subscription is gone: it is forgotten.
    let (_, second) = app.admin(Method::POST, "/api/v1/messages", Some(message("Recall of lot 10"))).await;
    let second = second["id"].as_str().unwrap().to_owned();
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/messages/{second}/release"), None).await.0, 200);
    work(&app).await;
    let (_, report) = app.admin(Method::GET, &format!("/api/v1/messages/{second}/report"), None).await;
    assert_eq!(report["channels"]["web_push"], json!({"suppressed": 1}), "{report}");
    assert!(!ana.get("/portal/preferences").await.body.contains("of your browsers get notifications"));
    app
}
