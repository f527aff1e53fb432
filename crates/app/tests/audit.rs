//! The audit log: each staff action leaves one entry (who, what, when, before and after)
//! written with the change itself, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::import::{ImportOptions, import_partners};
use tidings_app::{App, AppError, Caller, audit, members, messages, partners, topics};
use tidings_core::messages::{ContentDraft, MessageDraft, VariantDraft};
use tidings_core::{MemberDraft, PartnerDraft, StaffRole, Timestamp, TokenId, TopicDraft};
use tidings_store::audit::{AuditEntry, AuditFilter};

both_engines!(
    seeded:
    each_change_is_logged_with_who_and_before_and_after,
    a_refused_change_leaves_no_entry,
    erasing_a_member_blanks_what_the_log_held_of_them,
    only_admins_read_the_log,
    an_import_is_one_entry_with_its_counts,
);

fn integration() -> Caller {
    Caller {
        role: StaffRole::Admin,
        token: Some(TokenId::new()),
        staff: None,
        name: "crm-sync".into(),
        request_id: None,
    }
}

/// The caller's entries, oldest first.
async fn entries_by(app: &App, name: &str) -> Vec<AuditEntry> {
    let filter = AuditFilter { actor_name: Some(name.into()), ..Default::default() };
    let mut page = audit::list(app, &Caller::operator(), &filter, None, Some(500)).await.unwrap().items;
    page.reverse();
    page
}

fn topic(key: &str, name: &str) -> TopicDraft {
    TopicDraft { key: Some(key.into()), name: Some(name.into()), description: None, policies: None }
}

async fn each_change_is_logged_with_who_and_before_and_after(app: App) {
    let caller = integration();
    let created = topics::create(&app, &caller, &topic("recalls", "Recalls")).await.unwrap();
    app.clock.advance(1_000);
    topics::update(
        &app,
        &caller,
        created.id,
        &TopicDraft { name: Some("Product recalls".into()), ..topic("recalls", "x") },
    )
    .await
    .unwrap();
    let variant = VariantDraft { title: Some("Battery recall".into()), ..Default::default() };
    let content = ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() };
    let draft = MessageDraft { topic_id: Some(created.id), content: Some(content), ..Default::default() };
    let message = messages::create(&app, &caller, &draft).await.unwrap();
    messages::schedule(&app, &caller, message.id, Timestamp::from_millis(common::NOW + 86_400_000)).await.unwrap();
    messages::cancel(&app, &caller, message.id).await.unwrap();

    let log = entries_by(&app, "crm-sync").await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["topic.create", "topic.update", "message.create", "message.schedule", "message.cancel"]);
    assert!(
        log.iter()
            .all(|e| e.actor.kind == tidings_core::ActorKind::Token && e.actor.id == caller.token.map(|t| t.as_uuid()))
    );
    assert_eq!(log[0].subject_kind, "topic");
    assert_eq!(log[0].subject_id, Some(created.id.as_uuid()));
    assert_eq!(log[0].before, None);
    assert_eq!(log[0].after.as_ref().unwrap()["name"], "Recalls");
    assert_eq!(log[1].before.as_ref().unwrap()["name"], "Recalls");
    assert_eq!(log[1].after.as_ref().unwrap()["name"], "Product recalls");
    assert_eq!(log[1].at.as_millis(), common::NOW + 1_000);
    assert_eq!(log[3].before.as_ref().unwrap()["state"], "draft");
    assert_eq!(log[3].after.as_ref().unwrap()["state"], "scheduled");
    assert_eq!(log[4].after.as_ref().unwrap()["state"], "cancelled");

    // A console user is logged as staff, by id.
    let person = tidings_app::staff::add(&app, &Caller::operator(), "ops@vendor.example", "Olga Ops", StaffRole::Admin)
        .await
        .unwrap();
    let unused = topics::create(&app, &Caller::operator(), &topic("unused", "Unused")).await.unwrap();
    topics::delete(&app, &Caller::staff(&person), unused.id).await.unwrap();
    let log = entries_by(&app, "Olga Ops").await;
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].actor.kind.as_str(), log[0].actor.id), ("staff", Some(person.id.as_uuid())));
    assert_eq!(log[0].before.as_ref().unwrap()["key"], "unused");
    assert_eq!(log[0].after, None);
    let about_topic = AuditFilter { subject_id: Some(unused.id.as_uuid()), ..Default::default() };
    let page = audit::list(&app, &Caller::operator(), &about_topic, None, None).await.unwrap();
    let actions: Vec<&str> = page.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["topic.delete", "topic.create"], "newest first");
}

