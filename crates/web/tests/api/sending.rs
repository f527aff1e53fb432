//! The "done when", over HTTP: compose a critical message with an acknowledgment,
//! preview it, release it; the emails arrive at a real SMTP server; a member lists it in
//! the inbox API and acknowledges it; the events show who received, opened, read and
//! acknowledged it. Also the email's links: tracking, unsubscribe and the acknowledgment
//! page, and a member never reaching another member's message.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_app::{App, demo};
use tidings_channels::catcher::MailCatcher;
use tidings_channels::{Channels, SmtpConfig};

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(a_recall_is_composed_released_mailed_read_and_acknowledged);

async fn member(app: &TestApp, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    read(app.call(method, path, Some(token), body).await).await
}

async fn a_recall_is_composed_released_mailed_read_and_acknowledged(app: TestApp) -> TestApp {
    demo::seed(&App::new(app.db().clone(), Default::default())).await.unwrap();
    let smtp = MailCatcher::start();
    let mut worker = app.app.clone();
    worker.channels = Channels::default().with_smtp(SmtpConfig { port: smtp.port, ..SmtpConfig::default() });
    worker.public_url = Arc::from(app.base.as_str());

    // Two support people of one partner, both opted in to email.
    let (_, members) = app.admin(Method::GET, "/api/v1/members?role=support&status=active&limit=2", None).await;
    let people: Vec<Value> = members["items"].as_array().unwrap().clone();
    for m in &people {
        let path = format!("/api/v1/members/{}/consent", m["id"].as_str().unwrap());
        let (status, _) = app
            .admin(Method::POST, &path, Some(json!({"purpose": "email", "granted": true, "text_version": "v1"})))
            .await;
        assert_eq!(status, 201);
    }
    let ids: Vec<&str> = people.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let support = topics["items"].as_array().unwrap().iter().find(|t| t["key"] == "support").unwrap()["id"].clone();
    let body = json!({
        "topic_id": support,
        "importance": "critical",
        "content": {"variants": {"en": {
            "title": "Recall: battery lots A1 and B2",
            "summary": "Pull the affected packs from stock",
            "what_changed": "A fault was found in **two lots**.",
            "why_it_matters": "Customers could be hurt.",
            "what_to_do": "Hi {{ member.first_name }}, pull them today.",
            "call_to_action": {"label": "Start the return", "url": "https://vendor.example/returns"}
        }}},
        "audience": {"members": ids},
        "acknowledgment": {"statement": "We have pulled the affected stock", "due_at": "2099-01-15"}
    });
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let email = people[0]["email"].as_str().unwrap();
    let (status, preview) =
        app.admin(Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(json!({"member": email}))).await;
    assert_eq!(status, 200, "{preview}");

    let (status, released) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200, "{released}");
    assert_eq!((released["recipients"].as_u64(), released["deliveries"].as_u64()), (Some(2), Some(2)));
    let (status, again) =
        app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(json!({"importance": "info"}))).await;
    assert_eq!(status, 409, "a released message is frozen: {again}");
    let (status, _) =
        read(app.call(Method::POST, &format!("/api/v1/messages/{id}/release"), Some(&app.analyst.clone()), None).await)
            .await;
    assert_eq!(status, 403, "an analyst may not release");

    let mut cache = Cache::default();
    while work_once(&worker, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    let mails = smtp.wait_for(2, Duration::from_secs(5));
    assert_eq!(mails.len(), 2);
    let mail = mails.iter().find(|m| m.to == [email.to_owned()]).unwrap();
    let html = mail.html();

    // The email's links work against the server: the pixel, a click, a forged click.
    let link = |prefix: &str| {
        let start = html.find(&format!("{}{prefix}", app.base)).unwrap();
        html[start..].split('"').next().unwrap().to_owned()
    };
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let pixel = client.get(link("/t/o/")).send().await.unwrap();
    assert_eq!(pixel.headers()["content-type"], "image/gif");
    let click = client.get(link("/t/c/")).send().await.unwrap();
    assert_eq!(click.status(), 303);
    assert_eq!(click.headers()["location"], "https://vendor.example/returns");
    let forged = client.get(format!("{}A", link("/t/c/"))).send().await.unwrap();
    assert_eq!(forged.status(), 400, "an altered link never redirects");
    assert!(forged.headers().get("location").is_none());

    // The acknowledgment link leads to a page with a button; the GET changes nothing.
    let ack_page = client.get(link("/a/")).send().await.unwrap().text().await.unwrap();
    assert!(ack_page.contains("We have pulled the affected stock") && ack_page.contains("<form method=\"post\""));

    // The member's inbox, with a member token.
    let (status, token) = app.admin(Method::POST, &format!("/api/v1/members/{}/token", ids[0]), Some(json!({}))).await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().unwrap().to_owned();
    let (status, inbox) = member(&app, &token, Method::GET, "/api/v1/inbox?needs_acknowledgment=true", None).await;
    assert_eq!(status, 200, "{inbox}");
    assert_eq!(inbox["items"].as_array().unwrap().len(), 1);
    let (_, pending) = member(&app, &token, Method::GET, "/api/v1/inbox/pending-acknowledgments", None).await;
    assert_eq!(pending[0]["message_id"], id.as_str());
    let (status, view) = member(&app, &token, Method::GET, &format!("/api/v1/inbox/{id}"), None).await;
    assert_eq!(status, 200, "{view}");
    assert!(view["rendered"]["what_to_do"].as_str().unwrap().contains("pull them today"));
    let (status, _) = member(&app, &token, Method::POST, &format!("/api/v1/inbox/{id}/read"), None).await;
    assert_eq!(status, 200);
    let hash = view["rendered"]["content_hash"].as_str().unwrap();
    let (status, ack) = member(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/inbox/{id}/acknowledge"),
        Some(json!({"content_hash": hash})),
    )
    .await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["created"], true);
    assert_eq!(ack["acknowledgment"]["content_hash"], hash);
    assert_eq!(ack["acknowledgment"]["ip"], "127.0.0.1");

    // Staff tokens are not member tokens, and the reverse.
    let (status, _) = member(&app, &app.admin.clone(), Method::GET, "/api/v1/inbox", None).await;
    assert_eq!(status, 401);
    let (status, _) = member(&app, &token, Method::GET, "/api/v1/members", None).await;
    assert_eq!(status, 401);
    // A member who did not get the message cannot see it.
    let (_, others) = app.admin(Method::GET, "/api/v1/members?role=sales&status=active&limit=1", None).await;
    let (_, other) = app
        .admin(
            Method::POST,
            &format!("/api/v1/members/{}/token", others["items"][0]["id"].as_str().unwrap()),
            Some(json!({})),
        )
        .await;
    let other = other["token"].as_str().unwrap().to_owned();
    let (status, _) = member(&app, &other, Method::GET, &format!("/api/v1/inbox/{id}"), None).await;
    assert_eq!(status, 404);

    // The second member acknowledges through the email's page, with one deliberate POST.
    let second = mails.iter().find(|m| m.to != [email.to_owned()]).unwrap().html();
    let start = second.find(&format!("{}/a/", app.base)).unwrap();
    let ack_url = second[start..].split('"').next().unwrap().to_owned();
    let page = client.get(&ack_url).send().await.unwrap().text().await.unwrap();
    let hash = page.split("name=\"content_hash\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let done = client
        .post(&ack_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("content_hash={hash}"))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let csp = done.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let done = done.text().await.unwrap();
    assert!(done.contains("Recall: battery lots A1 and B2") && done.contains("class=\"flash\""), "{done}");
    assert!(!done.contains("name=\"content_hash\""), "no second acknowledgment form");

    // The events and the report say who received, opened, read and acknowledged.
    let (_, report) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
    assert_eq!(report["funnel"]["acknowledged"], 2, "{report}");
    assert_eq!(report["funnel"]["read"], 2, "{report}");
    assert_eq!(report["channels"]["email"]["sent"], 2, "{report}");
    // The pixel and the link were fetched at once by a client without a user agent: a
    // machine's open and a scanner's click, not a person's.
    assert_eq!((report["machine_opens"].as_i64(), report["scanner_clicks"].as_i64()), (Some(1), Some(1)), "{report}");
    assert_eq!((report["funnel"]["opened"].as_i64(), report["funnel"]["clicked"].as_i64()), (Some(0), Some(0)));
    let (_, events) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/events?kind=acknowledged"), None).await;
    assert_eq!(events["items"].as_array().unwrap().len(), 2);

    // One-click unsubscribe (RFC 8058): a POST without cookies, answered without a redirect.
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    let url = unsubscribe.trim_start_matches('<').trim_end_matches('>');
    let response = client.post(url).body("List-Unsubscribe=One-Click").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let (_, prefs) = app.admin(Method::GET, &format!("/api/v1/members/{}/preferences", ids[0]), None).await;
    assert_eq!(prefs["preferences"]["email_opted_in"], false, "{prefs}");
    app
}
