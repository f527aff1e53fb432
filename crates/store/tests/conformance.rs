//! The store contract: every behaviour, run against SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use tidings_core::*;
use tidings_store::members::MemberFilter;
use tidings_store::partners::PartnerFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, Error, groups, members, partners, staff, tokens, topics};

/// Runs each listed test once per engine, as `sqlite::name` and `postgres::name`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { super::run(super::Engine::Sqlite, super::$name).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { super::run(super::Engine::Postgres, super::$name).await } )* }
    };
}

conformance!(
    migrations_are_applied_and_idempotent,
    a_partner_round_trips_with_groups_and_manager,
    partners_list_by_filters_and_pages,
    a_partner_with_members_cannot_be_deleted,
    members_round_trip_and_emails_are_unique,
    members_are_found_by_external_id_or_email,
    many_members_are_inserted_in_one_go,
    members_list_by_partner_role_status_and_text,
    topics_and_groups_have_unique_keys,
    tokens_are_found_by_hash_until_revoked,
    a_rolled_back_transaction_leaves_nothing,
);

#[tokio::test]
async fn both_engines_have_the_same_tables_and_columns() {
    let sqlite = TestDb::sqlite().await;
    let Some(postgres) = TestDb::postgres().await else {
        return;
    };
    let expected = sqlite.db.schema_outline().await.unwrap();
    assert!(expected.iter().any(|(t, _)| t == "members"), "{expected:?}");
    assert_eq!(expected, postgres.db.schema_outline().await.unwrap());
    postgres.cleanup().await;
}

async fn run<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(t) = TestDb::new(engine).await {
        test(t.db.clone()).await;
        t.cleanup().await;
    }
}

fn now() -> Timestamp {
    Timestamp::from_millis(1_780_000_000_000)
}

fn partner(name: &str, ext: &str, partner_type: &str, tier: &str) -> Partner {
    let draft = PartnerDraft {
        external_id: Some(ext.into()),
        name: Some(name.into()),
        partner_type: Some(partner_type.into()),
        tier: Some(tier.into()),
        region: Some("emea".into()),
        country: Some("DE".into()),
        ..Default::default()
    };
    let profile = draft.validate(None, &Catalog::default()).expect("valid partner");
    Partner { id: PartnerId::new(), profile, created_at: now(), updated_at: now() }
}

