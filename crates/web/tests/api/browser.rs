//! The portal's "done when" in a real browser: Debian's headless Chromium driven through
//! chromedriver (both installed by `.ci/run`). A German-speaking partner user signs in
//! with the link taken from the real SMTP server, sees the must-know pop-up, acknowledges,
//! finds an older message by search, turns a topic off and opts in to email, and
//! unsubscribes from the link in an email: on a phone-sized screen, then on a desktop.
//! Each step leaves a screenshot under `$CARGO_TARGET_TMPDIR/screenshots`.
//!
//! Without chromedriver the test is skipped, unless `TIDINGS_REQUIRE_BROWSER` is set (CI).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, Response};
use reqwest::Method;
use serde_json::{Value, json};
use thirtyfour::ChromiumLikeCapabilities;
use thirtyfour::common::config::WebDriverConfig;
use thirtyfour::prelude::*;
use thirtyfour::session::http::{Body, HttpClient};
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};

use crate::helpers::{Engine, TestApp, run};

#[tokio::test]
async fn a_partner_user_reads_acknowledges_and_sets_preferences_in_a_browser() {
    let Some(driver) = ChromeDriver::start() else { return };
    run(Engine::Sqlite, |app| async move {
        for (size, width, height) in [("phone", 390, 844), ("desktop", 1280, 900)] {
            the_whole_visit(&app, &driver, size, width, height).await;
        }
        app
    })
    .await;
}

#[tokio::test]
async fn the_widget_shows_and_acknowledges_inside_a_vendor_page() {
    let Some(driver) = ChromeDriver::start() else { return };
    run(Engine::Sqlite, |app| async move {
        widget_in_a_vendor_page(&app, &driver).await;
        app
    })
    .await;
}

/// The vendor's portal: another origin, a page that embeds the component.
async fn vendor_page(tidings: &str, token: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let html = format!(
        "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Vendor portal</title>\
         <script type=\"module\" src=\"{tidings}/widget/tidings-inbox.js\"></script></head>\
         <body><main><h1>Vendor portal</h1><tidings-inbox src=\"{tidings}\" token=\"{token}\"></tidings-inbox></main></body></html>"
    );
    let router = axum::Router::new().route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
    origin
}

