//! The silent-partner job over simulated months: a partner whose people stopped coming
//! and whose deal stalled gets one task for its manager that says so specifically, kept
//! up to date rather than repeated; an active partner gets none; a policy with a
//! reactivation sequence enrols the quiet partner, whose lead hears from it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::automation::{firing, intake, sequences, silence, stepping};
use tidings_app::{App, Caller};
use tidings_core::automation::EventInput;
use tidings_core::automation::silence::{SilenceAction, SilencePolicy};

both_engines!(
    unseeded:
    a_quiet_partner_gets_one_specific_task_and_an_active_one_none,
    a_policy_can_enrol_quiet_partners_in_a_reactivation_sequence,
);

const DAY: i64 = 86_400_000;

async fn deal(app: &App, key: &str, member: &str) {
    let input = EventInput {
        idempotency_key: Some(key.into()),
        event_type: Some("deal.registered".into()),
        member: Some(member.into()),
        data: Some(serde_json::json!({"deal_id": key})),
        ..Default::default()
    };
    intake::post(app, &Caller::operator(), &input).await.unwrap();
    firing::run_due(app).await.unwrap();
}

async fn touch(app: &App, member: &tidings_core::Member) {
    let mut tx = app.db.begin().await.unwrap();
    tidings_store::members::touch(&mut tx, member.id, app.clock.now()).await.unwrap();
    tx.commit().await.unwrap();
}

async fn a_quiet_partner_gets_one_specific_task_and_an_active_one_none(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    deal(&app, "D-1", "ana@acme.example").await;
    deal(&app, "D-2", "cy@beta.example").await;
    app.clock.advance(70 * DAY);
    // Beta's person came by yesterday and Beta's deal moved on.
    touch(&app, &people[2]).await;
    let approved = EventInput {
        idempotency_key: Some("D-2-approved".into()),
        event_type: Some("deal.approved".into()),
        member: Some("cy@beta.example".into()),
        data: Some(serde_json::json!({"deal_id": "D-2"})),
        ..Default::default()
    };
    intake::post(&app, &op, &approved).await.unwrap();

    let found = silence::find_now(&app, &op).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].partner_name, "Acme");
    assert_eq!(
        found[0].findings,
        ["none of the 2 people at Acme has ever been active", "1 open deal with no update for 45 days or more: D-1"]
    );
    assert!(found[0].new_task);
    let open = silence::tasks(&app, &op, None, false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].title.as_str(), open[0].details.len()), ("Acme has gone quiet", 2));

    // A day later: still quiet, the same task brought up to date, not a second one.
    app.clock.advance(DAY);
    let again = silence::find_now(&app, &op).await.unwrap();
    assert!(!again[0].new_task);
    assert_eq!(silence::tasks(&app, &op, Some("all"), false).await.unwrap().len(), 1);
    silence::done(&app, &op, open[0].id).await.unwrap();
    assert!(silence::tasks(&app, &op, None, false).await.unwrap().is_empty());
    assert_eq!(silence::tasks(&app, &op, Some("done"), false).await.unwrap()[0].done_by.as_deref(), Some("operator"));
    let analyst = Caller { role: tidings_core::StaffRole::Analyst, ..Caller::operator() };
    assert!(silence::find_now(&app, &analyst).await.is_err());
    assert!(silence::tasks(&app, &op, Some("later"), false).await.is_err());
}

async fn a_policy_can_enrol_quiet_partners_in_a_reactivation_sequence(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    let lead = common::acme_lead(&app, people[0].profile.partner_id).await;
    let reactivation = serde_json::from_value(serde_json::json!({
        "key": "reactivation", "name": "Reactivation", "entry_event": "partner.created", "topic": "recalls",
        "steps": [{"name": "Check in", "channels": ["inbox"],
            "content": {"variants": {"en": {"title": "What can we do for {{ partner.name }}?"}}}}]
    }))
    .unwrap();
    sequences::put(&app, &op, &reactivation).await.unwrap();
    let policy = SilencePolicy {
        action: SilenceAction::Sequence,
        sequence: Some(tidings_core::Slug::parse("reactivation").unwrap()),
        ..Default::default()
    };
    silence::set_policy(&app, &op, &policy).await.unwrap();
    app.clock.advance(61 * DAY);
    touch(&app, &people[2]).await;
    let found = silence::find_now(&app, &op).await.unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].entered_sequence);
    stepping::advance(&app).await.unwrap();
    tidings_app::release::tick(&app).await.unwrap();
    let inbox = tidings_app::inbox::list(&app, &lead, &Default::default()).await.unwrap();
    let titles: Vec<String> = inbox.items.into_iter().map(|i| i.title).collect();
    assert_eq!(titles, ["What can we do for Acme?"]);
    // Quiet the next day too: in the sequence once.
    app.clock.advance(DAY);
    assert!(!silence::find_now(&app, &op).await.unwrap()[0].entered_sequence);
}
