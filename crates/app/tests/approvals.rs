//! The four-eyes rule: messages the policy names go only after a second person approves
//! them, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::approvals::{self, ApprovalPolicy};
use tidings_app::{App, AppError, Caller, messages, release};
use tidings_core::audiences::AudienceDraft;
use tidings_core::messages::{ContentDraft, Importance, MessageDraft, VariantDraft};
use tidings_core::{MessageId, StaffRole, Timestamp};

both_engines!(
    seeded:
    a_critical_message_goes_only_after_someone_else_approves_it,
    a_change_after_approval_needs_a_new_approval,
    the_rule_can_name_topics,
    only_admins_change_the_policy,
);

async fn person(app: &App, name: &str, role: StaffRole) -> Caller {
    let email = format!("{}@vendor.example", name.to_lowercase());
    Caller::staff(&tidings_app::staff::add(app, &Caller::operator(), &email, name, role).await.unwrap())
}

async fn draft(app: &App, author: &Caller, importance: &str, topic_key: &str) -> MessageId {
    let topic = tidings_app::topics::get_by_key(app, author, topic_key).await.unwrap();
    let variant =
        VariantDraft { title: Some("Recall".into()), what_to_do: Some("Pull the stock.".into()), ..Default::default() };
    let d = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some(importance.into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { rule: Some("member.role = \"support\"".into()), ..Default::default() }),
        ..Default::default()
    };
    messages::create(app, author, &d).await.unwrap().id
}

fn critical_only() -> ApprovalPolicy {
    ApprovalPolicy { importances: vec![Importance::Critical], topics: vec![] }
}

fn refused_for_approval(result: Result<impl std::fmt::Debug, AppError>) {
    match result {
        Err(AppError::Conflict(reason)) => assert!(reason.contains("second person"), "{reason}"),
        other => panic!("expected a refusal for want of approval, got {other:?}"),
    }
}

async fn a_critical_message_goes_only_after_someone_else_approves_it(app: App) {
    approvals::set_policy(&app, &Caller::operator(), &critical_only()).await.unwrap();
    let author = person(&app, "Ada", StaffRole::Author).await;
    let admin = person(&app, "Abe", StaffRole::Admin).await;
    let approver = person(&app, "Ari", StaffRole::Approver).await;

    let info = draft(&app, &author, "info", "announcements").await;
    release::release(&app, &author, info).await.unwrap();

    let id = draft(&app, &author, "critical", "operations").await;
    assert!(approvals::status(&app, &author, id).await.unwrap().required);
    refused_for_approval(release::release(&app, &author, id).await);
    let tomorrow = Timestamp::from_millis(common::NOW + 86_400_000);
    refused_for_approval(messages::schedule(&app, &author, id, tomorrow).await);
    assert!(
        matches!(approvals::approve(&app, &author, id).await, Err(AppError::Forbidden(_))),
        "authors do not approve"
    );

    // An admin who changed the message is one of its writers: not the second pair of eyes.
    let retitled = MessageDraft { importance: Some("critical".into()), ..Default::default() };
    messages::update(&app, &admin, id, &retitled).await.unwrap();
    match approvals::approve(&app, &admin, id).await {
        Err(AppError::Conflict(reason)) => assert!(reason.contains("four eyes"), "{reason}"),
        other => panic!("{other:?}"),
    }

    let approval = approvals::approve(&app, &approver, id).await.unwrap();
    assert_eq!((approval.approved_by.kind.as_str(), approval.approved_by.name.as_str()), ("staff", "Ari"));
    let report = release::release(&app, &author, id).await.unwrap();
    assert!(report.recipients > 0);
    assert!(matches!(approvals::approve(&app, &approver, id).await, Err(AppError::Conflict(_))), "only drafts");
    let log = tidings_app::audit::list(
        &app,
        &Caller::operator(),
        &tidings_store::audit::AuditFilter { subject_id: Some(id.as_uuid()), ..Default::default() },
        None,
        None,
    )
    .await
    .unwrap();
    let actions: Vec<&str> = log.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["message.release", "message.approve", "message.update", "message.create"]);
}

async fn a_change_after_approval_needs_a_new_approval(app: App) {
    approvals::set_policy(&app, &Caller::operator(), &critical_only()).await.unwrap();
    let author = person(&app, "Ada", StaffRole::Author).await;
    let approver = person(&app, "Ari", StaffRole::Approver).await;
    let id = draft(&app, &author, "critical", "operations").await;
    approvals::approve(&app, &approver, id).await.unwrap();
    let tomorrow = Timestamp::from_millis(common::NOW + 86_400_000);
    messages::schedule(&app, &author, id, tomorrow).await.unwrap();
    let change = MessageDraft { importance: Some("critical".into()), ..Default::default() };
    assert!(
        matches!(messages::update(&app, &author, id, &change).await, Err(AppError::Conflict(_))),
        "scheduled: frozen"
    );
    messages::unschedule(&app, &author, id).await.unwrap();
    messages::update(&app, &author, id, &change).await.unwrap();
    assert!(approvals::status(&app, &author, id).await.unwrap().approval.is_none(), "the change drops the approval");
    refused_for_approval(release::release(&app, &author, id).await);
    approvals::approve(&app, &approver, id).await.unwrap();
    release::release(&app, &author, id).await.unwrap();
}

async fn the_rule_can_name_topics(app: App) {
    let author = person(&app, "Ada", StaffRole::Author).await;
    let operations = tidings_app::topics::get_by_key(&app, &author, "operations").await.unwrap();
    let policy = ApprovalPolicy { importances: vec![], topics: vec![operations.id] };
    approvals::set_policy(&app, &Caller::operator(), &policy).await.unwrap();
    let on_topic = draft(&app, &author, "info", "operations").await;
    refused_for_approval(release::release(&app, &author, on_topic).await);
    let critical_elsewhere = draft(&app, &author, "critical", "announcements").await;
    release::release(&app, &author, critical_elsewhere).await.unwrap();
}

async fn only_admins_change_the_policy(app: App) {
    for role in [StaffRole::Author, StaffRole::Approver, StaffRole::Analyst] {
        let caller = person(&app, &format!("P{role}"), role).await;
        let refused = approvals::set_policy(&app, &caller, &critical_only()).await;
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "{role}");
        assert_eq!(approvals::policy(&app, &caller).await.unwrap(), ApprovalPolicy::default());
    }
    let bad = ApprovalPolicy { importances: vec![], topics: vec![tidings_core::TopicId::new()] };
    assert!(matches!(approvals::set_policy(&app, &Caller::operator(), &bad).await, Err(AppError::Invalid(_))));
}
