//! The evidence log end to end, on both engines: acknowledgments become leaves, a pack
//! proves them to a signed checkpoint and verifies with no database, and any change to
//! the pack or to the database's evidence is named by `verify` or `audit`; erasing a
//! member keeps every proof.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use tidings_app::evidence::{self, audit, pack, record::AckContext};
use tidings_app::inbox::Origin;
use tidings_app::{App, Caller};
use tidings_core::{Member, MemberDraft, MessageId, Partner, PartnerDraft};

both_engines!(
    unseeded:
    acknowledgments_are_proven_by_a_pack_that_verifies_on_its_own,
    a_changed_pack_is_named_by_verify,
    a_changed_database_is_named_by_audit,
    erasing_a_member_keeps_every_proof,
    a_rotated_key_leads_auditors_from_the_old_key_to_the_new,
    a_rotation_cut_short_is_finished_by_the_next_seal,
    a_burst_of_acknowledgments_shares_commits_and_each_keeps_its_leaf,
);

async fn partner(app: &App, name: &str) -> Partner {
    let draft = PartnerDraft { name: Some(name.into()), partner_type: Some("dealer".into()), ..Default::default() };
    tidings_app::partners::create(app, &Caller::operator(), &draft).await.unwrap()
}

async fn member(app: &App, partner: &Partner, email: &str) -> Member {
    let draft = MemberDraft {
        partner_id: Some(partner.id),
        email: Some(email.into()),
        name: Some(email.split('@').next().unwrap_or_default().into()),
        roles: Some(vec!["support".into()]),
        ..Default::default()
    };
    tidings_app::members::create(app, &Caller::operator(), &draft).await.unwrap()
}

/// A released must-know message that Ana (portal, after reading it and consenting to
/// email) and Bo (API) of Acme have acknowledged, which met Acme's obligation; Cy of Beta
/// has not. The log: Ana's read, her consent, two acknowledgments, Acme's obligation met.
async fn acknowledged_recall(app: &App) -> (MessageId, Vec<Member>) {
    let (acme, beta) = (partner(app, "Acme").await, partner(app, "Beta").await);
    let ana = member(app, &acme, "ana@acme.example").await;
    let bo = member(app, &acme, "bo@acme.example").await;
    let cy = member(app, &beta, "cy@beta.example").await;
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    tidings_app::topics::create(app, &Caller::operator(), &topic).await.unwrap();
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "recalls",
        "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "summary": "Lot 9 overheats.",
            "what_to_do": "1. Pull it.\n2. Tell us."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Pulled."}
    }))
    .unwrap();
    let id = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap().id;
    tidings_app::release::release(app, &Caller::operator(), id).await.unwrap();
    let origin = Origin { ip: Some("192.0.2.4".into()), user_agent: Some("Browser".into()) };
    // Ana opens it to read it first, and gives her consent to email.
    tidings_app::inbox::read(app, &ana, id, &origin).await.unwrap();
    let consent = tidings_app::consent::ConsentInput {
        purpose: "email".into(),
        granted: true,
        lawful_basis: None,
        text_version: "privacy-1".into(),
    };
    tidings_app::consent::record(app, &Caller::operator(), ana.id, &consent).await.unwrap();
    for (who, how) in [(&ana, AckContext::PORTAL), (&bo, AckContext::API)] {
        let seen = tidings_app::inbox::view(app, who, id, &origin).await.unwrap();
        tidings_app::inbox::acknowledge(app, who, id, &seen.rendered.content_hash, &Default::default(), &origin, how)
            .await
            .unwrap();
    }
    (id, vec![ana, bo, cy])
}

async fn export(app: &App, id: MessageId, dir: &Path) {
    pack::export(app, &Caller::operator(), id, None, dir).await.unwrap();
}

async fn audited(app: &App) -> Vec<String> {
    audit::audit(app, &Caller::operator()).await.unwrap().problems
}

