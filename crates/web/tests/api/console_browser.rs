//! The console's "done when" in a real browser (headless Chromium, as `browser.rs` drives
//! it): a channel manager signs in with the demo data, composes a recall notice for the
//! support and operations people of all distributors, counts and previews it, sends it,
//! and watches acknowledgments arrive on the compliance page, then exports the evidence.
//! Every page is screenshotted and audited with axe-core.

use reqwest::Method;
use serde_json::json;
use thirtyfour::prelude::*;
use tidings_app::Caller;

use crate::browser::{ChromeDriver, shot_named, shows};
use crate::console::acknowledge;
use crate::helpers::{Engine, TestApp, opt_in_to_email, run};

const EMAIL: &str = "maria.keller@vendor.example";
const PASSWORD: &str = "a long demo password";

#[tokio::test]
async fn a_channel_manager_sends_a_recall_and_watches_acknowledgments_in_a_browser() {
    let Some(driver) = ChromeDriver::start() else { return };
    run(Engine::Sqlite, |app| async move {
        the_recall(&app, &driver).await;
        app
    })
    .await;
}

async fn fill(driver: &WebDriver, id: &str, text: &str) {
    let field = driver.find(By::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn check(driver: &WebDriver, name: &str, value: &str) {
    driver.find(By::Css(format!("input[name='{name}'][value='{value}']"))).await.unwrap().click().await.unwrap();
}

async fn click(driver: &WebDriver, css: &str) {
    driver.find(By::Css(css)).await.unwrap().click().await.unwrap();
}

async fn the_recall(app: &TestApp, chrome: &ChromeDriver) {
    tidings_app::demo::seed(&app.app).await.unwrap();
    opt_in_to_email(app, "partner.type = \"distributor\" and member.role in (\"support\", \"operations\")").await;
    // Maria, one of the demo's channel managers, composes; an admin gives her a password.
    tidings_app::passwords::set_staff(&app.app, &Caller::operator(), EMAIL, PASSWORD).await.unwrap();
    let rule = "partner.type = \"distributor\" and member.role in (\"support\", \"operations\")";
    let (_, audience) = app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({"rule": rule}))).await;
    let expected = audience["size"].as_i64().unwrap();
    let driver = chrome.session(1280, 1000).await;
    let base = &app.base;

    driver.goto(format!("{base}/admin")).await.unwrap();
    shows(&driver, "Sign in").await;
    shot_named(&driver, "console-01-sign-in").await;
    fill(&driver, "email", EMAIL).await;
    fill(&driver, "password", PASSWORD).await;
    click(&driver, "button.primary").await;
    shows(&driver, "Overview").await;
    shows(&driver, "Maria Keller (author)").await;
    shot_named(&driver, "console-02-overview").await;

    // A segment for the recall: the live count follows each box checked.
    driver.goto(format!("{base}/admin/segments/new")).await.unwrap();
    shows(&driver, "New segment").await;
    fill(&driver, "name", "Distributor support and operations").await;
    check(&driver, "type", "distributor").await;
    check(&driver, "role", "support").await;
    check(&driver, "role", "operations").await;
    shows(&driver, &format!("{expected} member(s) right now")).await;
    shot_named(&driver, "console-03-segment-builder").await;
    click(&driver, "button[value='save']").await;
    shows(&driver, "Segment \"Distributor support and operations\" saved.").await;
    shows(&driver, &format!("<strong>{expected}</strong> member(s).")).await;
    shot_named(&driver, "console-04-segment").await;

    // Compose the recall notice for that segment.
    driver.goto(format!("{base}/admin/messages/new")).await.unwrap();
    shows(&driver, "New message").await;
    let topic = driver.find(By::Id("topic_id")).await.unwrap();
    for option in topic.find_all(By::Tag("option")).await.unwrap() {
        if option.text().await.unwrap() == "Operations" {
            option.click().await.unwrap();
        }
    }
    driver.find(By::Css("#importance option[value='critical']")).await.unwrap().click().await.unwrap();
    fill(&driver, "title@en", "Recall of battery lots A1 and B2").await;
    fill(&driver, "summary@en", "Two lots must be pulled from stock today").await;
    fill(&driver, "what_changed@en", "We found a fault in **two lots** of the PX-200 battery.").await;
    fill(&driver, "why_it_matters@en", "A faulty cell can overheat.").await;
    // Two lines typed into a textarea: the browser posts them with CRLF.
    fill(&driver, "what_to_do@en", "1. Pull the affected stock of {{ partner.name }}.\n2. Start the return.").await;
    fill(&driver, "cta_label@en", "Start the return").await;
    fill(&driver, "cta_url@en", "https://vendor.example/returns").await;
    fill(&driver, "ack_statement", "We have pulled the affected stock").await;
    fill(&driver, "ack_due", "2099-01-15").await;
    let segment =
        driver.find(By::XPath("//label[contains(., 'Distributor support and operations')]/input")).await.unwrap();
    segment.click().await.unwrap();
    click(&driver, "button[value='check']").await;
    shows(&driver, &format!("<strong>{expected}</strong> member(s) would get this message")).await;
    shot_named(&driver, "console-05-compose").await;
    click(&driver, "button[value='save']").await;
    shows(&driver, "No warnings").await;
    let message_url = driver.current_url().await.unwrap().to_string();
    let id = message_url.rsplit('/').next().unwrap().to_owned();
    let frame = driver.find(By::Css("iframe.email")).await.unwrap();
    assert!(frame.attr("src").await.unwrap().unwrap().contains("/email?member="));
    shot_named(&driver, "console-06-preview").await;

    click(&driver, "form[action$='/release'] button").await;
    shows(&driver, &format!("Released: {expected} inbox copies")).await;
    shot_named(&driver, "console-07-sent").await;

    // The compliance page, as members acknowledge in their inboxes.
    driver.goto(format!("{base}/admin/compliance/{id}")).await.unwrap();
    shows(&driver, &format!("<span class=\"figure\">{expected}</span> outstanding")).await;
    for (n, member) in audience["sample"].as_array().unwrap().iter().take(3).enumerate() {
        acknowledge(app, member["id"].as_str().unwrap(), &id).await;
        driver.refresh().await.unwrap();
        shows(&driver, &format!("<span class=\"figure\">{}</span> acknowledged", n + 1)).await;
    }
    shot_named(&driver, "console-08-compliance").await;
    driver.goto(format!("{base}/admin/messages/{id}/report")).await.unwrap();
    shows(&driver, "Funnel").await;
    shot_named(&driver, "console-08b-report").await;
    let first_partner = audience["sample"][0]["partner_id"].as_str().unwrap();
    driver.goto(format!("{base}/admin/compliance/{id}/partners/{first_partner}")).await.unwrap();
    shows(&driver, "badge done").await;
    shot_named(&driver, "console-09-partner").await;
    driver.goto(format!("{base}/admin/compliance/{id}/evidence")).await.unwrap();
    shows(&driver, "Acknowledgment evidence").await;
    shot_named(&driver, "console-10-evidence").await;

    // The export link works with the browser's own session.
    driver.goto(format!("{base}/admin/compliance/{id}")).await.unwrap();
    let link = driver.find(By::Css("a[href$='/export.csv']")).await.unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    let cookie = driver.get_named_cookie("tidings_admin").await.unwrap();
    let csv = app
        .client
        .get(format!("{base}{href}"))
        .header("cookie", format!("tidings_admin={}", cookie.value))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count() as i64, expected + 1);
    assert_eq!(csv.lines().filter(|l| l.contains("We have pulled the affected stock")).count(), 3);

    // On a phone: no console page scrolls sideways.
    driver.set_window_rect(0, 0, 390, 844).await.unwrap();
    let pages = [
        "/admin".to_owned(),
        "/admin/messages".into(),
        format!("/admin/messages/{id}"),
        "/admin/messages/new".into(),
        format!("/admin/messages/{id}/report"),
        "/admin/compliance".into(),
        format!("/admin/compliance/{id}"),
        format!("/admin/compliance/{id}/partners/{first_partner}"),
        format!("/admin/compliance/{id}/evidence"),
        "/admin/partners".into(),
        "/admin/members".into(),
        "/admin/segments".into(),
        "/admin/topics".into(),
        "/admin/ladders".into(),
        "/admin/engagement".into(),
    ];
    let mut too_wide = Vec::new();
    for path in &pages {
        driver.goto(format!("{base}{path}")).await.unwrap();
        let widths = widths(&driver).await;
        if *path == format!("/admin/compliance/{id}") {
            shot_named(&driver, "console-11-phone-compliance").await;
        }
        if widths[0] > widths[1] {
            // Names the widest elements, to say what to fix.
            let culprits: Vec<String> = driver
                .execute(
                    "return [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)\
                     .slice(-3).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));",
                    Vec::new(),
                )
                .await
                .unwrap()
                .convert()
                .unwrap();
            too_wide.push(format!("{path}: {} px of page in {} px ({})", widths[0], widths[1], culprits.join(", ")));
        }
    }
    assert!(too_wide.is_empty(), "pages wider than a phone: {too_wide:#?}");
    driver.quit().await.unwrap();
    the_system_page(app, chrome).await;
}

