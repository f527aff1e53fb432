//! Action attestation as people meet it: the author writes the form in the console, the
//! member answers it on the portal's message page (posted as a browser posts it), over the
//! inbox API, and the partner manager reads the answers added up on the compliance page.

use reqwest::Method;
use serde_json::json;
use tidings_core::StaffRole;

use crate::both_engines;
use crate::browse::Browser;
use crate::console::{signed_in, staff};
use crate::helpers::{TestApp, read};
use crate::portal::directory;

both_engines!(members_state_what_they_did_and_the_console_adds_it_up);

async fn members_state_what_they_did_and_the_console_adds_it_up(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let body = json!({
        "topic_id": topic, "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Quarantine lot 9."}}},
        "audience": {"members": [ids[1], ids[2]]},
        "acknowledgment": {"statement": "Quarantined.", "attestation": {"fields": [
            {"key": "units", "label": "Units quarantined", "type": "number", "min": 0, "max": 10000},
            {"key": "action", "label": "Action", "type": "choice", "multiple": true, "options": ["Quarantined", "Returned"]},
            {"key": "serials", "label": "Serial numbers", "type": "serials", "required": false}
        ]}}
    });
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let bad = json!({"acknowledgment": {"statement": "Quarantined.", "attestation": {"fields": [
        {"key": "units", "label": "", "type": "number", "min": 5, "max": 1}]}}});
    let (status, problem) = app.admin(Method::PATCH, &format!("/api/v1/messages/{id}"), Some(bad)).await;
    assert_eq!(status, 422, "{problem}");
    assert!(problem.to_string().contains("acknowledgment.attestation.fields.0.max"), "{problem}");

    // The console's compose form holds the form a field a line.
    let author = staff(&app, StaffRole::Author).await;
    let mut console = signed_in(&app, &author).await;
    let edit = console.get(&format!("/admin/messages/{id}/edit")).await;
    assert!(edit.body.contains("units | Units quarantined | number 0..10000"), "{}", edit.body);
    let (status, _) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200);

    // Ben answers on the message page: boxes ticked, serial numbers a line each.
    let mut ben = Browser::sign_in(&app, &emails[1]).await;
    let page = ben.get(&format!("/portal/messages/{id}")).await;
    for shown in ["name=\"answer.units\"", "type=\"checkbox\" name=\"answer.action\"", "name=\"answer.serials\""] {
        assert!(page.body.contains(shown), "the page lacks {shown}: {}", page.body);
    }
    let path = format!("/portal/messages/{id}/acknowledge");
    let (csrf, hash) = (page.csrf(), page.field("content_hash"));
    let missing = ben.post(&path, &[("csrf", &csrf), ("content_hash", &hash)]).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(missing.body.contains("Units quarantined is required"), "{}", missing.body);
    assert!(!missing.body.contains("answers.units"), "the member reads labels, not keys");
    let answers = [
        ("csrf", csrf.as_str()),
        ("content_hash", hash.as_str()),
        ("answer.units", "12"),
        ("answer.action", "Returned"),
        ("answer.action", "Quarantined"),
        ("answer.serials", "SN-1\r\nSN-2\r\n"),
    ];
    let done = ben.post(&path, &answers).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = ben.get(&format!("/portal/messages/{id}")).await;
    assert!(page.body.contains("<dt>Action</dt><dd>Quarantined; Returned</dd>"), "{}", page.body);

    // Cleo answers over the inbox API with her member token.
    let cleo = ids[2].as_str().unwrap();
    let (status, token) = app.admin(Method::POST, &format!("/api/v1/members/{cleo}/token"), Some(json!({}))).await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().unwrap().to_owned();
    let (_, seen) = read(app.call(Method::GET, &format!("/api/v1/inbox/{id}"), Some(&token), None).await).await;
    let hash = seen["rendered"]["content_hash"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/inbox/{id}/acknowledge");
    let ack = |answers: serde_json::Value| {
        let body = json!({"content_hash": hash, "answers": answers});
        let call = app.call(Method::POST, &path, Some(&token), Some(body));
        async move { read(call.await).await }
    };
    let (status, refused) = ack(json!({"units": -3, "action": ["Sold"]})).await;
    assert_eq!(status, 422, "{refused}");
    let (status, record) = ack(json!({"units": 5, "action": ["Quarantined"]})).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["acknowledgment"]["attestation"], json!({"action": ["Quarantined"], "units": 5}));

    // The partner manager reads them added up, partner by partner.
    let report = console.get(&format!("/admin/compliance/{id}")).await;
    assert!(report.body.contains("<th scope=\"col\">Stated</th>"), "{}", report.body);
    assert!(report.body.contains("Units quarantined: 12; Action: Quarantined 1, Returned 1; Serial numbers: 2 listed"));
    assert!(report.body.contains("Units quarantined: 5; Action: Quarantined 1"));
    app
}