async fn a_refused_change_leaves_no_entry(app: App) {
    let caller = integration();
    let partner = partners::list(&app, &caller, &Default::default(), None, Some(1)).await.unwrap().items.remove(0);
    let bad = PartnerDraft { name: Some(" ".into()), ..Default::default() };
    assert!(matches!(partners::update(&app, &caller, partner.id, &bad).await, Err(AppError::Invalid(_))));
    let author = Caller { role: StaffRole::Author, ..integration() };
    let rename = PartnerDraft { name: Some("Renamed".into()), ..Default::default() };
    assert!(matches!(partners::update(&app, &author, partner.id, &rename).await, Err(AppError::Forbidden(_))));
    assert!(entries_by(&app, "crm-sync").await.is_empty());
    // An update that changes nothing writes nothing, so it logs nothing either.
    let same = PartnerDraft { name: Some(partner.profile.name.clone()), ..Default::default() };
    partners::update(&app, &caller, partner.id, &same).await.unwrap();
    assert!(entries_by(&app, "crm-sync").await.is_empty());
}

async fn erasing_a_member_blanks_what_the_log_held_of_them(app: App) {
    let caller = integration();
    let partner = partners::list(&app, &caller, &Default::default(), None, Some(1)).await.unwrap().items.remove(0);
    let draft = MemberDraft {
        partner_id: Some(partner.id),
        email: Some("erase.me@partner.example".into()),
        name: Some("Erin Erase".into()),
        roles: Some(vec!["sales".into()]),
        ..Default::default()
    };
    let member = members::create(&app, &caller, &draft).await.unwrap();
    let rename = MemberDraft { name: Some("Erin E.".into()), ..Default::default() };
    members::update(&app, &caller, member.id, &rename).await.unwrap();
    members::delete(&app, &caller, member.id).await.unwrap();

    let log = entries_by(&app, "crm-sync").await;
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["member.create", "member.update", "member.delete"]);
    assert!(log.iter().all(|e| e.subject_id == Some(member.id.as_uuid())));
    assert!(log.iter().all(|e| e.before.is_none() && e.after.is_none()), "nothing of the member is kept: {log:?}");
}

async fn only_admins_read_the_log(app: App) {
    for role in [StaffRole::Author, StaffRole::Approver, StaffRole::Analyst] {
        let caller = Caller { role, ..integration() };
        let refused = audit::list(&app, &caller, &AuditFilter::default(), None, None).await;
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "{role} must not read the audit log");
    }
    audit::list(&app, &integration(), &AuditFilter::default(), None, None).await.unwrap();
}

async fn an_import_is_one_entry_with_its_counts(app: App) {
    let csv = "external_id,name,type,tier\nP-900,Nordlicht GmbH,reseller,growth\nP-901,,reseller,growth\n";
    let source = Box::new(std::io::Cursor::new(csv.to_owned()));
    let report = import_partners(&app, &integration(), source, ImportOptions::default()).await.unwrap();
    assert_eq!((report.created, report.failed), (1, 1));
    let log = entries_by(&app, "crm-sync").await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "partner.import");
    assert_eq!(log[0].after.as_ref().unwrap()["created"], 1);
    assert_eq!(log[0].after.as_ref().unwrap()["failed"], 1);
}
