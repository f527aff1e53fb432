//! Corrections of a message that went out, on both engines: a material one sets earlier
//! acknowledgments aside (still bound to their text), asks everyone again and tells them;
//! an editorial one leaves acknowledgments standing; both are leaves that the audit and
//! an evidence pack hold to the kept versions.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::corrections::{self, CorrectionOutcome};
use tidings_app::evidence::{self, audit, pack, record::AckContext};
use tidings_app::inbox::{self, Origin};
use tidings_app::{App, AppError, Caller};
use tidings_channels::{Channels, Outbox, Provider};
use tidings_core::consent::Channel;
use tidings_core::deliveries::Purpose;
use tidings_core::messages::CorrectionDraft;
use tidings_core::messages::diff::Change;
use tidings_core::{Member, MessageId};

both_engines!(
    unseeded:
    a_material_correction_asks_everyone_again_and_keeps_what_was_confirmed,
    an_editorial_correction_leaves_acknowledgments_standing,
    a_correction_is_refused_with_a_reason,
    a_changed_version_is_named_by_audit,
);

const ORIGIN: Origin = Origin { ip: None, user_agent: None };

/// A released recall that Ana and Bo of Acme acknowledged (meeting Acme's obligation);
/// Cy of Beta has not.
async fn acknowledged_recall(app: &App) -> (MessageId, Vec<Member>) {
    let people = common::recall_directory(app).await;
    let draft = serde_json::from_value(serde_json::json!({
        "topic": "recalls",
        "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Pull lot 9 from your shelves."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Pulled."}
    }))
    .unwrap();
    let id = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap().id;
    tidings_app::release::release(app, &Caller::operator(), id).await.unwrap();
    for who in &people[..2] {
        acknowledge(app, who, id).await.unwrap();
    }
    (id, people)
}

async fn acknowledge(app: &App, who: &Member, id: MessageId) -> Result<bool, AppError> {
    let seen = inbox::view(app, who, id, &ORIGIN).await?;
    let done =
        inbox::acknowledge(app, who, id, &seen.rendered.content_hash, &Default::default(), &ORIGIN, AckContext::PORTAL)
            .await?;
    Ok(done.created)
}

fn correction(kind: &str, what_to_do: &str) -> CorrectionDraft {
    serde_json::from_value(serde_json::json!({
        "kind": kind,
        "note": "Lot 10 is affected too.",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": what_to_do}}}
    }))
    .unwrap()
}

async fn correct(app: &App, id: MessageId, draft: &CorrectionDraft) -> CorrectionOutcome {
    corrections::correct(app, &Caller::operator(), id, draft).await.unwrap()
}

async fn audited(app: &App) -> Vec<String> {
    evidence::seal(app).await.unwrap();
    audit::audit(app, &Caller::operator()).await.unwrap().problems
}

