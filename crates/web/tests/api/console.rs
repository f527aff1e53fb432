//! The admin console over HTTP as a browser uses it: staff sign-in, the recall notice from
//! compose to compliance while members acknowledge, the evidence export, and what each
//! role may see and do on every console route.

use reqwest::Method;
use serde_json::json;
use tidings_app::Caller;
use tidings_core::StaffRole;

use crate::both_engines;
use crate::browse::{Browser, Page, fields};
use crate::helpers::{TestApp, opt_in_to_email, read};

both_engines!(
    staff_sign_in_with_a_password_and_out,
    a_channel_manager_sends_a_recall_and_watches_acknowledgments_arrive,
    each_role_sees_and_does_what_it_may_on_every_console_route,
    compose_explains_what_is_wrong_and_keeps_what_was_typed,
    a_segment_is_built_counted_explained_and_saved,
    a_must_know_message_waits_for_a_second_persons_approval,
    admins_manage_staff_and_api_tokens,
    the_directory_is_searched_exported_and_imported_with_a_preview,
    topic_policies_are_edited_per_role,
    ladders_are_edited_and_given_to_topics,
    triggers_are_made_and_events_posted_from_the_console,
    sequences_are_made_from_the_console_and_show_their_funnel,
    quiet_partners_are_found_and_their_tasks_done_from_the_console,
    a_recall_goes_at_the_time_and_in_the_zone_its_author_chose,
    a_new_staff_password_signs_the_person_out_everywhere,
);

const PASSWORD: &str = "correct horse battery";

/// A staff person with a password, for `role`.
pub(crate) async fn staff(app: &TestApp, role: StaffRole) -> String {
    let email = format!("{role}@vendor.example");
    tidings_app::staff::add(&app.app, &Caller::operator(), &email, &format!("Pat {role}"), role).await.unwrap();
    tidings_app::passwords::set_staff(&app.app, &Caller::operator(), &email, PASSWORD).await.unwrap();
    email
}

pub(crate) async fn signed_in(app: &TestApp, email: &str) -> Browser {
    let mut browser = Browser::new(app);
    let form = browser.get("/admin/sign-in").await;
    let done =
        browser.post("/admin/sign-in", &[("csrf", &form.csrf()), ("email", email), ("password", PASSWORD)]).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/admin")), "{}", done.body);
    browser
}