fn member(partner: PartnerId, email: &str, ext: Option<&str>, roles: &[&str]) -> Member {
    let draft = MemberDraft {
        partner_id: Some(partner),
        email: Some(email.into()),
        external_id: ext.map(Into::into),
        name: Some(format!("Name of {email}")),
        roles: Some(roles.iter().map(|r| r.to_string()).collect()),
        locale: Some("de-DE".into()),
        time_zone: Some("Europe/Berlin".into()),
        attributes: Some(serde_json::from_str(r#"{"trained": true, "level": 2, "zip": "01067"}"#).unwrap()),
        ..Default::default()
    };
    Member {
        id: MemberId::new(),
        profile: draft.validate(None).expect("valid member"),
        created_at: now(),
        updated_at: now(),
    }
}

async fn seed_partner(db: &Db, p: &Partner) {
    let mut tx = db.begin().await.unwrap();
    partners::insert(&mut tx, p).await.unwrap();
    tx.commit().await.unwrap();
}

async fn migrations_are_applied_and_idempotent(db: Db) {
    db.migrate().await.unwrap();
    db.ping().await.unwrap();
    let (sqlite, postgres) = tidings_store::migration_names();
    assert_eq!(sqlite, postgres, "both engines must have the same migrations");
    assert!(!sqlite.is_empty());
}

async fn a_partner_round_trips_with_groups_and_manager(db: Db) {
    let mut tx = db.begin().await.unwrap();
    let manager = Staff {
        id: StaffId::new(),
        email: Email::parse("pm@vendor.example").unwrap(),
        name: "Pat Manager".into(),
        role: StaffRole::Author,
        created_at: now(),
    };
    staff::insert(&mut tx, &manager).await.unwrap();
    let pilot = KeyedDraft { key: Some("emea-pilot".into()), name: Some("EMEA pilot".into()), description: None };
    groups::insert(&mut tx, GroupId::new(), &pilot.validate(None).unwrap(), now()).await.unwrap();

    let mut p = partner("Acme Distribution", "ACME-1", "distributor", "strategic");
    p.profile.groups = BTreeSet::from([Slug::parse("emea-pilot").unwrap()]);
    p.profile.partner_manager = Some(manager.email.clone());
    partners::insert(&mut tx, &p).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.read().await.unwrap();
    let stored = partners::get(&mut tx, p.id).await.unwrap();
    assert_eq!(stored, p);
    let group_page = groups::list(&mut tx, None, None).await.unwrap();
    assert_eq!(group_page.items[0].partner_count, 1);
    drop(tx);

    let mut changed = stored.clone();
    changed.profile.groups.clear();
    changed.profile.name = "Acme Distribution GmbH".into();
    changed.profile.attributes.set(AttrKey::parse("size").unwrap(), Some(AttrValue::Number(250.0))).unwrap();
    let mut tx = db.begin().await.unwrap();
    partners::update(&mut tx, &changed).await.unwrap();
    assert_eq!(partners::get(&mut tx, p.id).await.unwrap(), changed);
    assert!(matches!(partners::get(&mut tx, PartnerId::new()).await, Err(Error::NotFound)));
    let unknown = groups::unknown_keys(&mut tx, &[&Slug::parse("emea-pilot").unwrap(), &Slug::parse("nope").unwrap()])
        .await
        .unwrap();
    assert_eq!(unknown, ["nope"]);
    let clash = partner("Other", "ACME-1", "reseller", "growth");
    match partners::insert(&mut tx, &clash).await {
        Err(Error::Conflict(m)) => assert_eq!(m, "external_id already exists"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

async fn partners_list_by_filters_and_pages(db: Db) {
    for i in 0..7 {
        let (t, tier) = if i % 2 == 0 { ("distributor", "strategic") } else { ("reseller", "growth") };
        seed_partner(&db, &partner(&format!("Partner {i}"), &format!("P-{i}"), t, tier)).await;
    }
    let mut tx = db.read().await.unwrap();
    let filter = PartnerFilter { partner_type: Some("distributor".into()), ..Default::default() };
    let first = partners::list(&mut tx, &filter, None, Some(3)).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let second = partners::list(&mut tx, &filter, first.next.as_deref(), Some(3)).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert!(second.next.is_none());
    let names: Vec<_> = first.items.iter().chain(&second.items).map(|p| p.profile.name.clone()).collect();
    assert_eq!(names, ["Partner 0", "Partner 2", "Partner 4", "Partner 6"]);

    let by_text = PartnerFilter { q: Some("partner 5".into()), ..Default::default() };
    assert_eq!(partners::list(&mut tx, &by_text, None, None).await.unwrap().items.len(), 1);
    let by_ext = PartnerFilter { q: Some("P-3".into()), ..Default::default() };
    assert_eq!(partners::list(&mut tx, &by_ext, None, None).await.unwrap().items[0].profile.name, "Partner 3");
    let wildcard = PartnerFilter { q: Some("%".into()), ..Default::default() };
    assert!(partners::list(&mut tx, &wildcard, None, None).await.unwrap().items.is_empty());
    let none = PartnerFilter { tier: Some("growth".into()), country: Some("fr".into()), ..Default::default() };
    assert!(partners::list(&mut tx, &none, None, None).await.unwrap().items.is_empty());
    assert_eq!(partners::count(&mut tx).await.unwrap(), 7);
}

async fn a_partner_with_members_cannot_be_deleted(db: Db) {
    let p = partner("Acme", "A", "reseller", "growth");
    seed_partner(&db, &p).await;
    let m = member(p.id, "ana@acme.example", None, &["sales"]);
    let mut tx = db.begin().await.unwrap();
    members::insert(&mut tx, &m).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    assert_eq!(partners::member_count(&mut tx, p.id).await.unwrap(), 1);
    assert!(matches!(partners::delete(&mut tx, p.id).await, Err(Error::Conflict(_))));
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    members::delete(&mut tx, m.id).await.unwrap();
    partners::delete(&mut tx, p.id).await.unwrap();
    assert!(matches!(partners::delete(&mut tx, p.id).await, Err(Error::NotFound)));
    tx.commit().await.unwrap();
}

async fn members_round_trip_and_emails_are_unique(db: Db) {
    let p = partner("Acme", "A", "reseller", "growth");
    seed_partner(&db, &p).await;
    let mut m = member(p.id, "ana@acme.example", Some("U-1"), &["sales", "partner_lead"]);
    m.profile.phone = Some(Phone::parse("+49301234567").unwrap());
    m.profile.last_seen_at = Some(now());
    let mut tx = db.begin().await.unwrap();
    members::insert(&mut tx, &m).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.begin().await.unwrap();
    let stored = members::get(&mut tx, m.id).await.unwrap();
    assert_eq!(stored, m);
    assert_eq!(stored.profile.attributes.get("zip"), Some(&AttrValue::Text("01067".into())));

    let twin = member(p.id, "ana@acme.example", None, &[]);
    match members::insert(&mut tx, &twin).await {
        Err(Error::Conflict(message)) => assert_eq!(message, "email already exists"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    let mut changed = m.clone();
    changed.profile.status = MemberStatus::Disabled;
    changed.profile.roles = Roles::default();
    members::update(&mut tx, &changed).await.unwrap();
    assert_eq!(members::get(&mut tx, m.id).await.unwrap(), changed);
    tx.commit().await.unwrap();
}

async fn members_are_found_by_external_id_or_email(db: Db) {
    let p = partner("Acme", "A", "reseller", "growth");
    seed_partner(&db, &p).await;
    let a = member(p.id, "a@acme.example", Some("U-1"), &[]);
    let b = member(p.id, "b@acme.example", None, &[]);
    let c = member(p.id, "c@acme.example", Some("U-3"), &[]);
    let mut tx = db.begin().await.unwrap();
    members::insert_many(&mut tx, &[a.clone(), b.clone(), c]).await.unwrap();
    let found =
        members::find_by_keys(&mut tx, &["U-1".into(), "U-9".into()], &["b@acme.example".into()]).await.unwrap();
    let mut ids: Vec<_> = found.iter().map(|m| m.id).collect();
    ids.sort();
    assert_eq!(ids, [a.id, b.id]);
    let both = members::find_by_keys(&mut tx, &["U-1".into()], &["a@acme.example".into()]).await.unwrap();
    assert_eq!(both.iter().map(|m| m.id).collect::<Vec<_>>(), [a.id], "found by both keys, listed once");
    assert!(members::find_by_keys(&mut tx, &[], &[]).await.unwrap().is_empty());
    let ids = partners::ids_by_external_ids(&mut tx, &["A".into(), "missing".into()]).await.unwrap();
    assert_eq!(ids.get("A"), Some(&p.id));
    assert_eq!(ids.len(), 1);
}

async fn many_members_are_inserted_in_one_go(db: Db) {
    let p = partner("Acme", "A", "reseller", "growth");
    seed_partner(&db, &p).await;
    let mut many: Vec<Member> =
        (0..1_234).map(|i| member(p.id, &format!("m{i}@acme.example"), None, &["support"])).collect();
    // Text that a bulk path must carry exactly (PostgreSQL's COPY escapes these).
    many[7].profile.name = "Tab\t here \\ back\\slash \\N quote \" and\r\nnew line".to_owned();
    let odd = many[7].clone();
    let mut tx = db.begin().await.unwrap();
    members::insert_many(&mut tx, &many).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(members::count(&mut tx).await.unwrap(), 1_234);
    assert_eq!(members::get(&mut tx, odd.id).await.unwrap(), odd, "stored exactly as given");
    drop(tx);
    // A clash anywhere in the lot is the same conflict an insert gives, and the transaction
    // can still be rolled back (the importer then retries row by row).
    let mut tx = db.begin().await.unwrap();
    let clash = [member(p.id, "new@acme.example", None, &[]), member(p.id, "m3@acme.example", None, &[])];
    let error = members::insert_many(&mut tx, &clash).await.unwrap_err();
    assert!(matches!(error, tidings_store::Error::Conflict(_)), "{error:?}");
    tx.rollback().await.unwrap();
}

async fn members_list_by_partner_role_status_and_text(db: Db) {
    let a = partner("Acme", "A", "reseller", "growth");
    let b = partner("Bolt", "B", "dealer", "standard");
    seed_partner(&db, &a).await;
    seed_partner(&db, &b).await;
    let mut test_member = member(a.id, "tess@acme.example", None, &["support"]);
    test_member.profile.status = MemberStatus::Test;
    let rows = [
        member(a.id, "sam@acme.example", None, &["sales"]),
        member(a.id, "sue@acme.example", None, &["support", "sales"]),
        test_member,
        member(b.id, "bo_b@bolt.example", None, &["support"]),
    ];
    let mut tx = db.begin().await.unwrap();
    members::insert_many(&mut tx, &rows).await.unwrap();
    tx.commit().await.unwrap();
    let db = &db;
    let count = |f: MemberFilter| async move {
        let mut tx = db.read().await.unwrap();
        members::list(&mut tx, &f, None, None).await.unwrap().items.len()
    };
    assert_eq!(count(MemberFilter { partner_id: Some(a.id), ..Default::default() }).await, 3);
    assert_eq!(count(MemberFilter { role: Some(Role::Support), ..Default::default() }).await, 3);
    assert_eq!(count(MemberFilter { role: Some(Role::Sales), partner_id: Some(a.id), ..Default::default() }).await, 2);
    assert_eq!(count(MemberFilter { status: Some(MemberStatus::Test), ..Default::default() }).await, 1);
    assert_eq!(count(MemberFilter { q: Some("BOLT".into()), ..Default::default() }).await, 1);
    assert_eq!(count(MemberFilter { q: Some("o_b".into()), ..Default::default() }).await, 1);
}

async fn topics_and_groups_have_unique_keys(db: Db) {
    let support =
        KeyedDraft { key: Some("support".into()), name: Some("Support".into()), description: Some("Help".into()) }
            .validate(None)
            .unwrap();
    let mut tx = db.begin().await.unwrap();
    let id = TopicId::new();
    topics::insert(&mut tx, id, &support, now()).await.unwrap();
    assert!(matches!(topics::insert(&mut tx, TopicId::new(), &support, now()).await, Err(Error::Conflict(_))));
    tx.rollback().await.unwrap();

    let mut tx = db.begin().await.unwrap();
    topics::insert(&mut tx, id, &support, now()).await.unwrap();
    let renamed =
        KeyedDraft { name: Some("Technical support".into()), ..Default::default() }.validate(Some(&support)).unwrap();
    topics::update(&mut tx, id, &renamed, now()).await.unwrap();
    let topic = topics::get(&mut tx, id).await.unwrap();
    assert_eq!(
        (topic.key.as_str(), topic.name.as_str(), topic.description.as_str()),
        ("support", "Technical support", "Help")
    );
    assert_eq!(topics::list(&mut tx, None, None).await.unwrap().items.len(), 1);
    topics::delete(&mut tx, id).await.unwrap();
    assert!(matches!(topics::get(&mut tx, id).await, Err(Error::NotFound)));

    let gid = GroupId::new();
    groups::insert(&mut tx, gid, &support, now()).await.unwrap();
    groups::update(&mut tx, gid, &renamed, now()).await.unwrap();
    assert_eq!(groups::get(&mut tx, gid).await.unwrap().name, "Technical support");
    groups::delete(&mut tx, gid).await.unwrap();
    assert!(matches!(groups::delete(&mut tx, gid).await, Err(Error::NotFound)));
}

async fn tokens_are_found_by_hash_until_revoked(db: Db) {
    let token = tokens::ApiToken {
        id: TokenId::new(),
        name: "ci".into(),
        role: StaffRole::Analyst,
        created_by: None,
        created_at: now(),
    };
    let mut tx = db.begin().await.unwrap();
    tokens::insert(&mut tx, &token, "hash-1").await.unwrap();
    assert_eq!(tokens::find_live_by_hash(&mut tx, "hash-1").await.unwrap(), Some(token));
    assert_eq!(tokens::find_live_by_hash(&mut tx, "hash-2").await.unwrap(), None);
    assert_eq!(tokens::revoke_by_name(&mut tx, "ci", now()).await.unwrap(), 1);
    assert_eq!(tokens::find_live_by_hash(&mut tx, "hash-1").await.unwrap(), None);
}

async fn a_rolled_back_transaction_leaves_nothing(db: Db) {
    let mut tx = db.begin().await.unwrap();
    partners::insert(&mut tx, &partner("Ghost", "G", "reseller", "growth")).await.unwrap();
    tx.rollback().await.unwrap();
    let mut tx = db.read().await.unwrap();
    assert_eq!(partners::count(&mut tx).await.unwrap(), 0);
}
