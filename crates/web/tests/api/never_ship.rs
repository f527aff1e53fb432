//! ../shared/SECURITY.md lists bugs found in peer products, "never ship these". Each entry
//! has a test here named after it, so the list is enforced, not only read. Where an entry
//! is covered in depth elsewhere, the test here is its short, named guard.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::browse::Browser;
use crate::helpers::{TestApp, read};
use crate::portal::{directory, release};

both_engines!(
    never_ship_templates_that_read_the_host,
    never_ship_csrf_tokens_that_are_never_checked_or_cookies_without_samesite,
    never_ship_stored_xss_in_previews,
    never_ship_sessions_that_survive_a_password_change,
    never_ship_missing_permission_checks_on_bulk_and_export_paths,
    never_ship_cross_tenant_access_through_an_id_from_the_request,
    never_ship_forged_bounce_notifications,
    never_ship_open_redirects_through_click_tracking,
    never_ship_ssrf_through_webhook_urls,
);

/// listmonk CVE-2025-49136: a template function read the host's environment.
async fn never_ship_templates_that_read_the_host(app: TestApp) -> TestApp {
    let (_, ids, topic) = directory(&app).await;
    for probe in ["{{ get_env(\"HOME\") }}", "{{ env.HOME }}", "{% include \"/etc/passwd\" %}", "{{ config }}"] {
        let body = json!({"topic_id": topic, "importance": "info", "audience": {"members": [ids[0]]},
            "content": {"variants": {"en": {"title": format!("Hi {probe}")}}}});
        let (status, created) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
        if status == 201 {
            let id = created["id"].as_str().unwrap();
            let (status, preview) = app
                .admin(Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(json!({"member": ids[0]})))
                .await;
            assert_eq!(status, 422, "{probe} must not render: {preview}");
        } else {
            assert_eq!(status, 422, "{probe}: {created}");
        }
        let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
        assert!(!created.to_string().contains(&home), "{probe}");
    }
    app
}

/// listmonk CVE-2025-58430: an anti-CSRF nonce that was never checked, cookies without
/// SameSite.
async fn never_ship_csrf_tokens_that_are_never_checked_or_cookies_without_samesite(app: TestApp) -> TestApp {
    let (emails, _, _) = directory(&app).await;
    let mut browser = Browser::sign_in(&app, &emails[1]).await;
    let prefs = browser.get("/portal/preferences").await;
    for token in ["", "forged-token"] {
        let refused = browser.post("/portal/preferences", &[("csrf", token), ("locale", "fr")]).await;
        assert_eq!(refused.status, 403, "a state change without the session's token ({token:?})");
    }
    assert!(!browser.get("/portal/preferences").await.body.contains("lang=\"fr\""), "nothing changed");
    let form = Browser::new(&app).get("/portal/sign-in").await;
    let cookie = form.set_cookie.unwrap_or_default();
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("HttpOnly"), "{cookie}");
    drop(prefs);
    app
}

/// listmonk CVE-2026-21483, Novu: stored XSS in previews (and a deny-list sanitizer).
async fn never_ship_stored_xss_in_previews(app: TestApp) -> TestApp {
    let (_, ids, topic) = directory(&app).await;
    let body = json!({"topic_id": topic, "importance": "info", "audience": {"members": [ids[0]]},
        "content": {"variants": {"en": {"title": "T", "what_changed": "<img src=x onerror=alert(1)><script>alert(2)</script><a href=\"javascript:alert(3)\">x</a>"}}}});
    let (_, created) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    let id = created["id"].as_str().unwrap();
    let (status, preview) =
        app.admin(Method::POST, &format!("/api/v1/messages/{id}/preview"), Some(json!({"member": ids[0]}))).await;
    assert_eq!(status, 200, "{preview}");
    let html = preview["rendered"]["what_changed"].as_str().unwrap().to_lowercase();
    assert!(!html.contains("<script") && !html.contains("onerror") && !html.contains("javascript:"), "{html}");
    app
}

/// listmonk CVE-2026-34828: sessions that survive a password change.
async fn never_ship_sessions_that_survive_a_password_change(app: TestApp) -> TestApp {
    let (emails, _, _) = directory(&app).await;
    let mut laptop = Browser::sign_in(&app, &emails[2]).await;
    let mut phone = Browser::sign_in(&app, &emails[2]).await;
    let prefs = laptop.get("/portal/preferences").await;
    let set = [
        ("csrf", prefs.csrf()),
        ("password", "a long new passphrase".into()),
        ("confirm", "a long new passphrase".into()),
        ("action", "set".into()),
    ];
    let set: Vec<(&str, &str)> = set.iter().map(|(k, v): &(&str, String)| (*k, v.as_str())).collect();
    assert_eq!(laptop.post("/portal/preferences/password", &set).await.status, 303);
    assert_eq!(phone.get("/portal").await.status, 303, "the other session ended");
    app
}