async fn staff_sign_in_with_a_password_and_out(app: TestApp) -> TestApp {
    let email = staff(&app, StaffRole::Analyst).await;
    let mut browser = Browser::new(&app);
    let stranger = browser.get("/admin").await;
    assert_eq!((stranger.status, stranger.location.as_deref()), (303, Some("/admin/sign-in")));
    let form = browser.get("/admin/sign-in").await;
    let cookie = form.set_cookie.clone().unwrap();
    assert!(cookie.contains("tidings_admin=") && cookie.contains("Path=/admin") && cookie.contains("HttpOnly"));
    for (who, secret) in [(email.as_str(), "a wrong password!"), ("nobody@vendor.example", PASSWORD)] {
        let refused =
            browser.post("/admin/sign-in", &[("csrf", &form.csrf()), ("email", who), ("password", secret)]).await;
        assert_eq!(refused.status, 400);
        assert!(refused.body.contains("The email address or the password is wrong."));
    }
    let forged = browser.post("/admin/sign-in", &[("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 403, "a form without the session's token is refused");

    let before = browser.cookie.clone();
    let done =
        browser.post("/admin/sign-in", &[("csrf", &form.csrf()), ("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(done.status, 303);
    assert_ne!(browser.cookie, before, "signing in gives a new session id");
    let home = browser.get("/admin").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Pat analyst (analyst)"));
    assert!(!home.body.contains("href=\"/admin/audit\""), "analysts have no audit log link");
    let csp = "script-src 'self'";
    let headers = app.client.get(format!("{}/admin/sign-in", app.base)).send().await.unwrap();
    assert!(headers.headers()["content-security-policy"].to_str().unwrap().contains(csp));

    // A portal session is not a console session.
    let mut portal = Browser::new(&app);
    portal.cookie = browser.cookie.as_ref().map(|c| c.replace("tidings_admin=", "tidings_portal="));
    assert_eq!(portal.get("/admin").await.status, 303);

    let out = browser.post("/admin/sign-out", &[("csrf", &home.csrf())]).await;
    assert_eq!(out.location.as_deref(), Some("/admin/sign-in"));
    assert_eq!(browser.get("/admin").await.status, 303);
    app
}

/// The topic's id as the compose form offers it.
fn option_value(page: &Page, label: &str) -> String {
    let end = page.body.find(&format!("\">{label}</option>")).unwrap_or_else(|| panic!("no option {label}"));
    let start = page.body[..end].rfind("value=\"").unwrap() + "value=\"".len();
    page.body[start..end].to_owned()
}

fn recall(csrf: String, topic: String, intent: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf),
        ("topic_id", topic),
        ("importance", "critical".into()),
        ("default_locale", "en".into()),
        ("title@en", "Recall of battery lots A1 and B2".into()),
        ("summary@en", "Two lots must be pulled from stock".into()),
        ("what_changed@en", "We found a fault in **two lots**.".into()),
        ("why_it_matters@en", "Customers could be hurt.".into()),
        // As a browser posts a textarea: CRLF line ends.
        ("what_to_do@en", "1. Pull the stock of {{ partner.name }} today.\r\n2. Tell your customers.".into()),
        ("cta_label@en", "Start the return".into()),
        ("cta_url@en", "https://vendor.example/returns".into()),
        ("ack_statement", "We have pulled the affected stock".into()),
        ("ack_due", "2099-01-15".into()),
        ("type", "distributor".into()),
        ("role", "support".into()),
        ("role", "operations".into()),
        ("intent", intent.into()),
    ]
}

/// The number of members the demo data has in distributors with a support or operations role.
async fn distributor_support_and_operations(app: &TestApp) -> i64 {
    let rule = "partner.type = \"distributor\" and member.role in (\"support\", \"operations\")";
    let (_, count) = app.admin(Method::POST, "/api/v1/audiences/preview", Some(json!({"rule": rule}))).await;
    count["size"].as_i64().unwrap()
}

async fn a_channel_manager_sends_a_recall_and_watches_acknowledgments_arrive(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    opt_in_to_email(&app, "partner.type = \"distributor\" and member.role in (\"support\", \"operations\")").await;
    let expected = distributor_support_and_operations(&app).await;
    assert!(expected > 5);
    let email = staff(&app, StaffRole::Author).await;
    let mut browser = signed_in(&app, &email).await;

    // Compose: the builder counts the audience before anything is saved.
    let form = browser.get("/admin/messages/new").await;
    assert_eq!(form.status, 200);
    let topic = option_value(&form, "Operations");
    let counted = browser.post("/admin/messages", &fields(&recall(form.csrf(), topic.clone(), "check"))).await;
    assert_eq!(counted.status, 200, "{}", counted.body);
    assert!(counted.body.contains(&format!("<strong>{expected}</strong> member(s) would get this message")));
    let saved = browser.post("/admin/messages", &fields(&recall(form.csrf(), topic, "save"))).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page_url = saved.location.unwrap();
    let id = page_url.rsplit('/').next().unwrap().to_owned();

    // The message page: no warnings, the audience, and the preview as the first member.
    let page = browser.get(&page_url).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No warnings"), "{}", page.body);
    assert!(page.body.contains(&format!("<strong>{expected}</strong> member(s).")));
    assert!(page.body.contains("id=\"inbox-preview\"") && page.body.contains("Pull the stock of "));
    let release = browser.post(&format!("{page_url}/release"), &[("csrf", &page.csrf())]).await;
    assert_eq!(release.status, 303, "{}", release.body);
    let released = browser.get(&page_url).await;
    assert!(released.body.contains(&format!("Released: {expected} inbox copies")), "{}", released.body);

    // Compliance: nobody yet, then one member acknowledges in their inbox.
    let report = browser.get(&format!("/admin/compliance/{id}")).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains(&format!("<span class=\"figure\">{expected}</span> outstanding")));
    assert!(report.body.contains("<p class=\"pager\">Partners 1&ndash;"), "the list says which partners it shows");
    let (_, audience) = app
        .admin(
            Method::POST,
            "/api/v1/audiences/preview",
            Some(json!({"rule": "partner.type = \"distributor\" and member.role in (\"support\", \"operations\")"})),
        )
        .await;
    let member = audience["sample"][0]["id"].as_str().unwrap().to_owned();
    let partner = audience["sample"][0]["partner_id"].as_str().unwrap().to_owned();
    acknowledge(&app, &member, &id).await;
    let report = browser.get(&format!("/admin/compliance/{id}")).await;
    assert!(report.body.contains("<span class=\"figure\">1</span> acknowledged"), "{}", report.body);
    assert!(report.body.contains(&format!("<span class=\"figure\">{}</span> outstanding", expected - 1)));
    let drill = browser.get(&format!("/admin/compliance/{id}/partners/{partner}")).await;
    assert_eq!(drill.status, 200);
    // The API says the same as the console, in numbers.
    let (status, api) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/compliance"), None).await;
    assert_eq!(status, 200, "{api}");
    let tally = &api["summary"]["tally"];
    assert_eq!((tally["recipients"].as_i64(), tally["acknowledged"].as_i64()), (Some(expected), Some(1)), "{api}");
    let (_, listed) = app.admin(Method::GET, "/api/v1/compliance", None).await;
    assert_eq!(listed[0]["message_id"], id.as_str());
    let (status, one) =
        app.admin(Method::GET, &format!("/api/v1/messages/{id}/compliance/partners/{partner}"), None).await;
    assert_eq!(status, 200, "{one}");
    let acked: Vec<&serde_json::Value> =
        one["members"].as_array().unwrap().iter().filter(|m| !m["acknowledged_at"].is_null()).collect();
    assert_eq!(acked.len(), 1);
    assert_eq!(acked[0]["member_id"], member.as_str());
    let csv = app
        .client
        .get(format!("{}/api/v1/messages/{id}/compliance.csv", app.base))
        .bearer_auth(&app.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count() as i64, expected + 1, "a header and a row per recipient");
    assert!(drill.body.contains("<span class=\"badge done\">") && drill.body.contains("127.0.0.1"));

    // The evidence: the export has every recipient, the printable report the acknowledgment.
    let export = app
        .client
        .get(format!("{}/admin/compliance/{id}/export.csv", app.base))
        .header("cookie", browser.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = export.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len() as i64, expected + 1, "a header and one row per recipient");
    assert!(lines[0].starts_with("member_id,name,email,partner_id,partner,roles,released_at"));
    let acked: Vec<&&str> = lines.iter().filter(|l| l.contains("We have pulled the affected stock")).collect();
    assert_eq!(acked.len(), 1);
    assert!(acked[0].starts_with(&member) && acked[0].contains("127.0.0.1"));
    let evidence = browser.get(&format!("/admin/compliance/{id}/evidence")).await;
    assert!(evidence.body.contains("1 of") && evidence.body.contains("127.0.0.1"), "{}", evidence.body);
    assert!(!evidence.body.contains("signed file"), "it claims no signature it does not have");
    assert!(evidence.body.contains("Proof an auditor checks without Tidings"), "{}", evidence.body);
    assert!(
        evidence.body.contains("/tidings-evidence/")
            && evidence.body.contains(&format!("tidings evidence export {id}"))
    );
    let (status, log) = app.admin(Method::GET, "/api/v1/evidence", None).await;
    assert_eq!(status, 200, "{log}");
    assert!(log["size"].as_u64().unwrap_or_default() + log["waiting"].as_u64().unwrap_or_default() > 0, "{log}");
    assert!(log["public_key"].as_str().is_some_and(|k| k.contains("/tidings-evidence/")), "{log}");
    let report = browser.get(&format!("/admin/messages/{id}/report")).await;
    assert_eq!(report.status, 200);
    assert!(report.body.contains(&format!("<tr><th scope=\"row\">Audience</th><td class=\"num\">{expected}</td>")));
    assert!(report.body.contains("<tr><th scope=\"row\">Acknowledged</th><td class=\"num\">1</td>"), "{}", report.body);
    assert!(report.body.contains("<svg class=\"chart\" role=\"img\""));
    let engagement = browser.get("/admin/engagement").await;
    assert!(engagement.body.contains("<span class=\"figure\">4</span> gone silent"), "the demo's quiet partners");
    let list = browser.get("/admin/compliance").await;
    assert!(list.body.contains("Recall of battery lots A1 and B2"));

    // Who did it is on record.
    let (_, log) = app.admin(Method::GET, &format!("/api/v1/audit?subject_id={id}"), None).await;
    let actions: Vec<(&str, &str)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"]["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(actions, [("message.release", "staff"), ("message.create", "staff")]);
    app
}

/// The member acknowledges the message through their inbox, with a member token.
pub(crate) async fn acknowledge(app: &TestApp, member: &str, message: &str) {
    let (_, token) = app.admin(Method::POST, &format!("/api/v1/members/{member}/token"), Some(json!({}))).await;
    let token = token["token"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/inbox/{message}");
    let (_, view) = read(app.call(Method::GET, &path, Some(&token), None).await).await;
    let body = Some(json!({"content_hash": view["rendered"]["content_hash"].clone()}));
    let (status, ack) = read(app.call(Method::POST, &format!("{path}/acknowledge"), Some(&token), body).await).await;
    assert_eq!(status, 200, "{ack}");
}

/// What a route answers a role: a page, a refusal, or a redirect after a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Page,
    Refused,
    Done,
}

async fn each_role_sees_and_does_what_it_may_on_every_console_route(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let (_, topics) = app.admin(Method::GET, "/api/v1/topics", None).await;
    let topic = topics["items"][0]["id"].as_str().unwrap().to_owned();
    let draft = json!({"topic_id": topic, "importance": "critical",
        "content": {"variants": {"en": {"title": "Role check", "what_to_do": "Nothing."}}},
        "audience": {"rule": "member.role = \"support\""},
        "acknowledgment": {"statement": "Seen"}});
    let (_, message) = app.admin(Method::POST, "/api/v1/messages", Some(draft)).await;
    let id = message["id"].as_str().unwrap().to_owned();
    let (status, _) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200);
    let (_, another) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/copy"), None).await;
    let draft_id = another["id"].as_str().unwrap().to_owned();

    use Answer::{Done, Page, Refused};
    // Route, then the answer for admin, author, approver and analyst.
    let reads: Vec<(String, [Answer; 4])> = vec![
        ("/admin".into(), [Page; 4]),
        ("/admin/messages".into(), [Page; 4]),
        (format!("/admin/messages/{id}"), [Page; 4]),
        ("/admin/messages/new".into(), [Page, Page, Refused, Refused]),
        (format!("/admin/messages/{draft_id}/edit"), [Page, Page, Refused, Refused]),
        ("/admin/compliance".into(), [Page; 4]),
        ("/admin/overdue".into(), [Page; 4]),
        ("/admin/overdue?all=1".into(), [Page; 4]),
        (format!("/admin/compliance/{id}"), [Page; 4]),
        (format!("/admin/messages/{id}/report"), [Page; 4]),
        (format!("/admin/compliance/{id}/evidence"), [Page; 4]),
        (format!("/admin/compliance/{id}/export.csv"), [Page; 4]),
        ("/admin/audit".into(), [Page, Refused, Refused, Refused]),
        ("/admin/segments".into(), [Page; 4]),
        ("/admin/segments/new".into(), [Page; 4]),
        ("/admin/settings".into(), [Page, Refused, Refused, Refused]),
        ("/admin/system".into(), [Page, Refused, Refused, Refused]),
        ("/admin/engagement".into(), [Page; 4]),
        ("/admin/staff".into(), [Page, Refused, Refused, Refused]),
        ("/admin/partners".into(), [Page; 4]),
        ("/admin/topics".into(), [Page; 4]),
        ("/admin/ladders".into(), [Page; 4]),
        ("/admin/automation".into(), [Page; 4]),
        ("/admin/automation/triggers/new".into(), [Page, Page, Refused, Refused]),
        ("/admin/automation/sequences/new".into(), [Page, Page, Refused, Refused]),
        ("/admin/tasks".into(), [Page; 4]),
        ("/admin/tasks?mine=true&done=true".into(), [Page; 4]),
        ("/admin/members".into(), [Page; 4]),
        ("/admin/partners/export.csv".into(), [Page; 4]),
        ("/admin/import".into(), [Page, Refused, Refused, Refused]),
        ("/admin/tokens".into(), [Page, Refused, Refused, Refused]),
        ("/admin/mail".into(), [Page, Refused, Refused, Refused]),
        ("/admin/chats".into(), [Page, Refused, Refused, Refused]),
    ];
    let writes: Vec<(String, [Answer; 4])> = vec![
        (format!("/admin/messages/{draft_id}/test-send"), [Done, Done, Refused, Refused]),
        (format!("/admin/messages/{draft_id}/test-email"), [Done, Done, Refused, Refused]),
        (format!("/admin/messages/{draft_id}/copy"), [Done, Done, Refused, Refused]),
        ("/admin/segments".into(), [Done, Done, Refused, Refused]),
        (format!("/admin/messages/{draft_id}/approve"), [Done, Refused, Done, Refused]),
        ("/admin/settings".into(), [Done, Refused, Refused, Refused]),
        ("/admin/settings/evidence-key/rotate".into(), [Done, Refused, Refused, Refused]),
        ("/admin/tasks/find".into(), [Done, Refused, Refused, Refused]),
        ("/admin/tasks/policy".into(), [Done, Refused, Refused, Refused]),
    ];
    for (i, role) in StaffRole::ALL.into_iter().enumerate() {
        let email = staff(&app, role).await;
        let mut browser = signed_in(&app, &email).await;
        for (path, answers) in &reads {
            let page = browser.get(path).await;
            let got = match page.status {
                200 => Page,
                403 => Refused,
                other => panic!("{role} GET {path}: {other} {}", page.body),
            };
            assert_eq!(got, answers[i], "{role} GET {path}");
        }
        let home = browser.get("/admin").await;
        for (path, answers) in &writes {
            let form =
                [("csrf", home.csrf()), ("name", format!("By {role}")), ("rule", "member.role = \"sales\"".into())];
            let form = [&form[..], &[("intent", "save".to_owned())]].concat();
            let page = browser.post(path, &fields(&form)).await;
            let got = match page.status {
                303 => Done,
                // Allowed, but the message has moved on (an earlier role cancelled it).
                409 if path.ends_with("/approve") => Done,
                403 => Refused,
                other => panic!("{role} POST {path}: {other} {}", page.body),
            };
            assert_eq!(got, answers[i], "{role} POST {path}");
        }
        // Releasing and cancelling, last: an admin's release leaves nothing to release after.
        let cancel = browser.post(&format!("/admin/messages/{draft_id}/cancel"), &[("csrf", &home.csrf())]).await;
        let expected = if role.may(tidings_core::Action::Compose) { 303 } else { 403 };
        assert!(
            cancel.status == expected || (cancel.status == 409 && expected == 303),
            "{role} cancel: {}",
            cancel.status
        );
    }
    app
}

async fn compose_explains_what_is_wrong_and_keeps_what_was_typed(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let email = staff(&app, StaffRole::Admin).await;
    let mut browser = signed_in(&app, &email).await;
    let form = browser.get("/admin/messages/new").await;
    let mut bad = recall(form.csrf(), String::new(), "save");
    bad.retain(|(name, _)| *name != "role");
    bad.push(("rule", "partner.tier > 3".into()));
    bad.push(("cta_url@en", "javascript:alert(1)".into()));
    let refused = browser.post("/admin/messages", &fields(&bad)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Nothing was saved"));
    assert!(refused.body.contains("<strong>Topic</strong>: choose a topic"), "fields named by their labels");
    assert!(refused.body.contains("Recall of battery lots A1 and B2"), "what was typed stays");
    let (_, list) = app.admin(Method::GET, "/api/v1/messages", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);

    // A second language, then warnings on the saved message.
    let mut with_locale = recall(form.csrf(), option_value(&form, "Operations"), "add_locale");
    with_locale.push(("new_locale", "de".into()));
    let added = browser.post("/admin/messages", &fields(&with_locale)).await;
    assert!(added.body.contains("name=\"title@de\""), "{}", added.body);
    let mut risky = recall(form.csrf(), option_value(&form, "Operations"), "save");
    risky.retain(|(name, _)| !name.starts_with("ack_"));
    risky.push(("what_changed@en", "See http://vendor.example/lots and https://10.1.2.3/x".into()));
    let saved = browser.post("/admin/messages", &fields(&risky)).await;
    let page = browser.get(&saved.location.unwrap()).await;
    for code in ["critical_without_acknowledgment", "unsafe_link", "broken_link"] {
        assert!(page.body.contains(&format!("<strong>{code}</strong>")), "{code} in {}", page.body);
    }
    app
}

async fn a_segment_is_built_counted_explained_and_saved(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let expected = distributor_support_and_operations(&app).await;
    let email = staff(&app, StaffRole::Author).await;
    let mut browser = signed_in(&app, &email).await;
    let form = browser.get("/admin/segments/new").await;
    assert_eq!(form.status, 200);
    let builder = |intent: &str, member: &str| {
        vec![
            ("csrf", form.csrf()),
            ("name", "Distributor support and operations".to_owned()),
            ("type", "distributor".to_owned()),
            ("role", "support".to_owned()),
            ("role", "operations".to_owned()),
            ("member", member.to_owned()),
            ("intent", intent.to_owned()),
        ]
    };
    let counted = browser.post("/admin/segments", &fields(&builder("count", ""))).await;
    assert_eq!(counted.status, 200);
    assert!(counted.body.contains(&format!("<strong>{expected}</strong> member(s).")), "{}", counted.body);
    assert!(counted.body.contains("<td>distributor</td><td class=\"num\">"), "the breakdown");

    // The live count answers the same, as JSON.
    let live = app
        .client
        .post(format!("{}/admin/audience/count", app.base))
        .header("cookie", browser.cookie.clone().unwrap())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields(&builder("count", ""))).unwrap())
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(live["size"], expected);

    // Explain one member who is in and one who is out.
    let (_, sales) = app.admin(Method::GET, "/api/v1/members?role=sales&limit=1", None).await;
    let outsider = sales["items"][0]["email"].as_str().unwrap().to_owned();
    let explained = browser.post("/admin/segments", &fields(&builder("explain", &outsider))).await;
    assert!(explained.body.contains(&format!("<strong>{outsider}</strong>")), "{}", explained.body);
    assert!(explained.body.contains("is <strong>out</strong>"));

    let saved = browser.post("/admin/segments", &fields(&builder("save", ""))).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = browser.get(&saved.location.unwrap()).await;
    assert!(
        page.body.contains("Segment &#34;Distributor support and operations&#34; saved.")
            || page.body.contains("saved.")
    );
    let (_, list) = app.admin(Method::GET, "/api/v1/segments", None).await;
    assert_eq!(
        list["items"][0]["rule"],
        "partner.type in (\"distributor\") and member.role in (\"support\", \"operations\")"
    );

    // A bad rule is refused with its position, and nothing is saved.
    let mut bad = builder("save", "");
    bad.push(("rule", "partner.tier > 3".to_owned()));
    bad[1].1 = "Broken".to_owned();
    let refused = browser.post("/admin/segments", &fields(&bad)).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("Nothing was saved"));
    let (_, list) = app.admin(Method::GET, "/api/v1/segments", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    app
}

async fn a_must_know_message_waits_for_a_second_persons_approval(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let admin = staff(&app, StaffRole::Admin).await;
    let author = staff(&app, StaffRole::Author).await;
    let approver = staff(&app, StaffRole::Approver).await;

    let mut boss = signed_in(&app, &admin).await;
    let settings = boss.get("/admin/settings").await;
    let saved = boss.post("/admin/settings", &[("csrf", &settings.csrf()), ("importance", "critical")]).await;
    assert_eq!(saved.status, 303);
    let settings = boss.get("/admin/settings").await;
    assert!(settings.body.contains("value=\"critical\" checked"));
    assert!(settings.body.contains("Web push public key (VAPID)"), "the channels' setup is on the settings page");
    let rotated = boss.post("/admin/settings/evidence-key/rotate", &[("csrf", &settings.csrf())]).await;
    assert_eq!(rotated.status, 303);
    let settings = boss.get("/admin/settings").await;
    assert!(settings.body.contains("The evidence key was rotated") && settings.body.contains("Earlier keys"));

    let mut writer = signed_in(&app, &author).await;
    let form = writer.get("/admin/messages/new").await;
    let saved =
        writer.post("/admin/messages", &fields(&recall(form.csrf(), option_value(&form, "Operations"), "save"))).await;
    let url = saved.location.unwrap();
    let page = writer.get(&url).await;
    assert!(page.body.contains("Needs approval"));
    assert!(!page.body.contains("/release\""), "no send button while it waits");
    let refused = writer.post(&format!("{url}/release"), &[("csrf", &page.csrf())]).await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("second person"), "{}", refused.body);
    let own = writer.post(&format!("{url}/approve"), &[("csrf", &page.csrf())]).await;
    assert_eq!(own.status, 403, "authors do not approve");

    let mut reviewer = signed_in(&app, &approver).await;
    let home = reviewer.get("/admin").await;
    assert!(home.body.contains("Awaiting approval") && home.body.contains(&url), "{}", home.body);
    let approved = reviewer.post(&format!("{url}/approve"), &[("csrf", &home.csrf())]).await;
    assert_eq!(approved.status, 303);
    assert!(reviewer.get(&url).await.body.contains("Approved</span> by Pat approver"));

    let page = writer.get(&url).await;
    let sent = writer.post(&format!("{url}/release"), &[("csrf", &page.csrf())]).await;
    assert_eq!(sent.status, 303);
    assert!(writer.get(&url).await.body.contains("Released:"));
    app
}

