//! Action attestation on both engines: a must-know message asks what members did; the
//! answers are checked, kept with the acknowledgment, bound by its leaf, added up per
//! partner and exported; a changed answer is named by the audit and by `verify`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::json;
use tidings_app::evidence::{self, audit, pack, record::AckContext};
use tidings_app::inbox::{self, Origin};
use tidings_app::{App, AppError, Caller};
use tidings_core::attestation::{Answer, Given};
use tidings_core::{Member, MessageId};

both_engines!(
    unseeded:
    answers_are_checked_kept_bound_and_added_up,
    a_changed_answer_is_named_by_audit_and_verify,
);

const ORIGIN: Origin = Origin { ip: None, user_agent: None };

/// A released recall asking for units quarantined, the action taken and serial numbers,
/// to Ana and Bo of Acme and Cy of Beta.
async fn recall(app: &App) -> (MessageId, Vec<Member>) {
    let people = common::recall_directory(app).await;
    let draft = serde_json::from_value(json!({
        "topic": "recalls",
        "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Quarantine lot 9."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Quarantined.", "attestation": {"fields": [
            {"key": "units", "label": "Units quarantined", "type": "number", "min": 0, "max": 10000},
            {"key": "action", "label": "Action", "type": "choice", "options": ["Quarantined", "Returned"]},
            {"key": "serials", "label": "Serial numbers", "type": "serials", "required": false}
        ]}}
    }))
    .unwrap();
    let id = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap().id;
    tidings_app::release::release(app, &Caller::operator(), id).await.unwrap();
    (id, people)
}

async fn acknowledge(app: &App, who: &Member, id: MessageId, answers: serde_json::Value) -> Result<bool, AppError> {
    let seen = inbox::view(app, who, id, &ORIGIN).await?;
    let given: Given = serde_json::from_value(answers).unwrap();
    let hash = &seen.rendered.content_hash;
    Ok(inbox::acknowledge(app, who, id, hash, &given, &ORIGIN, AckContext::PORTAL).await?.created)
}

fn fields_of(e: AppError) -> Vec<String> {
    match e {
        AppError::Invalid(errors) => errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn answers_are_checked_kept_bound_and_added_up(app: App) {
    let (id, people) = recall(&app).await;
    let (ana, bo, cy) = (&people[0], &people[1], &people[2]);

    // Refused, with each problem named, and nothing recorded.
    let said = fields_of(acknowledge(&app, ana, id, json!({"units": "many", "action": "Sold"})).await.unwrap_err());
    assert!(said.iter().any(|s| s == "answers.units: Units quarantined: must be a whole number"), "{said:?}");
    assert!(said.iter().any(|s| s.starts_with("answers.action: Action: choose from")), "{said:?}");
    let said = fields_of(acknowledge(&app, ana, id, json!({})).await.unwrap_err());
    assert!(said.iter().any(|s| s.contains("Units quarantined is required")), "{said:?}");
    assert!(inbox::view(&app, ana, id, &ORIGIN).await.unwrap().acknowledgment_record.is_none());

    assert!(
        acknowledge(&app, ana, id, json!({"units": "10", "action": "Quarantined", "serials": "SN-1\nSN-2"}))
            .await
            .unwrap()
    );
    assert!(acknowledge(&app, bo, id, json!({"units": 4, "action": "Returned"})).await.unwrap());
    assert!(acknowledge(&app, cy, id, json!({"units": 7, "action": "Quarantined"})).await.unwrap());
    let record = inbox::view(&app, ana, id, &ORIGIN).await.unwrap().acknowledgment_record.unwrap();
    let answers = record.attestation.expect("kept with the acknowledgment");
    assert_eq!(answers.0["units"], Answer::Number(10));
    assert_eq!(answers.0["serials"], Answer::List(vec!["SN-1".into(), "SN-2".into()]));

    // Added up per partner on the compliance report.
    let report = tidings_app::compliance::report(&app, &Caller::operator(), id).await.unwrap();
    let acme = report.partners.iter().find(|p| p.name.as_deref() == Some("Acme")).unwrap();
    assert_eq!(
        acme.attestation.as_ref().unwrap().describe(),
        "Units quarantined: 14; Action: Quarantined 1, Returned 1; Serial numbers: 2 listed"
    );
    // A column per field in the evidence CSV, in the form's order.
    let mut rows = tidings_app::compliance::export_csv(&app, &Caller::operator(), id).await.unwrap();
    let mut csv = Vec::new();
    while let Some(chunk) = rows.recv().await {
        csv.extend(chunk.unwrap());
    }
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.lines().next().unwrap().ends_with(",answer.units,answer.action,answer.serials"), "{csv}");
    assert!(csv.contains(",10,Quarantined,SN-1; SN-2\n"), "in the form's order: {csv}");

    // The leaf binds the answers; the pack carries them and verifies.
    evidence::seal(&app).await.unwrap();
    assert_eq!(audit::audit(&app, &Caller::operator()).await.unwrap().problems, Vec::<String>::new());
    let dir = tempfile::tempdir().unwrap();
    pack::export(&app, &Caller::operator(), id, None, dir.path()).await.unwrap();
    let key = evidence::public_key(&app).await.unwrap().encode();
    let found = pack::verify(dir.path(), Some(&key)).unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert_eq!((found.acknowledgments, found.attestations), (3, 3));
    let leaves = std::fs::read_to_string(dir.path().join("leaves.jsonl")).unwrap();
    assert!(leaves.contains(r#"\"attestation\":\""#), "the leaf holds the answers' hash");
    assert!(leaves.contains(r#""answers":{"action":"Quarantined","serials":["SN-1","SN-2"],"units":10}"#), "{leaves}");
}

async fn a_changed_answer_is_named_by_audit_and_verify(app: App) {
    let (id, people) = recall(&app).await;
    acknowledge(&app, &people[0], id, json!({"units": 10, "action": "Quarantined"})).await.unwrap();
    evidence::seal(&app).await.unwrap();
    let key = evidence::public_key(&app).await.unwrap().encode();
    let dir = tempfile::tempdir().unwrap();
    pack::export(&app, &Caller::operator(), id, None, dir.path()).await.unwrap();
    let path = dir.path().join("leaves.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(r#""units":10"#, r#""units":100"#)).unwrap();
    let found = pack::verify(dir.path(), Some(&key)).unwrap();
    assert!(found.problems.iter().any(|p| p.contains("the answers are not the ones the leaf binds")), "{found:?}");

    app.db.execute_raw("update acknowledgments set attestation = replace(attestation, '10', '100')").await.unwrap();
    let problems = audit::audit(&app, &Caller::operator()).await.unwrap().problems.join("\n");
    assert!(problems.contains("answers to the attestation is not what the log recorded"), "{problems}");
}