async fn widget_in_a_vendor_page(app: &TestApp, chrome: &ChromeDriver) {
    let (email, _) = data(app, "widget").await;
    let (_, member) = app.admin(Method::GET, "/api/v1/members?limit=500", None).await;
    let member = member["items"].as_array().unwrap().iter().find(|m| m["email"] == email.as_str()).unwrap().clone();
    let secret = tidings_app::widget::secret(&app.app).await.unwrap();
    let exp = app.app.clock.now().as_millis() / 1000 + 3600;
    let id = member["id"].as_str().unwrap().parse().unwrap();
    let token = tidings_app::widget::sign(
        &secret,
        &tidings_app::widget::WidgetClaims { member_id: Some(id), exp, ..Default::default() },
    );

    // A second Tidings server on the same database, allowing the vendor page's origin.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tidings = format!("http://{}", listener.local_addr().unwrap());
    let vendor = vendor_page(&tidings, &token).await;
    let mut served = app.app.clone();
    served.widget_origins = Arc::new(vec![vendor.clone()]);
    tokio::spawn(async move { tidings_web::serve(listener, served, std::future::pending()).await });

    let driver = chrome.session(1280, 900).await;
    driver.goto(&vendor).await.unwrap();
    let inbox = driver.find(By::Css("tidings-inbox")).await.unwrap();
    // The module loads after the page: wait for the element to be upgraded.
    let mut root = None;
    for _ in 0..100 {
        if let Ok(shadow) = inbox.get_shadow_root().await {
            root = Some(shadow);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let root = root.expect("the component renders into its shadow root");
    let mut items = Vec::new();
    for _ in 0..100 {
        items = root.find_all(By::Css("li button.item")).await.unwrap();
        if !items.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(items.len(), 2, "both messages, loaded across origins");
    assert!(items[0].text().await.unwrap().contains("Rückruf der Chargen A1 und B2"));
    assert!(
        items[0].text().await.unwrap().contains("Confirmation requise"),
        "the page's language (fr) for its own words"
    );
    shot(&driver, "widget", "01-list").await;
    items[0].click().await.unwrap();
    let mut confirm = None;
    for _ in 0..100 {
        if let Ok(button) = root.find(By::Css("button.primary")).await {
            confirm = Some(button);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let confirm = confirm.expect("the acknowledgment button");
    assert!(
        root.find(By::Css("article"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("Wir haben die betroffene Ware gesperrt")
    );
    // The message asks what was done: the widget shows the form's fields.
    root.find(By::Css("input[name='units']")).await.unwrap().send_keys("7").await.unwrap();
    root.find(By::Css("input[name='massnahme'][value='Zurückgesandt']")).await.unwrap().click().await.unwrap();
    shot(&driver, "widget", "02-message").await;
    confirm.click().await.unwrap();
    // The component re-renders after the POST: an element read mid-render may be gone.
    let mut confirmed = false;
    for _ in 0..100 {
        let article = match root.find(By::Css("article")).await {
            Ok(article) => article.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if article.contains("✓ Confirmé") {
            confirmed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(confirmed, "the widget shows the acknowledgment");
    shot(&driver, "widget", "03-acknowledged").await;
    let (_, pending) =
        crate::helpers::read(app.call(Method::GET, "/api/v1/inbox/pending-acknowledgments", Some(&token), None).await)
            .await;
    assert_eq!(pending.as_array().unwrap().len(), 0, "the acknowledgment is recorded");
    let recall = items_id(app, &token).await;
    let (_, seen) =
        crate::helpers::read(app.call(Method::GET, &format!("/api/v1/inbox/{recall}"), Some(&token), None).await).await;
    assert_eq!(
        seen["acknowledgment_record"]["attestation"],
        json!({"massnahme": "Zurückgesandt", "units": 7}),
        "the widget posted the answers"
    );
    driver.quit().await.unwrap();
}

/// chromedriver on a free port, stopped when dropped.
pub(crate) struct ChromeDriver {
    process: Child,
    url: String,
}

impl ChromeDriver {
    pub(crate) fn start() -> Option<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let spawned = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(process) => Some(Self { process, url: format!("http://127.0.0.1:{port}") }),
            Err(e) if std::env::var_os("TIDINGS_REQUIRE_BROWSER").is_some() => {
                panic!("TIDINGS_REQUIRE_BROWSER is set but chromedriver does not start: {e}")
            }
            Err(e) => {
                eprintln!("skipped: no chromedriver ({e}); install Debian's chromium and chromium-driver");
                None
            }
        }
    }

    pub(crate) async fn session(&self, width: u32, height: u32) -> WebDriver {
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary("/usr/bin/chromium").unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            &format!("--window-size={width},{height}"),
        ] {
            caps.add_arg(arg).unwrap();
        }
        // The browser asks for German, as Ana's would; a phone is emulated to its real width.
        caps.add_experimental_option("prefs", json!({"intl.accept_languages": "de-DE,de"})).unwrap();
        if width < 500 {
            let metrics = json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2, "mobile": true}});
            caps.add_experimental_option("mobileEmulation", metrics).unwrap();
        }
        let client = Http(reqwest::Client::new());
        for _ in 0..100 {
            if reqwest::get(format!("{}/status", self.url)).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        WebDriver::new_with_config_and_client(&self.url, caps, WebDriverConfig::default(), client).await.unwrap()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// thirtyfour's HTTP client, on the reqwest the project already has.
struct Http(reqwest::Client);

#[async_trait::async_trait]
impl HttpClient for Http {
    async fn send(&self, request: Request<Body<'_>>) -> WebDriverResult<Response<Bytes>> {
        let (parts, body) = request.into_parts();
        let mut outgoing = self.0.request(parts.method, parts.uri.to_string()).headers(parts.headers);
        if let Body::Json(json) = body {
            outgoing = outgoing.json(json);
        }
        let answer = outgoing.send().await.map_err(|e| WebDriverError::HttpError(e.to_string()))?;
        let mut response = Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            response = response.header(name, value);
        }
        let bytes = answer.bytes().await.map_err(|e| WebDriverError::HttpError(e.to_string()))?;
        response.body(bytes).map_err(|e| WebDriverError::HttpError(e.to_string()))
    }

    async fn new(&self) -> Arc<dyn HttpClient> {
        Arc::new(Http(reqwest::Client::new()))
    }
}

/// The screenshot directory, emptied once per run so that it holds this run's alone.
fn screenshots() -> PathBuf {
    static CLEARED: std::sync::Once = std::sync::Once::new();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    CLEARED.call_once(|| {
        let _ = std::fs::remove_dir_all(&dir);
    });
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A screenshot of the step, and an accessibility audit of the page.
async fn shot(driver: &WebDriver, size: &str, step: &str) {
    shot_named(driver, &format!("portal-{size}-{step}")).await;
}

pub(crate) async fn shot_named(driver: &WebDriver, name: &str) {
    driver.screenshot(&screenshots().join(format!("{name}.png"))).await.unwrap();
    audit(driver, name).await;
}

/// The member's must-know message (the recall).
async fn items_id(app: &TestApp, token: &str) -> String {
    let (_, list) = crate::helpers::read(
        app.call(Method::GET, "/api/v1/inbox?needs_acknowledgment=false", Some(token), None).await,
    )
    .await;
    let items = list["items"].as_array().cloned().unwrap_or_default();
    let recall = items.iter().find(|m| m["importance"] == "critical").unwrap_or_else(|| panic!("{list}"));
    recall["message_id"].as_str().unwrap().to_owned()
}

/// axe-core from npm (`.ci/run` installs it): `TIDINGS_AXE`, or the bench cache.
fn axe() -> Option<&'static str> {
    static AXE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    AXE.get_or_init(|| {
        let path = std::env::var_os("TIDINGS_AXE").map(PathBuf::from).unwrap_or_else(|| {
            let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
            home.join(".cache/tidings-bench/axe/node_modules/axe-core/axe.min.js")
        });
        let source = std::fs::read_to_string(&path).ok();
        if source.is_none() && std::env::var_os("TIDINGS_REQUIRE_BROWSER").is_some() {
            panic!("TIDINGS_REQUIRE_BROWSER is set but axe-core is not at {}", path.display());
        }
        source
    })
    .as_deref()
}

/// No WCAG 2.1 A or AA violation that axe-core can find on the page (labels, names,
/// contrast, landmarks, focusable dialogs, languages).
async fn audit(driver: &WebDriver, step: &str) {
    if let Some(violations) = violations(driver).await {
        assert!(violations.is_empty(), "accessibility of {step}: {violations:#?}");
    }
}

async fn violations(driver: &WebDriver) -> Option<Vec<String>> {
    let axe = axe()?;
    let script = format!(
        "{axe}\nconst done = arguments[arguments.length - 1];\n\
         axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}}}})\n\
           .then(r => done(r.violations.map(v => `${{v.id}} (${{v.impact}}): ${{v.nodes.map(n => n.target.join(' ')).join(', ')}}`)))\n\
           .catch(e => done([`axe failed: ${{e}}`]));"
    );
    Some(driver.execute_async(script, Vec::new()).await.unwrap().convert().unwrap())
}

/// Waits for the page to show a text (a click that navigates returns before the new page).
pub(crate) async fn shows(driver: &WebDriver, text: &str) {
    for _ in 0..100 {
        if driver.source().await.unwrap().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seen = driver.source().await.unwrap_or_default();
    panic!("the page never showed {text:?}; it shows: {seen}");
}

async fn admin(app: &TestApp, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = app.admin(method, path, Some(body)).await;
    assert!((200..300).contains(&status), "{path}: {answer}");
    answer
}

/// A partner with one German-speaking support engineer, a required and an optional topic,
/// an older webinar note and a recall that asks for acknowledgment.
async fn data(app: &TestApp, size: &str) -> (String, String) {
    let partner =
        admin(app, Method::POST, "/api/v1/partners", json!({"name": format!("Acme {size}"), "partner_type": "dealer"}))
            .await;
    let email = format!("ana.{size}@acme.example");
    let body = json!({"partner_id": partner["id"], "email": email, "name": "Ana Schmidt", "roles": ["support"],
                      "locale": "de", "time_zone": "Europe/Berlin"});
    let member = admin(app, Method::POST, "/api/v1/members", body).await;
    let topic = |key: &str, policies: Value| json!({"key": format!("{}-{size}", key.to_lowercase()), "name": key, "policies": policies});
    let safety = admin(
        app,
        Method::POST,
        "/api/v1/topics",
        topic("Sicherheit", json!({"default": "optional_on", "by_role": {"support": "required"}})),
    )
    .await;
    let webinars =
        admin(app, Method::POST, "/api/v1/topics", topic("Webinare", json!({"default": "optional_on"}))).await;
    let message = |topic: &Value, importance: &str, title: &str, ack: bool| {
        let mut body = json!({"topic_id": topic["id"], "importance": importance, "audience": {"members": [member["id"]]},
            "content": {"variants": {
                "en": {"title": format!("(en) {title}"), "summary": "In short", "what_changed": "Two **lots** are affected.",
                    "why_it_matters": "Safety first.", "what_to_do": "Pull the stock today."},
                "de": {"title": title, "summary": format!("Kurz: {title}"),
                    "what_changed": "Zwei **Chargen** sind betroffen.", "why_it_matters": "Sicherheit geht vor.",
                    "what_to_do": "Ware heute aus dem Lager nehmen.",
                    "call_to_action": {"label": "Rücksendung starten", "url": "https://vendor.example/returns"}}}}});
        if ack {
            body["acknowledgment"] = json!({"statement": "Wir haben die betroffene Ware gesperrt", "due_at": "2099-01-15",
                "attestation": {"fields": [
                    {"key": "units", "label": "Gesperrte Einheiten", "type": "number", "min": 0, "max": 100000},
                    {"key": "massnahme", "label": "Maßnahme", "type": "choice", "options": ["Gesperrt", "Zurückgesandt"]},
                    {"key": "serials", "label": "Seriennummern", "type": "serials", "required": false}]}});
        }
        body
    };
    for (topic, importance, title, ack) in [
        (&webinars, "info", "Webinar-Programm im Herbst", false),
        (&safety, "critical", "Rückruf der Chargen A1 und B2", true),
    ] {
        let created = admin(app, Method::POST, "/api/v1/messages", message(topic, importance, title, ack)).await;
        let id = created["id"].as_str().unwrap();
        admin(app, Method::POST, &format!("/api/v1/messages/{id}/release"), json!({})).await;
        if ack {
            // Corrected once (material): the message page says why and shows what changed.
            let mut content = message(topic, importance, title, ack)["content"].clone();
            content["variants"]["de"]["what_to_do"] = json!("Ware heute aus dem Lager nehmen und melden.");
            let correction = json!({"kind": "material", "note": "Bitte auch melden.", "content": content});
            admin(app, Method::POST, &format!("/api/v1/messages/{id}/corrections"), correction).await;
        }
    }
    let later = message(&safety, "action", "Neue Preisliste", false);
    (email, serde_json::to_string(&later).unwrap())
}

async fn newest_mail_link(app: &TestApp, to: &str, marker: &str, before: usize) -> String {
    for _ in 0..250 {
        let mails: Vec<_> = app.smtp.received().into_iter().filter(|m| m.to == vec![to.to_owned()]).collect();
        if mails.len() > before {
            let text = mails.last().unwrap().text();
            let at = text.find(marker).unwrap_or_else(|| panic!("no {marker} in {text}"));
            let start = text[..at].rfind(char::is_whitespace).map_or(0, |i| i + 1);
            return text[start..].split_whitespace().next().unwrap().trim_end_matches(['>', ')']).to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no email to {to}");
}

async fn the_whole_visit(app: &TestApp, chrome: &ChromeDriver, size: &str, width: u32, height: u32) {
    let (email, later) = data(app, size).await;
    let driver = chrome.session(width, height).await;
    // The audit itself finds what it should: an image without a text, a page without a language.
    driver.goto("data:text/html,<html><body><img src='x.png'></body></html>").await.unwrap();
    if let Some(found) = violations(&driver).await {
        assert!(found.iter().any(|v| v.starts_with("image-alt")), "{found:?}");
    }
    let mails_before = |app: &TestApp| app.smtp.received().into_iter().filter(|m| m.to == vec![email.clone()]).count();

    // Sign in with the link from the email; the page speaks the browser's language.
    driver.goto(format!("{}/portal", app.base)).await.unwrap();
    assert!(driver.current_url().await.unwrap().path().ends_with("/portal/sign-in"));
    let before = mails_before(app);
    driver.find(By::Id("email")).await.unwrap().send_keys(&email).await.unwrap();
    shot(&driver, size, "01-sign-in").await;
    driver.find(By::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    shows(&driver, "Sehen Sie in Ihr Postfach").await;
    shot(&driver, size, "02-link-sent").await;
    let link = newest_mail_link(app, &email, "/portal/sign-in/", before).await;
    driver.goto(&link).await.unwrap();
    shot(&driver, size, "03-link").await;
    driver.find(By::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    shows(&driver, "dialog open").await;

    // The must-know pop-up, over the inbox; acknowledged with one deliberate click.
    let popup = driver.find(By::Css("dialog.popup")).await.unwrap();
    assert!(popup.is_displayed().await.unwrap());
    assert!(popup.text().await.unwrap().contains("Wir haben die betroffene Ware gesperrt"));
    // It shows the statement but not the whole text, so it takes no acknowledgment itself:
    // it leads to the message page, which shows all the text the acknowledgment binds.
    let acknowledging = popup.find_all(By::Css("form[action$='/acknowledge']")).await.unwrap();
    assert!(acknowledging.is_empty(), "the pop-up leads to the whole text before any acknowledgment");
    // Keyboard users land in the pop-up, on its main action.
    let focused = driver.active_element().await.unwrap();
    assert_eq!(focused.text().await.unwrap(), "Lesen und bestätigen");
    shot(&driver, size, "04-popup").await;
    popup.find(By::Css("a.button.primary")).await.unwrap().click().await.unwrap();
    shows(&driver, "Was sich ändert").await;
    shows(&driver, "Bitte auch melden.").await;
    // The acknowledgment asks what was done: the number and the choice are required.
    driver.find(By::Id("answer.units")).await.unwrap().send_keys("14").await.unwrap();
    driver.find(By::Css("input[name='answer.massnahme'][value='Gesperrt']")).await.unwrap().click().await.unwrap();
    driver.find(By::Id("answer.serials")).await.unwrap().send_keys("SN-1\nSN-2").await.unwrap();
    shot(&driver, size, "05-message").await;
    driver.find(By::Css("section.acknowledgment button")).await.unwrap().click().await.unwrap();
    shows(&driver, "Danke: Ihre Bestätigung ist gespeichert").await;
    shows(&driver, "<dt>Gesperrte Einheiten</dt><dd>14</dd>").await;
    shot(&driver, size, "06-acknowledged").await;

    // No pop-up any more; an older message found by search.
    driver.goto(format!("{}/portal", app.base)).await.unwrap();
    assert!(driver.find_all(By::Css("dialog.popup")).await.unwrap().is_empty());
    driver.find(By::Id("q")).await.unwrap().send_keys("Webinar").await.unwrap();
    driver.find(By::Css(".search button")).await.unwrap().click().await.unwrap();
    shows(&driver, "value=\"Webinar\"").await;
    let found = driver.find_all(By::Css("ul.messages li")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].text().await.unwrap().contains("Webinar-Programm im Herbst"));
    shot(&driver, size, "07-search").await;

    // Preferences: webinars off (the required topic is locked), email opted in.
    driver.find(By::Css("a[href='/portal/preferences']")).await.unwrap().click().await.unwrap();
    shows(&driver, "class=\"card preferences\"").await;
    let required = driver.find(By::Css(format!("input[name='topic:sicherheit-{size}']"))).await.unwrap();
    assert!(!required.is_enabled().await.unwrap(), "a required topic cannot be turned off");
    driver.find(By::Css(format!("input[name='topic:webinare-{size}']"))).await.unwrap().click().await.unwrap();
    driver.find(By::Id("email-opt-in")).await.unwrap().click().await.unwrap();
    driver.find(By::Css("form.preferences button[type=submit]")).await.unwrap().click().await.unwrap();
    shows(&driver, "Ihre Einstellungen sind gespeichert").await;
    assert!(driver.find(By::Id("email-opt-in")).await.unwrap().is_selected().await.unwrap());
    shot(&driver, size, "08-preferences").await;

    // An email now reaches her; its unsubscribe link works in one click.
    let before = mails_before(app);
    let later: Value = serde_json::from_str(&later).unwrap();
    let created = admin(app, Method::POST, "/api/v1/messages", later).await;
    admin(app, Method::POST, &format!("/api/v1/messages/{}/release", created["id"].as_str().unwrap()), json!({})).await;
    let mut cache = Cache::default();
    while work_once(&app.app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    let unsubscribe = newest_mail_link(app, &email, "/u/", before).await;
    driver.goto(&unsubscribe).await.unwrap();
    shot(&driver, size, "09-unsubscribe").await;
    driver.find(By::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    shows(&driver, "erhält keine E-Mails mehr").await;
    shot(&driver, size, "10-unsubscribed").await;
    driver.goto(format!("{}/portal/preferences", app.base)).await.unwrap();
    assert!(!driver.find(By::Id("email-opt-in")).await.unwrap().is_selected().await.unwrap(), "unsubscribed");
    driver.quit().await.unwrap();
}