async fn admins_manage_staff_and_api_tokens(app: TestApp) -> TestApp {
    let admin = staff(&app, StaffRole::Admin).await;
    let mut boss = signed_in(&app, &admin).await;
    let page = boss.get("/admin/staff").await;
    assert!(page.body.contains("(you)"));
    let form = [
        ("csrf", page.csrf()),
        ("email", "nina@vendor.example".to_owned()),
        ("name", "Nina New".to_owned()),
        ("role", "analyst".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let added = boss.post("/admin/staff", &fields(&form)).await;
    assert_eq!(added.status, 303, "{}", added.body);
    let mut nina = signed_in(&app, "nina@vendor.example").await;
    assert!(nina.get("/admin").await.body.contains("Nina New (analyst)"));

    let listing = boss.get("/admin/staff").await;
    let nina_id = {
        let at = listing.body.find("Nina New").unwrap();
        let form_at = listing.body[at..].find("action=\"/admin/staff/").unwrap() + at + "action=\"/admin/staff/".len();
        listing.body[form_at..form_at + 36].to_owned()
    };
    let promoted =
        boss.post(&format!("/admin/staff/{nina_id}/role"), &[("csrf", &listing.csrf()), ("role", "author")]).await;
    assert_eq!(promoted.status, 303);
    assert!(nina.get("/admin").await.body.contains("Nina New (author)"), "a role change applies at once");
    let removed = boss.post(&format!("/admin/staff/{nina_id}/remove"), &[("csrf", &listing.csrf())]).await;
    assert_eq!(removed.status, 303);
    assert_eq!(nina.get("/admin").await.status, 303, "a removed person is signed out");

    // Tokens: the secret once, then it works on the API until revoked.
    let tokens = boss.get("/admin/tokens").await;
    let made = boss.post("/admin/tokens", &[("csrf", &tokens.csrf()), ("name", "crm-sync"), ("role", "analyst")]).await;
    assert_eq!(made.status, 200);
    let at = made.body.find("<code>tid_").unwrap() + "<code>".len();
    let secret = made.body[at..].split('<').next().unwrap().to_owned();
    let (status, _) = read(app.call(Method::GET, "/api/v1/partners", Some(&secret), None).await).await;
    assert_eq!(status, 200);
    assert!(!boss.get("/admin/tokens").await.body.contains(&secret), "shown once");
    let list = boss.get("/admin/tokens").await;
    let id_at = list.body.find("/revoke\"").unwrap();
    let token_id = list.body[..id_at].rsplit('/').next().unwrap().to_owned();
    let revoked = boss.post(&format!("/admin/tokens/{token_id}/revoke"), &[("csrf", &list.csrf())]).await;
    assert_eq!(revoked.status, 303);
    let (status, _) = read(app.call(Method::GET, "/api/v1/partners", Some(&secret), None).await).await;
    assert_eq!(status, 401, "a revoked token is refused");
    let (_, log) = app.admin(Method::GET, "/api/v1/audit?action=token", None).await;
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.starts_with(&["token.revoke", "token.create"]), "{actions:?}");
    app
}

async fn the_directory_is_searched_exported_and_imported_with_a_preview(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let email = staff(&app, StaffRole::Admin).await;
    let mut browser = signed_in(&app, &email).await;

    let distributors = browser.get("/admin/partners?partner_type=distributor").await;
    assert_eq!(distributors.status, 200);
    let (_, api) = app.admin(Method::GET, "/api/v1/partners?partner_type=distributor&limit=500", None).await;
    let listed = distributors.body.matches("<tr><td><a href=\"/admin/partners/").count();
    assert_eq!(listed, api["items"].as_array().unwrap().len());
    let first = api["items"][0]["id"].as_str().unwrap().to_owned();
    let partner = browser.get(&format!("/admin/partners/{first}")).await;
    assert_eq!(partner.body.matches("<tr><td><a href=\"/admin/members/").count(), 10, "its ten members");
    let member_at = partner.body.find("href=\"/admin/members/").unwrap() + "href=\"".len();
    let member_url = partner.body[member_at..].split('"').next().unwrap().to_owned();
    let member = browser.get(&member_url).await;
    assert!(member.body.contains("<h2>Timeline</h2>") && member.body.contains("No message has reached them yet."));
    let found = browser.get("/admin/members?role=partner_lead&q=northwind").await;
    assert!(found.body.contains("northwind.example"), "{}", found.body);

    let export = app
        .client
        .get(format!("{}/admin/partners/export.csv", app.base))
        .header("cookie", browser.cookie.clone().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(export.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(export.text().await.unwrap().lines().count(), 41, "a header and the forty partners");

    // Import: the preview writes nothing and names each bad row; then the good rows land.
    let form = browser.get("/admin/import").await;
    let csv = "external_id,name,type,tier\nP-9001,Nordlicht GmbH,reseller,growth\nP-9002,,reseller,platinum\n";
    let preview = browser
        .post("/admin/import", &[("csrf", &form.csrf()), ("kind", "partners"), ("csv", csv), ("intent", "preview")])
        .await;
    assert_eq!(preview.status, 422, "{}", preview.body);
    assert!(preview.body.contains("Preview: nothing written yet"));
    assert!(preview.body.contains("Would create 1") && preview.body.contains("bad rows 1"), "{}", preview.body);
    assert!(preview.body.contains("<td>3</td><td>tier</td>"), "the bad row by line and column: {}", preview.body);
    let (_, none) = app.admin(Method::GET, "/api/v1/partners?q=P-9001", None).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0, "a preview writes nothing");
    let done = browser
        .post("/admin/import", &[("csrf", &form.csrf()), ("kind", "partners"), ("csv", csv), ("intent", "import")])
        .await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("Imported") && done.body.contains("Created 1"), "{}", done.body);
    let (_, one) = app.admin(Method::GET, "/api/v1/partners?q=P-9001", None).await;
    assert_eq!(one["items"][0]["name"], "Nordlicht GmbH");
    app
}

async fn topic_policies_are_edited_per_role(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let (_, topic) = app.admin(Method::GET, "/api/v1/topics?limit=500", None).await;
    let operations = topic["items"].as_array().unwrap().iter().find(|t| t["key"] == "operations").unwrap().clone();
    let id = operations["id"].as_str().unwrap().to_owned();
    let admin = staff(&app, StaffRole::Admin).await;
    let mut boss = signed_in(&app, &admin).await;
    let page = boss.get("/admin/topics").await;
    assert!(page.body.contains(&format!("action=\"/admin/topics/{id}\"")));
    let form = [
        ("csrf", page.csrf()),
        ("name", "Operations and recalls".to_owned()),
        ("description", "Ordering, logistics and recalls".to_owned()),
        ("default", "optional_off".to_owned()),
        ("role.support", "required".to_owned()),
        ("role.operations", "required".to_owned()),
        ("role.sales", "".to_owned()),
    ];
    let saved = boss.post(&format!("/admin/topics/{id}"), &fields(&form)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, after) = app.admin(Method::GET, &format!("/api/v1/topics/{id}"), None).await;
    assert_eq!(after["name"], "Operations and recalls");
    assert_eq!(after["policies"]["default"], "optional_off");
    assert_eq!(after["policies"]["by_role"]["support"], "required");
    assert!(after["policies"]["by_role"].get("sales").is_none(), "left on the default");

    let author = staff(&app, StaffRole::Author).await;
    let mut writer = signed_in(&app, &author).await;
    let seen = writer.get("/admin/topics").await;
    assert!(seen.body.contains(" disabled") && !seen.body.contains("Save Operations"), "authors read only");
    let refused = writer.post(&format!("/admin/topics/{id}"), &fields(&form)).await;
    assert_eq!(refused.status, 403);
    app
}

async fn ladders_are_edited_and_given_to_topics(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let admin = staff(&app, StaffRole::Admin).await;
    let mut boss = signed_in(&app, &admin).await;
    let page = boss.get("/admin/ladders").await;
    assert!(page.body.contains("Must-know recall") && page.body.contains("Chases the must-know messages of"));
    let form = |hours: &str| {
        vec![
            ("csrf", page.csrf()),
            ("key", "security-advisory".to_owned()),
            ("name", "Security advisory".to_owned()),
            ("hours.0", hours.to_owned()),
            ("target.0", "members".to_owned()),
            ("hours.1", "48".to_owned()),
            ("target.1", "partner_lead".to_owned()),
            ("hours.2", "".to_owned()),
            ("target.2", "".to_owned()),
            ("repeat", "1".to_owned()),
            ("any_hour", "1".to_owned()),
        ]
    };
    let bad = boss.post("/admin/ladders", &fields(&form("12h"))).await;
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.body.contains("step 1: &#39;12h&#39; is not a whole number of hours"), "{}", bad.body);
    let saved = boss.post("/admin/ladders", &fields(&form("12"))).await;
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/admin/ladders")), "{}", saved.body);
    let (_, ladder) = app.admin(Method::GET, "/api/v1/ladders/security-advisory", None).await;
    assert_eq!(
        ladder["steps"],
        json!([{"after_hours": 12, "target": "members"}, {"after_hours": 48, "target": "partner_lead"}])
    );
    assert_eq!((ladder["repeat"].clone(), ladder["working_hours_only"].clone()), (json!(1), json!(false)));

    let (_, topics) = app.admin(Method::GET, "/api/v1/topics?limit=500", None).await;
    let topic =
        topics["items"].as_array().unwrap().iter().find(|t| t["key"] == "product-updates").unwrap()["id"].clone();
    let topic = topic.as_str().unwrap();
    let page = boss.get("/admin/ladders").await;
    let picked = boss
        .post(
            &format!("/admin/ladders/topics/{topic}"),
            &fields(&[("csrf", page.csrf()), ("ladder", "security-advisory".into())]),
        )
        .await;
    assert_eq!(picked.status, 303, "{}", picked.body);
    let (_, chosen) = app.admin(Method::GET, &format!("/api/v1/topics/{topic}/ladder"), None).await;
    assert_eq!(chosen["ladder"], "security-advisory");

    let author = staff(&app, StaffRole::Author).await;
    let mut writer = signed_in(&app, &author).await;
    let seen = writer.get("/admin/ladders").await;
    assert!(seen.body.contains(" disabled") && !seen.body.contains("Save Security advisory"), "authors read only");
    assert_eq!(writer.post("/admin/ladders", &fields(&form("12"))).await.status, 403);

    let deleted = boss.post("/admin/ladders/security-advisory/delete", &fields(&[("csrf", page.csrf())])).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.admin(Method::GET, "/api/v1/ladders/security-advisory", None).await.0, 404);
    app
}

