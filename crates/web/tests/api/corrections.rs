//! Correcting a message that went out, as people do it: over the API, in the console's
//! form (posted as a browser posts it), and as the member then sees it in the portal.

use reqwest::Method;
use serde_json::json;
use tidings_core::StaffRole;

use crate::both_engines;
use crate::browse::Browser;
use crate::console::{signed_in, staff};
use crate::helpers::TestApp;
use crate::portal::{directory, release};

both_engines!(a_material_correction_is_shown_to_members_who_confirm_again, the_console_corrects_a_message);

fn correction(kind: &str) -> serde_json::Value {
    json!({
        "kind": kind,
        "note": "Lot 10 is affected too.",
        "content": {"variants": {"en": {
            "title": "Recall of lot 9", "summary": "Summary of Recall of lot 9",
            "what_changed": "Two **lots** are affected.", "why_it_matters": "Safety first.",
            "what_to_do": "Pull lots 9 and 10 from stock today.",
            "call_to_action": {"label": "Start the return", "url": "https://vendor.example/returns"}}}}
    })
}

async fn a_material_correction_is_shown_to_members_who_confirm_again(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let ben = &emails[1];
    let recall = release(&app, &topic, &[&ids[1]], "critical", "Recall of lot 9", true).await;
    let mut browser = Browser::sign_in(&app, ben).await;
    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    let path = format!("/portal/messages/{recall}/acknowledge");
    let done = browser.post(&path, &[("csrf", &page.csrf()), ("content_hash", &page.field("content_hash"))]).await;
    assert_eq!(done.status, 303);

    // Refused with reasons, changing nothing.
    let corrections = format!("/api/v1/messages/{recall}/corrections");
    let (status, problem) = app.admin(Method::POST, &corrections, Some(json!({"kind": "sideways"}))).await;
    assert_eq!(status, 422, "{problem}");
    let said = problem.to_string();
    assert!(said.contains("material or editorial") && said.contains("note"), "{said}");

    let (status, done) = app.admin(Method::POST, &corrections, Some(correction("material"))).await;
    assert_eq!(status, 201, "{done}");
    assert_eq!((done["version"]["version"].as_u64(), done["acknowledgments_set_aside"].as_u64()), (Some(2), Some(1)));
    let (status, versions) = app.admin(Method::GET, &format!("/api/v1/messages/{recall}/versions"), None).await;
    assert_eq!(status, 200);
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");
    assert_eq!(versions[1]["changes"][0]["field"], "what_to_do", "{versions}");

    // Ben is asked again: the pop-up is back, and the page says what changed and why.
    assert!(browser.get("/portal").await.body.contains("<dialog open class=\"popup\""));
    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    for shown in
        ["Corrected", "Lot 10 is affected too.", "please read the message again", "<ins>", "You confirmed version 1"]
    {
        assert!(page.body.contains(shown), "the page lacks {shown}: {}", page.body);
    }
    let done = browser.post(&path, &[("csrf", &page.csrf()), ("content_hash", &page.field("content_hash"))]).await;
    assert_eq!(done.status, 303);
    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    assert!(page.body.contains("You confirmed this on"));
    app
}

async fn the_console_corrects_a_message(app: TestApp) -> TestApp {
    let (_, ids, topic) = directory(&app).await;
    let id = release(&app, &topic, &[&ids[0], &ids[2]], "critical", "Recall of lot 9", true).await;
    let author = staff(&app, StaffRole::Author).await;
    let mut console = signed_in(&app, &author).await;
    let message = console.get(&format!("/admin/messages/{id}")).await;
    assert!(message.body.contains(&format!("href=\"/admin/messages/{id}/correct\"")), "{}", message.body);
    let form = console.get(&format!("/admin/messages/{id}/correct")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("Pull them from stock today."), "the form holds the text as it stands");
    let csrf = form.csrf();
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("default_locale", "en"),
        ("title@en", "Recall of lot 9"),
        ("summary@en", "Summary of Recall of lot 9"),
        ("what_changed@en", "Two **lots** are affected."),
        ("why_it_matters@en", "Safety first."),
        ("what_to_do@en", "Pull them from stock today.\r\nTell us when it is done."),
        ("cta_label@en", "Start the return"),
        ("cta_url@en", "https://vendor.example/returns"),
        ("statement", "We have pulled the affected stock"),
        // A browser's textarea sends CRLF.
        ("note", "Asked for a word\r\nwhen it is done."),
    ];
    let missing = console.post(&format!("/admin/messages/{id}/correct"), &fields).await;
    assert_eq!(missing.status, 422, "no kind chosen");
    assert!(missing.body.contains("Nothing was saved") && missing.body.contains("Tell us when it is done."));
    fields.push(("kind", "editorial"));
    let done = console.post(&format!("/admin/messages/{id}/correct"), &fields).await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some(format!("/admin/messages/{id}").as_str())));
    let message = console.get(&format!("/admin/messages/{id}")).await;
    assert!(message.body.contains("Corrected as version 2: acknowledgments stand."), "{}", message.body);
    assert!(message.body.contains("id=\"versions\"") && message.body.contains("<ins>"), "{}", message.body);
    let (_, stored) = app.admin(Method::GET, &format!("/api/v1/messages/{id}"), None).await;
    let what_to_do = stored["content"]["variants"]["en"]["what_to_do"].as_str().unwrap_or_default();
    assert_eq!(what_to_do, "Pull them from stock today.\nTell us when it is done.", "line ends as one");

    // An analyst reads reports but corrects nothing.
    let analyst = staff(&app, StaffRole::Analyst).await;
    let mut reader = signed_in(&app, &analyst).await;
    let page = reader.get(&format!("/admin/messages/{id}")).await;
    assert!(!page.body.contains("/correct\""), "no correct button for an analyst");
    let own = page.csrf();
    fields[0] = ("csrf", own.as_str());
    let refused = reader.post(&format!("/admin/messages/{id}/correct"), &fields).await;
    assert_eq!(refused.status, 403);
    app
}