/// An admin's system page shows this node alive, on a phone and on a desktop.
async fn the_system_page(app: &TestApp, chrome: &ChromeDriver) {
    let admin = tidings_app::demo::ADMIN_EMAIL;
    tidings_app::passwords::set_staff(&app.app, &Caller::operator(), admin, PASSWORD).await.unwrap();
    tidings_app::system::heartbeat(&app.app, "serve+worker").await.unwrap();
    tidings_app::workers::jobs::run_due(&app.app).await.unwrap();
    let driver = chrome.session(390, 844).await;
    driver.goto(format!("{}/admin/system", app.base)).await.unwrap();
    shows(&driver, "Sign in").await;
    fill(&driver, "email", admin).await;
    fill(&driver, "password", PASSWORD).await;
    click(&driver, "button.primary").await;
    shows(&driver, "(admin)").await;
    driver.goto(format!("{}/admin/system", app.base)).await.unwrap();
    shows(&driver, "this page's node").await;
    shows(&driver, "release_scheduled").await;
    shot_named(&driver, "console-12-phone-system").await;
    let widths = widths(&driver).await;
    assert!(widths[0] <= widths[1], "the system page fits a phone: {widths:?}");
    driver.set_window_rect(0, 0, 1280, 1000).await.unwrap();
    shot_named(&driver, "console-13-system").await;
    driver.quit().await.unwrap();
}

/// The page's width and the window's, in CSS pixels.
async fn widths(driver: &WebDriver) -> Vec<i64> {
    driver
        .execute("return [document.documentElement.scrollWidth, window.innerWidth];", Vec::new())
        .await
        .unwrap()
        .convert()
        .unwrap()
}