/// The author in Berlin schedules for 09:00 with the browser's datetime-local field (no
/// seconds, no zone) and a due time for 17:00: both are kept in Berlin time, stated with
/// their zone and UTC, and the page says when that is on recipients' clocks elsewhere.
async fn a_recall_goes_at_the_time_and_in_the_zone_its_author_chose(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let email = staff(&app, StaffRole::Author).await;
    let mut browser = signed_in(&app, &email).await;
    let form = browser.get("/admin/messages/new").await;
    let topic = option_value(&form, "Operations");
    let mut recall = recall(form.csrf(), topic, "save");
    recall.retain(|(name, _)| *name != "ack_due");
    recall.push(("ack_due", "2099-12-31 17:00".into()));
    recall.push(("time_zone", "Europe/Berlin".into()));
    let saved = browser.post("/admin/messages", &fields(&recall)).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page_url = saved.location.unwrap();
    let page = browser.get(&page_url).await;
    assert!(
        page.body.contains("acknowledgment due 2099-12-31 17:00 Europe/Berlin (2099-12-31 16:00 UTC)"),
        "{}",
        page.body
    );
    // Nobody in the demo has opted in to email: the checks say so before it goes.
    assert!(page.body.contains("<strong>channel_reach</strong>: email reaches 0 of "), "{}", page.body);
    let edit = browser.get(&format!("{page_url}/edit")).await;
    assert!(edit.body.contains("value=\"2099-12-31 17:00\""), "the due time reads back as it was given");

    let scheduled = browser
        .post(
            &format!("{page_url}/schedule"),
            &[("csrf", &page.csrf()), ("send_at", "2099-12-24T09:00"), ("time_zone", "Europe/Berlin")],
        )
        .await;
    assert_eq!(scheduled.status, 303, "{}", scheduled.body);
    let page = browser.get(&page_url).await;
    assert!(
        page.body.contains("Scheduled for 2099-12-24 09:00 Europe/Berlin (2099-12-24 08:00 UTC)."),
        "{}",
        page.body
    );
    assert!(page.body.contains("scheduled for 2099-12-24 09:00 Europe/Berlin"));
    assert!(page.body.contains("On recipients&#x27; clocks:") || page.body.contains("On recipients' clocks:"));
    assert!(page.body.contains("in America/"), "the demo has members in the Americas: {}", page.body);
    app
}