async fn acknowledgments_are_proven_by_a_pack_that_verifies_on_its_own(app: App) {
    let (id, _) = acknowledged_recall(&app).await;
    let checkpoint = evidence::seal(&app).await.unwrap().expect("a checkpoint");
    assert_eq!(
        checkpoint.size, 9,
        "the release, three copies in inboxes, a read, a consent change, two acknowledgments, an obligation met"
    );
    let key = evidence::public_key(&app).await.unwrap();
    assert!(checkpoint.note.starts_with(&format!("{}\n9\n", key.name())), "{}", checkpoint.note);

    let dir = tempfile::tempdir().unwrap();
    export(&app, id, dir.path()).await;
    let found = pack::verify(dir.path(), Some(&key.encode())).unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert_eq!((found.leaves, found.acknowledgments, found.texts, found.people, found.erased), (8, 2, 1, 6, 0));
    let whole = audit::audit(&app, &Caller::operator()).await.unwrap();
    let kinds = (whole.releases, whole.deliveries, whole.acknowledgments, whole.reads, whole.consent_changes);
    assert_eq!(kinds, (1, 3, 2, 1, 1), "the pack holds the message's eight; the consent change is the member's");
    assert_eq!(whole.obligations_met, 1);
    let released = std::fs::read_to_string(dir.path().join("leaves.jsonl")).unwrap();
    assert!(released.lines().next().unwrap().contains(r#"\"kind\":\"released\""#), "the release comes first");
    assert!(released.contains(r#"\"what_to_do\":\"1. Pull it.\\n2. Tell us.\""#), "word for word: {released}");
    assert!(found.own_key);
    let leaves = std::fs::read_to_string(dir.path().join("leaves.jsonl")).unwrap();
    assert!(leaves.contains(r#"\"authentication\":\"portal_session\",\"surface\":\"message_page\""#), "{leaves}");
    assert!(!leaves.contains(r#"\"ip\""#), "the leaves hold the origin only as a commitment");
    assert!(leaves.contains(r#""ip":"192.0.2.4","user_agent":"Browser""#), "the pack reveals it beside the leaf");
    assert!(leaves.contains(r#"\"surface\":\"api\""#));
    assert!(
        leaves.contains(r#"\"kind\":\"delivered\",\"message\""#)
            && leaves.contains(r#"\"channel\":\"inbox\",\"purpose\":\"initial\",\"outcome\":\"in_inbox\""#),
        "each copy put in an inbox is a leaf: {leaves}"
    );
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(report.contains("ana &lt;ana@acme.example&gt;") && report.contains("Recall of lot 9"), "{report}");
    let pdf = std::fs::read(dir.path().join("report.pdf")).unwrap();
    let has = |needle: &[u8]| pdf.windows(needle.len()).any(|w| w == needle);
    assert!(pdf.starts_with(b"%PDF-") && has(b"Evidence: Recall of lot 9") && has(b"ana <ana@acme.example>"));
    assert_eq!(audited(&app).await, Vec::<String>::new());

    // A second acknowledgment changes nothing, in the table or the log.
    let ana = tidings_app::members::find(&app, &Caller::operator(), "ana@acme.example").await.unwrap();
    let origin = Origin { ip: None, user_agent: None };
    let seen = tidings_app::inbox::view(&app, &ana, id, &origin).await.unwrap();
    let none = Default::default();
    let again = tidings_app::inbox::acknowledge(
        &app,
        &ana,
        id,
        &seen.rendered.content_hash,
        &none,
        &origin,
        AckContext::PORTAL,
    );
    assert!(!again.await.unwrap().created);
    assert_eq!(evidence::seal(&app).await.unwrap().map(|c| c.size), Some(9));
}

/// A change to one of a pack's files.
type Edit = Box<dyn Fn(String) -> String>;

/// Rewrites `file` of the pack in `dir` with `change`.
fn edit(dir: &Path, file: &str, change: impl Fn(String) -> String) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let changed = change(text.clone());
    assert_ne!(changed, text, "the edit of {file} changed nothing");
    std::fs::write(path, changed).unwrap();
}

fn problems(dir: &Path, key: &str) -> String {
    match pack::verify(dir, Some(key)) {
        Ok(found) => found.problems.join("\n"),
        Err(e) => e.to_string(),
    }
}

async fn a_changed_pack_is_named_by_verify(app: App) {
    let (id, _) = acknowledged_recall(&app).await;
    let key = evidence::public_key(&app).await.unwrap().encode();
    let fresh = |name: &str| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        (dir, path)
    };
    let cases: Vec<(&str, &str, Edit, &str)> = vec![
        ("statement", "leaves.jsonl", Box::new(|t| t.replacen("Pulled.", "Pulled!", 1)), "leaves.jsonl line 1"),
        ("time", "leaves.jsonl", Box::new(|t| t.replacen("T", "X", 1)), "line 1"),
        ("proof", "leaves.jsonl", Box::new(|t| t.replacen("\"proof\":[\"", "\"proof\":[\"AA", 1)), "line 1"),
        ("order", "leaves.jsonl", Box::new(|t| t.lines().rev().map(|l| format!("{l}\n")).collect()), "out of order"),
        ("leaf gone", "leaves.jsonl", Box::new(|t| t.lines().skip(1).map(|l| format!("{l}\n")).collect()), "7 leaves"),
        (
            "person",
            "leaves.jsonl",
            Box::new(|t| t.replacen("\"member_id\":\"01", "\"member_id\":\"02", 1)),
            "not the one committed to",
        ),
        ("origin", "leaves.jsonl", Box::new(|t| t.replacen("192.0.2.4", "192.0.2.5", 1)), "IP address or user agent"),
        ("text", "texts.jsonl", Box::new(|t| t.replacen("Pull it.", "Keep it.", 1)), "texts.jsonl line 1"),
        ("checkpoint", "checkpoint.txt", Box::new(|t| t.replacen("\n9\n", "\n10\n", 1)), "checkpoint.txt"),
    ];
    evidence::seal(&app).await.unwrap();
    for (what, file, change, named) in &cases {
        let (_keep, dir) = fresh(what);
        export(&app, id, &dir).await;
        assert_eq!(problems(&dir, &key), "", "the untouched pack verifies");
        edit(&dir, file, change);
        let said = problems(&dir, &key);
        assert!(said.contains(named), "{what}: expected '{named}' in: {said}");
    }
    // Checked against another key, even an intact pack proves nothing.
    let (_keep, dir) = fresh("other key");
    export(&app, id, &dir).await;
    let other = tidings_core::evidence::note::SignerKey::from_seed("someone.else/log", [5; 32]).unwrap();
    assert!(problems(&dir, &other.verifier().encode()).contains("no signature by someone.else/log"));
}

/// Runs `sql` on the test's database, whatever the engine.
async fn sql(app: &App, sql: &str) {
    app.db.execute_raw(sql).await.unwrap();
}

async fn a_changed_database_is_named_by_audit(app: App) {
    acknowledged_recall(&app).await;
    evidence::seal(&app).await.unwrap();
    assert_eq!(audited(&app).await, Vec::<String>::new());
    let ana = "(select id from members where email = 'ana@acme.example')";
    // A message's content is JSON text on SQLite and jsonb on PostgreSQL.
    let text_replaced = |from: &str, to: &str| match app.db.dialect() {
        tidings_store::Dialect::Sqlite => format!("replace(content, '{from}', '{to}')"),
        tidings_store::Dialect::Postgres => format!("replace(content::text, '{from}', '{to}')::jsonb"),
    };
    let acme = "(select partner_id from members where email = 'ana@acme.example')";
    let cases = [
        (
            format!("update acknowledgments set statement = 'We never did' where member_id = {ana}"),
            format!("update acknowledgments set statement = 'Pulled.' where member_id = {ana}"),
            "statement is not what the log recorded",
        ),
        (
            format!("update acknowledgments set acknowledged_at = acknowledged_at - 1 where member_id = {ana}"),
            format!("update acknowledgments set acknowledged_at = acknowledged_at + 1 where member_id = {ana}"),
            "time is not what the log recorded",
        ),
        (
            "update evidence_entries set body = replace(body, 'Pulled.', 'Pulled!') where kind = 'acknowledged'"
                .to_owned(),
            "update evidence_entries set body = replace(body, 'Pulled!', 'Pulled.') where kind = 'acknowledged'"
                .to_owned(),
            "is not the hash of its entries",
        ),
        (
            format!("update messages set content = {}", text_replaced("Pull it.", "Keep it.")),
            format!("update messages set content = {}", text_replaced("Keep it.", "Pull it.")),
            "as it stands is not what the log says was released",
        ),
        (
            format!("update consent_records set text_version = 'privacy-0' where member_id = {ana}"),
            format!("update consent_records set text_version = 'privacy-1' where member_id = {ana}"),
            "consent record",
        ),
        (
            format!("update recipients set read_at = read_at + 5 where member_id = {ana}"),
            format!("update recipients set read_at = read_at - 5 where member_id = {ana}"),
            "copy's time read",
        ),
        (
            format!("update obligation_progress set met_at = null where partner_id = {acme}"),
            format!(
                "update obligation_progress set met_at = (select max(acknowledged_at) from acknowledgments) \
                 where in_scope > 0 and partner_id = {acme}"
            ),
            "quotas unmet that the log says were met",
        ),
        (
            // Two leaves swapped (in two steps, past the positions' unique index).
            "update evidence_entries set position = position + 10 where position < 2; \
             update evidence_entries set position = 11 - position where position >= 10"
                .to_owned(),
            "update evidence_entries set position = position + 10 where position < 2; \
             update evidence_entries set position = 11 - position where position >= 10"
                .to_owned(),
            "is not the hash of its entries",
        ),
        (
            "update evidence_nodes set hash = (select hash from evidence_nodes where level = 0 and idx = 1) \
             where level = 0 and idx = 0"
                .to_owned(),
            String::new(),
            "level 0 index 0",
        ),
    ];
    for (change, undo, named) in &cases {
        sql(&app, change).await;
        let said = audited(&app).await.join("\n");
        assert!(said.contains(named), "after `{change}`: expected '{named}' in: {said}");
        if undo.is_empty() {
            break;
        }
        sql(&app, undo).await;
        assert_eq!(audited(&app).await, Vec::<String>::new(), "undone: `{undo}`");
    }
}

async fn erasing_a_member_keeps_every_proof(app: App) {
    let (id, people) = acknowledged_recall(&app).await;
    evidence::seal(&app).await.unwrap();
    tidings_app::members::delete(&app, &Caller::operator(), people[1].id).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    export(&app, id, dir.path()).await;
    let key = evidence::public_key(&app).await.unwrap().encode();
    let found = pack::verify(dir.path(), Some(&key)).unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert_eq!(
        (found.leaves, found.people, found.erased),
        (8, 4, 2),
        "Ana's copy, read and acknowledgment, Cy's copy; Bo's copy and acknowledgment"
    );
    let leaves = std::fs::read_to_string(dir.path().join("leaves.jsonl")).unwrap();
    assert!(!leaves.contains("bo@acme.example"), "nothing names the erased member");
    let report = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(report.contains("erased member"));
    assert_eq!(audited(&app).await, Vec::<String>::new());
}

async fn a_rotated_key_leads_auditors_from_the_old_key_to_the_new(app: App) {
    let (id, people) = acknowledged_recall(&app).await;
    evidence::seal(&app).await.unwrap();
    let first = evidence::public_key(&app).await.unwrap().encode();
    let reader = Caller { role: tidings_core::StaffRole::Analyst, ..Caller::operator() };
    assert!(evidence::keys::rotate(&app, &reader).await.is_err(), "admins rotate keys");
    let rotated = evidence::keys::rotate(&app, &Caller::operator()).await.unwrap();
    assert_eq!(rotated.previous, first);
    let second = evidence::public_key(&app).await.unwrap().encode();
    assert_eq!(rotated.next, second);
    assert_ne!(first, second);
    // Cy acknowledges after the rotation; then the key is rotated once more.
    let origin = Origin { ip: None, user_agent: None };
    let seen = tidings_app::inbox::view(&app, &people[2], id, &origin).await.unwrap();
    let none = Default::default();
    let hash = &seen.rendered.content_hash;
    tidings_app::inbox::acknowledge(&app, &people[2], id, hash, &none, &origin, AckContext::PORTAL).await.unwrap();
    evidence::keys::rotate(&app, &Caller::operator()).await.unwrap();
    let third = evidence::public_key(&app).await.unwrap().encode();
    let history: Vec<String> = evidence::keys::history(&app).await.unwrap().iter().map(|k| k.encode()).collect();
    assert_eq!(history, [first.clone(), second.clone(), third.clone()]);
    let whole = audit::audit(&app, &Caller::operator()).await.unwrap();
    assert!(whole.problems.is_empty(), "{:?}", whole.problems);
    assert_eq!(whole.key_rotations, 2);

    // A pack signed by the third key verifies for an auditor holding any of the three.
    let dir = tempfile::tempdir().unwrap();
    export(&app, id, dir.path()).await;
    for (key, followed) in [(&first, 2), (&second, 1), (&third, 0)] {
        let found = pack::verify(dir.path(), Some(key)).unwrap();
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        assert_eq!(found.keys_followed, followed);
    }
    // Without the rotations, the first key proves nothing about it.
    let keys = dir.path().join("keys.jsonl");
    let kept = std::fs::read_to_string(&keys).unwrap();
    std::fs::write(&keys, "").unwrap();
    assert!(problems(dir.path(), &first).contains("no signature by"), "{}", problems(dir.path(), &first));
    std::fs::write(&keys, kept.replacen("\"proof\":[\"", "\"proof\":[\"AA", 1)).unwrap();
    assert!(problems(dir.path(), &first).contains("keys.jsonl line 1"), "{}", problems(dir.path(), &first));

    // A retired key dropped from the database breaks the chain the log records.
    sql(&app, &format!("delete from evidence_retired_keys where verifier = '{first}'")).await;
    let said = audited(&app).await.join("\n");
    assert!(said.contains("the retired keys kept are not the ones the log's key rotations retired"), "{said}");
}

/// A rotation whose process died after it stored the successor and its leaf, before any
/// signing: the worker's next seal signs with both keys and switches.
async fn a_rotation_cut_short_is_finished_by_the_next_seal(app: App) {
    acknowledged_recall(&app).await;
    evidence::seal(&app).await.unwrap();
    let old = evidence::public_key(&app).await.unwrap();
    let next = tidings_core::evidence::note::SignerKey::from_seed(old.name(), [9; 32]).unwrap();
    let fact = tidings_core::evidence::facts::Fact::KeyRotated(tidings_core::evidence::facts::KeyRotated {
        previous: old.encode(),
        next: next.verifier().encode(),
        at: app.clock.now(),
    });
    let mut tx = app.db.begin().await.unwrap();
    tidings_store::settings::put(&mut tx, "evidence_next_signing_key", &next.encode()).await.unwrap();
    tidings_store::evidence::append_fact(&mut tx, &fact, None, None).await.unwrap();
    tx.commit().await.unwrap();

    let checkpoint = evidence::seal(&app).await.unwrap().unwrap();
    assert_eq!(evidence::public_key(&app).await.unwrap(), next.verifier(), "the successor signs now");
    let note = tidings_core::evidence::note::Checkpoint::open(&checkpoint.note, &old);
    assert!(note.is_ok(), "the retiring key signed the checkpoint past its rotation");
    assert_eq!(audited(&app).await, Vec::<String>::new());
}

/// Forty members of four partners acknowledge at once, and ten of them twice: the
/// writer's group commits record each once (the repeat answers with the first record),
/// with its leaf, its partner's obligation met once, and the report counting forty.
async fn a_burst_of_acknowledgments_shares_commits_and_each_keeps_its_leaf(app: App) {
    let mut people = Vec::new();
    for p in 0..4 {
        let partner = partner(&app, &format!("Partner {p}")).await;
        for m in 0..10 {
            people.push(member(&app, &partner, &format!("m{m}@p{p}.example")).await);
        }
    }
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    tidings_app::topics::create(&app, &Caller::operator(), &topic).await.unwrap();
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "recalls", "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Pull it."}}},
        "audience": {"rule": "member.email exists"}, "acknowledgment": {"statement": "Pulled."}
    }))
    .unwrap();
    let id = tidings_app::messages::create(&app, &Caller::operator(), &draft).await.unwrap().id;
    tidings_app::release::release(&app, &Caller::operator(), id).await.unwrap();
    let origin = Origin::default();
    let hash = tidings_app::inbox::view(&app, &people[0], id, &origin).await.unwrap().rendered.content_hash;
    let mut burst = tokio::task::JoinSet::new();
    for who in people.iter().chain(&people[..10]).cloned() {
        let (app, hash) = (app.clone(), hash.clone());
        burst.spawn(async move {
            let (given, origin) = (Default::default(), Origin::default());
            let done = tidings_app::inbox::acknowledge(&app, &who, id, &hash, &given, &origin, AckContext::API);
            (who.id, done.await.unwrap())
        });
    }
    let outcomes = burst.join_all().await;
    let created = outcomes.iter().filter(|(_, o)| o.created).count();
    assert_eq!(created, 40, "each member once");
    for (member, outcome) in &outcomes {
        assert_eq!(outcome.acknowledgment.member_id, *member);
    }
    evidence::seal(&app).await.unwrap();
    let whole = audit::audit(&app, &Caller::operator()).await.unwrap();
    assert!(whole.problems.is_empty(), "{:?}", whole.problems);
    assert_eq!((whole.acknowledgments, whole.obligations_met), (40, 4));
    let report = tidings_app::reports::report(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!((report.funnel.acknowledged, report.funnel.read), (40, 40));
}