async fn a_material_correction_asks_everyone_again_and_keeps_what_was_confirmed(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let (id, people) = acknowledged_recall(&app).await;
    let (ana, bo) = (&people[0], &people[1]);
    let old_hash = inbox::view(&app, ana, id, &ORIGIN).await.unwrap().rendered.content_hash;
    // Ana takes email; Bo and Cy have no channel open beside the portal.
    let consent = tidings_app::consent::ConsentInput {
        purpose: "email".into(),
        granted: true,
        lawful_basis: None,
        text_version: "privacy-1".into(),
    };
    tidings_app::consent::record(&app, &Caller::operator(), ana.id, &consent).await.unwrap();

    let done = correct(&app, id, &correction("material", "Pull lots 9 and 10 from your shelves.")).await;
    assert_eq!((done.version.version, done.message.version, done.acknowledgments_set_aside), (2, 2, 2));
    assert_eq!(done.notices_queued, 1, "Ana is told by email");
    let sends = |member: tidings_core::MemberId| {
        let app = app.clone();
        async move {
            let mut tx = app.db.read().await.unwrap();
            let sends = tidings_store::deliveries::chase::sends_to_member(&mut tx, member, &[id]).await.unwrap();
            sends.into_iter().map(|s| (s.purpose, s.channel)).collect::<Vec<_>>()
        }
    };
    assert_eq!(sends(ana.id).await, [(Purpose::Correction(2), Channel::Email)]);
    assert_eq!(sends(bo.id).await, []);
    // The notice goes; as a must-know message's send, it is a leaf of the log.
    let mut cache = tidings_app::workers::deliver::Cache::default();
    let config = tidings_app::workers::deliver::WorkerConfig::default();
    while tidings_app::workers::deliver::work_once(&app, &config, &mut cache).await.unwrap() > 0 {}

    // Ana's page shows the correction, what changed and that her earlier confirmation stands
    // for the old text; the old text can no longer be acknowledged.
    let seen = inbox::view(&app, ana, id, &ORIGIN).await.unwrap();
    assert!(seen.acknowledgment_record.is_none(), "she must acknowledge again");
    assert_ne!(seen.rendered.content_hash, old_hash);
    let shown = seen.correction.expect("the correction is shown");
    assert_eq!((shown.version, shown.note.as_str()), (2, "Lot 10 is affected too."));
    assert_eq!(shown.changes.len(), 1);
    assert_eq!(shown.changes[0].field, "what_to_do");
    assert!(shown.changes[0].runs.iter().any(|r| r.change == Change::Added && r.text.contains("10")));
    assert_eq!(shown.earlier_acknowledgments.len(), 1);
    assert_eq!(
        (shown.earlier_acknowledgments[0].version, shown.earlier_acknowledgments[0].content_hash.as_str()),
        (1, old_hash.as_str())
    );
    let stale = inbox::acknowledge(&app, ana, id, &old_hash, &Default::default(), &ORIGIN, AckContext::PORTAL).await;
    assert!(matches!(stale, Err(AppError::Conflict(_))), "{stale:?}");

    // Acme owes again until both have confirmed the new text.
    let owed = |app: &App| {
        let app = app.clone();
        async move {
            let mut tx = app.db.read().await.unwrap();
            tidings_store::obligations::unmet_partners(&mut tx, &[id]).await.unwrap().get(&id).copied().unwrap_or(0)
        }
    };
    assert_eq!(owed(&app).await, 2, "Acme and Beta owe");
    assert!(acknowledge(&app, ana, id).await.unwrap());
    assert_eq!(inbox::view(&app, ana, id, &ORIGIN).await.unwrap().acknowledgment_record.unwrap().version, 2);
    assert!(acknowledge(&app, bo, id).await.unwrap());
    assert_eq!(owed(&app).await, 1, "Acme met it again");

    let versions = corrections::versions(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!(versions.iter().map(|v| v.version.version).collect::<Vec<_>>(), [1, 2]);
    assert!(versions[0].changes.is_empty() && versions[1].changes.len() == 1);

    // The log holds both texts and every acknowledgment; a pack of them verifies.
    assert_eq!(audited(&app).await, Vec::<String>::new());
    let whole = audit::audit(&app, &Caller::operator()).await.unwrap();
    assert_eq!((whole.releases, whole.corrections, whole.acknowledgments, whole.obligations_met), (1, 1, 4, 2));
    let dir = tempfile::tempdir().unwrap();
    pack::export(&app, &Caller::operator(), id, None, dir.path()).await.unwrap();
    let key = evidence::public_key(&app).await.unwrap().encode();
    let found = pack::verify(dir.path(), Some(&key)).unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert_eq!((found.acknowledgments, found.texts), (4, 2), "two texts confirmed: version 1's and version 2's");
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(report.contains("Versions") && report.contains("Lot 10 is affected too."), "{report}");
    let leaves = std::fs::read_to_string(dir.path().join("leaves.jsonl")).unwrap();
    let notice = r#"\"channel\":\"email\",\"purpose\":\"correction-2\",\"outcome\":\"sent\""#;
    assert!(leaves.contains(notice), "the correction's email to Ana: {leaves}");
}

async fn an_editorial_correction_leaves_acknowledgments_standing(app: App) {
    let (id, people) = acknowledged_recall(&app).await;
    let done = correct(&app, id, &correction("editorial", "Pull lot 9 from your shelves, please.")).await;
    assert_eq!((done.acknowledgments_set_aside, done.notices_queued), (0, 0));
    let seen = inbox::view(&app, &people[0], id, &ORIGIN).await.unwrap();
    let record = seen.acknowledgment_record.expect("her acknowledgment stands");
    assert_eq!(record.version, 1, "bound to the text she was shown");
    assert_ne!(record.content_hash, seen.rendered.content_hash);
    assert!(seen.correction.unwrap().earlier_acknowledgments.is_empty());
    // Cy, who had not acknowledged, confirms the corrected text.
    assert!(acknowledge(&app, &people[2], id).await.unwrap());
    let mut tx = app.db.read().await.unwrap();
    let owed = tidings_store::obligations::unmet_partners(&mut tx, &[id]).await.unwrap();
    drop(tx);
    assert_eq!(owed.get(&id).copied().unwrap_or(0), 0);
    assert_eq!(audited(&app).await, Vec::<String>::new());
}

async fn a_correction_is_refused_with_a_reason(app: App) {
    let (id, _) = acknowledged_recall(&app).await;
    let refused = |e: Result<CorrectionOutcome, AppError>| match e {
        Err(AppError::Invalid(errors)) => errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let same = correction("material", "Pull lot 9 from your shelves.");
    let said: Vec<String> = refused(corrections::correct(&app, &Caller::operator(), id, &same).await);
    assert!(said.iter().any(|s| s.contains("changes nothing")), "{said:?}");
    let mut unnamed = correction("sideways", "Pull lot 10.");
    unnamed.note = None;
    let said: Vec<String> = refused(corrections::correct(&app, &Caller::operator(), id, &unnamed).await);
    assert!(said.iter().any(|s| s.starts_with("kind:")) && said.iter().any(|s| s.starts_with("note:")), "{said:?}");
    let reader = Caller { role: tidings_core::StaffRole::Analyst, ..Caller::operator() };
    let forbidden = corrections::correct(&app, &reader, id, &correction("material", "Pull lot 10.")).await;
    assert!(matches!(forbidden, Err(AppError::Forbidden(_))), "{forbidden:?}");
    // Nothing was changed by the refusals.
    assert_eq!(corrections::versions(&app, &Caller::operator(), id).await.unwrap().len(), 0);
}

async fn a_changed_version_is_named_by_audit(app: App) {
    let (id, _) = acknowledged_recall(&app).await;
    correct(&app, id, &correction("material", "Pull lots 9 and 10.")).await;
    assert_eq!(audited(&app).await, Vec::<String>::new());
    let text_replaced = |from: &str, to: &str| match app.db.dialect() {
        tidings_store::Dialect::Sqlite => format!("replace(content, '{from}', '{to}')"),
        tidings_store::Dialect::Postgres => format!("replace(content::text, '{from}', '{to}')::jsonb"),
    };
    let cases = [
        (
            format!(
                "update message_versions set content = {} where version = 1",
                text_replaced("lot 9 from", "lot 8 from")
            ),
            "the text of version 1 of message",
        ),
        (
            format!(
                "update message_versions set content = {} where version = 2",
                text_replaced("9 and 10", "9 and 11")
            ),
            "the text of version 2 of message",
        ),
        (
            format!("update messages set content = {}", text_replaced("9 and 10", "9 and 11")),
            "as it stands is not what the log says was its correction",
        ),
        (
            "update superseded_acknowledgments set statement = 'Never.'".to_owned(),
            "statement is not what the log recorded",
        ),
        ("delete from message_versions where version = 2".to_owned(), "is not kept"),
    ];
    for (change, named) in &cases {
        let undo = snapshot(&app).await;
        app.db.execute_raw(change).await.unwrap();
        let said = audited(&app).await.join("\n");
        assert!(said.contains(named), "after `{change}`: expected '{named}' in: {said}");
        restore(&app, &undo).await;
        assert_eq!(audited(&app).await, Vec::<String>::new(), "undone: `{change}`");
    }
}

/// The rows the cases above change, to put back after each.
async fn snapshot(app: &App) -> Vec<String> {
    let mut undo = Vec::new();
    for table in ["message_versions", "superseded_acknowledgments", "messages"] {
        app.db.execute_raw(&format!("drop table if exists kept_{table}")).await.unwrap();
        app.db.execute_raw(&format!("create table kept_{table} as select * from {table}")).await.unwrap();
    }
    for table in ["message_versions", "superseded_acknowledgments"] {
        undo.push(format!("delete from {table}"));
        undo.push(format!("insert into {table} select * from kept_{table}"));
    }
    undo.push("update messages set content = (select k.content from kept_messages k where k.id = messages.id)".into());
    undo
}

async fn restore(app: &App, undo: &[String]) {
    for sql in undo {
        app.db.execute_raw(sql).await.unwrap();
    }
}