/// After `tidings staff password` (a lost or leaked password replaced), whoever was signed
/// in with the old one is signed out.
async fn a_new_staff_password_signs_the_person_out_everywhere(app: TestApp) -> TestApp {
    let email = staff(&app, StaffRole::Author).await;
    let mut browser = signed_in(&app, &email).await;
    assert_eq!(browser.get("/admin").await.status, 200);
    tidings_app::passwords::set_staff(&app.app, &Caller::operator(), &email, "another long passphrase").await.unwrap();
    let gone = browser.get("/admin").await;
    assert_eq!((gone.status, gone.location.as_deref()), (303, Some("/admin/sign-in")), "{}", gone.body);
    app
}

async fn triggers_are_made_and_events_posted_from_the_console(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let admin = staff(&app, StaffRole::Admin).await;
    let mut boss = signed_in(&app, &admin).await;
    let form = boss.get("/admin/automation/triggers/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let trigger = |title: &str| {
        vec![
            ("csrf", form.csrf()),
            ("key", "deal-rejected".to_owned()),
            ("name", "Deal rejected".to_owned()),
            ("event_type", "deal.rejected".to_owned()),
            ("condition", String::new()),
            ("recipients", "member".to_owned()),
            ("topic", "incentives".to_owned()),
            ("importance", "action".to_owned()),
            ("channels", "inbox".to_owned()),
            ("delay_minutes", "0".to_owned()),
            ("enabled", "1".to_owned()),
            ("title", title.to_owned()),
            // As a browser posts a textarea: CRLF line ends.
            ("why_it_matters", "The reason:\r\n{{ event.reason }}".to_owned()),
            ("what_to_do", "Register it again.".to_owned()),
        ]
    };
    let bad = boss.post("/admin/automation/triggers", &fields(&trigger("Deal {{ event.deal_number }} rejected"))).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("Nothing was saved") && bad.body.contains("reads event.deal_number"), "{}", bad.body);
    assert!(bad.body.contains("Deal {{ event.deal_number }} rejected"), "what was typed stays");
    let saved = boss.post("/admin/automation/triggers", &fields(&trigger("Deal {{ event.deal_id }} rejected"))).await;
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/admin/automation")), "{}", saved.body);
    let (_, t) = app.admin(Method::GET, "/api/v1/triggers/deal-rejected", None).await;
    assert_eq!((t["recipients"].as_str(), t["channels"].clone()), (Some("member"), json!(["inbox"])), "{t}");
    let edit = boss.get("/admin/automation/triggers/deal-rejected").await;
    assert!(edit.body.contains("Deal {{ event.deal_id }} rejected"), "{}", edit.body);

    let (_, members) = app.admin(Method::GET, "/api/v1/members?limit=1", None).await;
    let email = members["items"][0]["email"].as_str().unwrap().to_owned();
    let page = boss.get("/admin/automation").await;
    let event = |data: &str| {
        vec![
            ("csrf", page.csrf()),
            ("event_type", "deal.rejected".to_owned()),
            ("partner", String::new()),
            ("member", email.clone()),
            ("idempotency_key", "console-1".to_owned()),
            ("data", data.to_owned()),
        ]
    };
    let refused = boss.post("/admin/automation/events", &fields(&event("{deal_id: 1}"))).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("is not JSON") && refused.body.contains("{deal_id: 1}"), "{}", refused.body);
    let missing = boss.post("/admin/automation/events", &fields(&event(r#"{"deal_id": "D-1"}"#))).await;
    assert_eq!(missing.status, 422);
    assert!(missing.body.contains("Reason</strong>: is required"), "{}", missing.body);
    let posted = boss
        .post("/admin/automation/events", &fields(&event(r#"{"deal_id": "D-1", "reason": "Out of territory"}"#)))
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let waiting = boss.get("/admin/automation").await;
    assert!(waiting.body.contains("waiting for the next run"), "{}", waiting.body);
    tidings_app::automation::firing::run_due(&app.app).await.unwrap();
    let answered = boss.get("/admin/automation").await;
    assert!(answered.body.contains("message sent"), "{}", answered.body);
    let member = boss.get(&format!("/admin/members/{}", members["items"][0]["id"].as_str().unwrap())).await;
    assert!(
        member.body.contains("Events from the CRM") && member.body.contains("<code>deal.rejected</code>"),
        "{}",
        member.body
    );
    let partner = boss.get(&format!("/admin/partners/{}", members["items"][0]["partner_id"].as_str().unwrap())).await;
    assert!(partner.body.contains("Out of territory"), "the partner's timeline has it too");

    let author = staff(&app, StaffRole::Author).await;
    let mut writer = signed_in(&app, &author).await;
    let seen = writer.get("/admin/automation").await;
    assert!(!seen.body.contains("Post the event"), "posting events is for admins");
    assert_eq!(writer.post("/admin/automation/events", &fields(&event("{}"))).await.status, 403);
    let deleted = boss.post("/admin/automation/triggers/deal-rejected/delete", &fields(&[("csrf", page.csrf())])).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.admin(Method::GET, "/api/v1/triggers/deal-rejected", None).await.0, 404);
    app
}

async fn sequences_are_made_from_the_console_and_show_their_funnel(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let author = staff(&app, StaffRole::Author).await;
    let mut writer = signed_in(&app, &author).await;
    let form = writer.get("/admin/automation/sequences/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    let sequence = |wait: &str| {
        vec![
            ("csrf", form.csrf()),
            ("key", "onboarding".to_owned()),
            ("name", "Onboarding".to_owned()),
            ("entry_event", "member.created".to_owned()),
            ("entry_condition", String::new()),
            ("goal_event", "deal.registered".to_owned()),
            ("topic", "announcements".to_owned()),
            ("enabled", "1".to_owned()),
            ("name.0", "Welcome".to_owned()),
            ("wait.0", "0".to_owned()),
            ("condition.0", String::new()),
            ("importance.0", "info".to_owned()),
            ("title.0", "Welcome, {{ member.first_name }}".to_owned()),
            ("what_to_do.0", "Look around.\r\nThen tell us.".to_owned()),
            ("name.1", "Profile".to_owned()),
            ("wait.1", wait.to_owned()),
            ("condition.1", "member.attr.profile_complete != true".to_owned()),
            ("importance.1", "info".to_owned()),
            ("title.1", "Complete your profile".to_owned()),
            ("what_to_do.1", String::new()),
            // A blank row is left out.
            ("name.2", String::new()),
            ("wait.2", String::new()),
            ("condition.2", String::new()),
            ("importance.2", "info".to_owned()),
            ("title.2", String::new()),
            ("what_to_do.2", String::new()),
        ]
    };
    let bad = writer.post("/admin/automation/sequences", &fields(&sequence("a day"))).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("&#39;a day&#39; is not a number of hours"), "{}", bad.body);
    assert!(bad.body.contains("Complete your profile"), "what was typed stays");
    let saved = writer.post("/admin/automation/sequences", &fields(&sequence("24"))).await;
    assert_eq!(
        (saved.status, saved.location.as_deref()),
        (303, Some("/admin/automation/sequences/onboarding")),
        "{}",
        saved.body
    );
    let (_, s) = app.admin(Method::GET, "/api/v1/sequences/onboarding", None).await;
    assert_eq!(s["steps"].as_array().map(Vec::len), Some(2), "{s}");
    assert_eq!(s["steps"][1]["after_minutes"], 1440);

    let (_, members) = app.admin(Method::GET, "/api/v1/members?limit=2", None).await;
    for (i, m) in members["items"].as_array().unwrap().iter().enumerate() {
        let event = json!({"idempotency_key": format!("joined-{i}"), "type": "member.created", "member": m["email"]});
        assert_eq!(app.admin(Method::POST, "/api/v1/events", Some(event)).await.0, 201);
    }
    tidings_app::automation::firing::run_due(&app.app).await.unwrap();
    tidings_app::automation::stepping::advance(&app.app).await.unwrap();
    let page = writer.get("/admin/automation/sequences/onboarding").await;
    assert!(page.body.contains("How far people got") && page.body.contains("1. Welcome"), "{}", page.body);
    let list = writer.get("/admin/automation").await;
    assert!(list.body.contains(">Onboarding</a>"), "{}", list.body);
    let analyst = staff(&app, StaffRole::Analyst).await;
    let mut reader = signed_in(&app, &analyst).await;
    assert_eq!(reader.post("/admin/automation/sequences", &fields(&sequence("24"))).await.status, 403);
    let deleted = writer.post("/admin/automation/sequences/onboarding/delete", &fields(&[("csrf", form.csrf())])).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(app.admin(Method::GET, "/api/v1/sequences/onboarding", None).await.0, 404);
    app
}

async fn quiet_partners_are_found_and_their_tasks_done_from_the_console(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let admin = staff(&app, StaffRole::Admin).await;
    let mut boss = signed_in(&app, &admin).await;
    let page = boss.get("/admin/tasks").await;
    assert!(
        page.body.contains("Nothing to do") && page.body.contains("When a partner counts as quiet"),
        "{}",
        page.body
    );
    let policy = |inactive: &str, action: &str| {
        vec![
            ("csrf", page.csrf()),
            ("enabled", "1".to_owned()),
            ("inactive_days", inactive.to_owned()),
            ("no_deal_days", String::new()),
            ("stale_deal_days", "45".to_owned()),
            ("action", action.to_owned()),
            ("sequence", String::new()),
            ("tier:strategic:inactive_days", "30".to_owned()),
            ("tier:strategic:no_deal_days", String::new()),
            ("tier:strategic:require_training", "yes".to_owned()),
            ("tier:growth:inactive_days", String::new()),
        ]
    };
    let refused = boss.post("/admin/tasks/policy", &fields(&policy("30", "sequence"))).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("the key of the reactivation sequence"), "{}", refused.body);
    let bad = boss.post("/admin/tasks/policy", &fields(&policy("a month", "task"))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("is not a whole number of days"), "{}", bad.body);
    let saved = boss.post("/admin/tasks/policy", &fields(&policy("65", "task"))).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, stored) = app.admin(Method::GET, "/api/v1/settings/silent-partners", None).await;
    assert_eq!(
        stored["thresholds"],
        json!({"inactive_days": 65, "no_deal_days": 0, "stale_deal_days": 45, "require_training": false})
    );
    let tiers = stored["tiers"].as_object().unwrap();
    assert_eq!(tiers.keys().collect::<Vec<_>>(), ["strategic"], "tiers left blank follow the defaults: {stored}");
    assert_eq!(
        (&tiers["strategic"]["inactive_days"], &tiers["strategic"]["require_training"]),
        (&json!(30), &json!(true))
    );
    let shown = boss.get("/admin/tasks").await;
    assert!(
        shown
            .body
            .contains("name=\"tier:strategic:inactive_days\" aria-label=\"strategic: nobody active for\" value=\"30\""),
        "{}",
        shown.body
    );
    let found = boss.post("/admin/tasks/find", &fields(&[("csrf", page.csrf())])).await;
    assert_eq!(found.status, 303);
    let listed = boss.get("/admin/tasks").await;
    assert!(listed.body.contains("partner(s) have gone quiet"), "the flash says how many");
    let quiet = listed.body.matches("has gone quiet</span>").count();
    assert!(quiet >= 3, "every tenth demo partner is quiet: {}", listed.body);
    let (_, tasks) = app.admin(Method::GET, "/api/v1/tasks", None).await;
    let id = tasks[0]["id"].as_str().unwrap().to_owned();
    let done = boss.post(&format!("/admin/tasks/{id}/done"), &fields(&[("csrf", page.csrf())])).await;
    assert_eq!(done.status, 303);
    let (_, open) = app.admin(Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(open.as_array().unwrap().len(), quiet - 1);
    let finished = boss.get("/admin/tasks?done=true").await;
    assert!(finished.body.contains(" by "), "{}", finished.body);
    app
}