/// listmonk CVE-2026-34584 (and CVE-2026-62361): permission checks missing on bulk and
/// export paths.
async fn never_ship_missing_permission_checks_on_bulk_and_export_paths(app: TestApp) -> TestApp {
    let analyst = app.analyst.clone();
    let csv = "email,partner_external_id\nx@y.example,P-1\n";
    let import = app
        .client
        .post(format!("{}/api/v1/imports/members", app.base))
        .bearer_auth(&analyst)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(import.status(), 403, "an analyst may not import");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for path in ["/admin/members/export.csv", "/admin/partners/export.csv"] {
        let anonymous = client.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(anonymous.status(), 303, "{path}: sent to sign in, not given the file");
        assert_eq!(anonymous.headers()["location"], "/admin/sign-in", "{path}");
    }
    let (status, _) = read(app.call(Method::GET, "/api/v1/compliance", None, None).await).await;
    assert_eq!(status, 401, "no export of evidence without a token");
    app
}

/// Novu: cross-tenant access through an id taken from the request body.
async fn never_ship_cross_tenant_access_through_an_id_from_the_request(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    // A message for Globex's Cleo only; Acme's Ben names its id.
    let theirs = release(&app, &topic, &[&ids[2]], "critical", "Globex only", true).await;
    let mut ben = Browser::sign_in(&app, &emails[1]).await;
    assert_eq!(ben.get(&format!("/portal/messages/{theirs}")).await.status, 404);
    let inbox = ben.get("/portal").await;
    let acked = ben
        .post(&format!("/portal/messages/{theirs}/acknowledge"), &[("csrf", &inbox.csrf()), ("content_hash", "x")])
        .await;
    assert_eq!(acked.status, 404, "another partner's message cannot be acknowledged by naming it");
    app
}

/// Novu: forged bounce notifications accepted from anyone.
async fn never_ship_forged_bounce_notifications(app: TestApp) -> TestApp {
    let dsn = "From: x@y\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=B\r\n\r\n--B--\r\n";
    let anonymous = app.client.post(format!("{}/api/v1/bounces", app.base)).body(dsn).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "a bounce needs a staff token");
    let analyst = app
        .client
        .post(format!("{}/api/v1/bounces", app.base))
        .bearer_auth(&app.analyst)
        .header("content-type", "message/rfc822")
        .body(dsn)
        .send()
        .await
        .unwrap();
    assert_eq!(analyst.status(), 403, "and one that may write");
    app
}

/// Mautic, Novu: open redirects through click tracking.
async fn never_ship_open_redirects_through_click_tracking(app: TestApp) -> TestApp {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for forged in ["/t/c/https%3A%2F%2Fevil.example", "/t/c/eyJ1cmwiOiJodHRwczovL2V2aWwuZXhhbXBsZSJ9", "/t/c/x.y.z"] {
        let answer = client.get(format!("{}{forged}", app.base)).send().await.unwrap();
        assert_eq!(answer.status(), 400, "{forged}");
        assert!(answer.headers().get("location").is_none(), "{forged} redirects nowhere");
    }
    app
}

/// lettre advisories: SMTP command injection and sendmail argument injection before
/// 0.11.22, hostname checks off with boring-tls. The lock file holds a fixed lettre with
/// rustls, and no sendmail transport is built.
#[test]
fn never_ship_a_lettre_with_known_advisories() {
    let lock = include_str!("../../../../Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"lettre\""))
        .and_then(|p| p.split("version = \"").nth(1))
        .and_then(|v| v.split('"').next())
        .unwrap_or_default();
    let parts: Vec<u32> = version.split('.').filter_map(|n| n.parse().ok()).collect();
    assert!(parts >= vec![0, 11, 22], "lettre {version}");
    let manifest = include_str!("../../../channels/Cargo.toml");
    let lettre = manifest.lines().find(|l| l.starts_with("lettre")).unwrap_or_default();
    assert!(lettre.contains("tokio1-rustls") && !lettre.contains("boring") && !lettre.contains("sendmail"), "{lettre}");
}

/// Novu: SSRF through webhook URLs, with a block list that missed 100.64.0.0/10. A
/// partner's Teams or Slack webhook URL that points inside (CGNAT, metadata, private,
/// link-local, IPv4 inside IPv6) is refused when it is saved, and checked again after DNS
/// at connect time (`channels::outbound`); channels Tidings cannot send yet are refused.
async fn never_ship_ssrf_through_webhook_urls(app: TestApp) -> TestApp {
    let (_, ids, topic) = directory(&app).await;
    let (_, member) = app.admin(Method::GET, &format!("/api/v1/members/{}", ids[0].as_str().unwrap()), None).await;
    let partner = member["partner_id"].as_str().unwrap();
    for url in [
        "https://100.64.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://192.168.1.1/hook",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "https://metadata.google.internal/hook",
        "ftp://example.com/hook",
    ] {
        for service in ["teams", "slack"] {
            let body = json!({"url": url});
            let (status, problem) =
                app.admin(Method::PUT, &format!("/api/v1/partners/{partner}/channels/{service}"), Some(body)).await;
            assert_eq!(status, 422, "{service} {url}: {problem}");
        }
    }
    for channel in ["webhook", "teams"] {
        let body = json!({"topic_id": topic, "importance": "info", "audience": {"members": [ids[0]]}, "channels": [channel],
            "content": {"variants": {"en": {"title": "T"}}}});
        let (status, problem) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
        assert_eq!(status, 422, "{channel}: {problem}");
    }
    app
}
