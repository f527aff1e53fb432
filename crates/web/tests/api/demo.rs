//! What `serve --demo` shows a newcomer: email caught by the built-in mail catcher and read
//! in the console, a report number moving when a member acts on it, the portal user with
//! the recall's pop-up; and test sends that explain themselves or reach the staff person.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tidings_app::demo;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_core::StaffRole;

use crate::both_engines;
use crate::browse::Browser;
use crate::console::{signed_in, staff};
use crate::helpers::TestApp;

both_engines!(
    the_demo_shows_an_email_arriving_and_a_report_number_moving,
    test_sends_explain_an_empty_test_audience_and_go_to_staff,
);

/// The report's count in the row labelled `label`.
fn report_row(body: &str, label: &str) -> i64 {
    let marker = format!("<tr><th scope=\"row\">{label}</th><td class=\"num\">");
    let at = body.find(&marker).unwrap_or_else(|| panic!("no {label} row")) + marker.len();
    body[at..].split('<').next().unwrap().parse().unwrap()
}

async fn send_all(app: &TestApp) {
    let mut cache = Cache::default();
    while work_once(&app.app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    tidings_app::reports::fold(&app.app).await.unwrap();
}

async fn the_demo_shows_an_email_arriving_and_a_report_number_moving(app: TestApp) -> TestApp {
    demo::seed(&app.app).await.unwrap();
    let story = demo::tell(&app.app).await.unwrap();
    assert!(story.opted_in > 250 && story.acknowledged > 5, "{story:?}");
    let portal_member = demo::portal_member(&app.app).await.unwrap().unwrap();
    assert_eq!(portal_member.id, story.portal_member.id, "the member the demo prints a link for");

    // The portal user the demo prints is in the recall's audience and has its pop-up.
    let mut portal = Browser::sign_in(&app, &portal_member.profile.email.to_string()).await;
    let inbox = portal.get("/portal").await;
    assert!(inbox.body.contains("<dialog open class=\"popup\""), "{}", inbox.body);
    assert!(inbox.body.contains("Recall: X-200 power units, lot 44"));

    // Every recipient who opted in gets the recall by email, into the mail catcher.
    send_all(&app).await;
    let admin = staff(&app, StaffRole::Admin).await;
    let mut console = signed_in(&app, &admin).await;
    let home = console.get("/admin").await;
    assert!(home.body.contains("href=\"/admin/mail\""), "admins find the mail catcher in the menu");
    // The CRM's deals of the morning were answered by the demo's triggers.
    // 9 people and 3 partners joined, then 8 deal and incentive events came.
    assert_eq!(story.events, 20, "{story:?}");
    let automation = console.get("/admin/automation").await;
    assert!(automation.body.contains("Deal rejected, with the reason"), "{}", automation.body);
    assert_eq!(automation.body.matches("message sent").count(), 8, "each event answered: {}", automation.body);
    // The new people are in onboarding: the three who registered a deal met its goal.
    let (_, onboarding) = app.admin(Method::GET, "/api/v1/sequences/onboarding", None).await;
    let funnel = &onboarding["funnel"];
    assert_eq!((funnel["entered"].as_i64(), funnel["converted"].as_i64()), (Some(9), Some(3)), "{onboarding}");
    assert_eq!(funnel["reached"][0].as_i64(), Some(9), "everyone was welcomed: {onboarding}");
    let (_, kick_off) = app.admin(Method::GET, "/api/v1/sequences/growth-sales", None).await;
    assert!(kick_off["funnel"]["entered"].as_i64().unwrap() > 0, "entered by the rule: {kick_off}");
    // Every tenth partner had gone quiet, and one of them came back this morning to
    // acknowledge the recall: a task for each of the other three, saying for how long.
    assert_eq!(story.quiet_partners, 3, "{story:?}");
    let tasks = console.get("/admin/tasks").await;
    assert_eq!(tasks.body.matches("has gone quiet").count(), 3, "{}", tasks.body);
    assert!(tasks.body.contains("has been active for"), "{}", tasks.body);
    let page = console.get("/admin/automation/sequences/partner-activation").await;
    assert!(page.body.contains("How far people got") && page.body.contains("1. Kick-off"), "{}", page.body);
    let report_page = format!("/admin/messages/{}/report", story.recall);
    let before = report_row(&console.get(&report_page).await.body, "Acknowledged");
    assert_eq!(before, i64::try_from(story.acknowledged).unwrap());
    // The chase has begun: the recall's compliance page shows its ladder, the first step
    // run, and the next one to run now.
    let compliance = console.get(&format!("/admin/compliance/{}", story.recall)).await;
    assert!(compliance.body.contains("Chase: Must-know recall"), "{}", compliance.body);
    assert!(compliance.body.contains("Run Escalation 1 now"), "the leads are next");
    // Its evidence is signed already: a checkpoint covers the release, the consent given and
    // every acknowledgment.
    let evidence = console.get(&format!("/admin/compliance/{}/evidence", story.recall)).await;
    assert!(evidence.body.contains("Newest signed checkpoint</th><td>") && !evidence.body.contains("none yet"));
    let (_, log) = app.admin(Method::GET, "/api/v1/evidence", None).await;
    let signed = log["checkpoint"]["size"].as_u64().unwrap_or_default();
    assert!(signed > 250 + story.acknowledged as u64, "{log}");
    let list = console.get("/admin/mail").await;
    assert_eq!(list.status, 200);
    // Last week's nice-to-know news waited for the marketing people's weekly digests and
    // the first partner's daily ones, which went out as the demo started.
    assert!(story.digests > 0, "{story:?}");
    assert!(list.body.contains("Your digest: "), "{}", list.body);
    let email = portal_member.profile.email.to_string();
    let row = list
        .body
        .lines()
        .find(|l| l.contains(&email) && l.contains("Recall: X-200 power units, lot 44"))
        .unwrap_or_else(|| panic!("the recall to {email} is not listed: {}", list.body));
    let number = row.split("/admin/mail/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let mail = console.get(&format!("/admin/mail/{number}")).await;
    assert_eq!(mail.status, 200);
    assert!(mail.body.contains("List-Unsubscribe") && mail.body.contains("Pull them from stock"), "{}", mail.body);
    let html = console.get(&format!("/admin/mail/{number}/html")).await;
    assert!(html.body.contains("Open the recall kit"));

    // Following the email's acknowledgment link, as the member would, moves the report.
    let ack = format!("{}/a/", app.base);
    let at = mail.body.find(&format!("href=\"{ack}")).expect("the acknowledgment link is listed") + 6;
    let link = mail.body[at..].split('"').next().unwrap().replace("&amp;", "&");
    let mut reader = Browser::new(&app);
    let page = reader.get(&link).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The recall asks what was done: the link's page has the form, answered as a browser posts it.
    assert!(page.body.contains("name=\"answer.units\""), "{}", page.body);
    let hash = page.field("content_hash");
    let answers = [("content_hash", hash.as_str()), ("answer.units", "3"), ("answer.customers", "1")];
    let done = reader.post(&link, &answers).await;
    assert_eq!(done.status, 200, "{}", done.body);
    tidings_app::reports::fold(&app.app).await.unwrap();
    let after = report_row(&console.get(&report_page).await.body, "Acknowledged");
    assert_eq!(after, before + 1, "the report moved");

    // Caught mail is for admins only.
    let author = staff(&app, StaffRole::Author).await;
    let mut other = signed_in(&app, &author).await;
    assert!(!other.get("/admin").await.body.contains("href=\"/admin/mail\""));
    assert_eq!(other.get("/admin/mail").await.status, 403);
    assert_eq!(other.get(&format!("/admin/mail/{number}")).await.status, 403);
    app
}

async fn test_sends_explain_an_empty_test_audience_and_go_to_staff(app: TestApp) -> TestApp {
    demo::seed(&app.app).await.unwrap();
    let (_, created) = app
        .admin(
            Method::POST,
            "/api/v1/messages",
            Some(json!({"topic": "operations", "importance": "action",
                "content": {"variants": {"en": {"title": "Depot moves on Monday", "what_to_do": "Update the address."}}},
                "audience": {"rule": "partner.external_id = \"P-1002\""}})),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();

    // No test member matches: refused with the ways on, and no copy made.
    let (status, refused) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/test-send"), None).await;
    assert_eq!(status, 409, "{refused}");
    let why = refused["detail"].as_str().unwrap();
    assert!(why.contains("test member") && why.contains("status") && why.contains("test email"), "{why}");
    let admin = staff(&app, StaffRole::Admin).await;
    let mut console = signed_in(&app, &admin).await;
    let page = console.get(&format!("/admin/messages/{id}")).await;
    let tried = console.post(&format!("/admin/messages/{id}/test-send"), &[("csrf", &page.csrf())]).await;
    assert_eq!(tried.status, 303);
    let note = console.get(&format!("/admin/messages/{id}")).await;
    assert!(note.body.contains("Not sent: no test member matches"), "{}", note.body);

    // The console sends it to the signed-in person, as the previewed member would get it.
    let sent = console
        .post(&format!("/admin/messages/{id}/test-email"), &[("csrf", &note.csrf()), ("member", &note.field("member"))])
        .await;
    assert_eq!(sent.status, 303);
    let mails = app.smtp.wait_for(1, Duration::from_secs(5));
    let mail = mails.iter().find(|m| m.to == [admin.clone()]).expect("the test email reached the staff person");
    assert_eq!(mail.subject(), "[Test] Depot moves on Monday");
    assert!(mail.text().contains("Update the address."));
    let shown = console.get(&format!("/admin/messages/{id}")).await;
    assert!(shown.body.contains(&format!("Test email sent to {admin}")), "{}", shown.body);

    // The API names a staff address (a token has none), and only a staff address.
    let path = format!("/api/v1/messages/{id}/test-email");
    let (status, body) = app.admin(Method::POST, &path, Some(json!({}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("API token has no address"), "{body}");
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"to": "someone@elsewhere.example"}))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("staff"), "{body}");
    let (status, body) = app.admin(Method::POST, &path, Some(json!({"to": admin}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["subject"], "[Test] Depot moves on Monday");
    let analyst = app.call(Method::POST, &path, Some(&app.analyst.clone()), Some(json!({"to": admin}))).await;
    assert_eq!(analyst.status(), 403, "an analyst may not send test emails");
    assert_eq!(app.smtp.wait_for(2, Duration::from_secs(5)).len(), 2);

    // Made a test member as the explanation says, one of the audience gets the test send.
    let rule = json!({"rule": "partner.external_id = \"P-1002\""});
    let (_, audience) = app.admin(Method::POST, "/api/v1/audiences/preview", Some(rule)).await;
    let member = audience["sample"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) =
        app.admin(Method::PATCH, &format!("/api/v1/members/{member}"), Some(json!({"status": "test"}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, report) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/test-send"), None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["recipients"], 1);
    app
}
