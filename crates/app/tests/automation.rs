//! Events in from a CRM and the triggers that answer them, driven by the test clock: an
//! event is taken in once whatever the repeats, checked against its type, and a trigger
//! whose condition holds sends its message, filled from the event, to exactly the people
//! it names, at the event's time plus its delay, once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::automation::{event_types, events, firing, intake, triggers};
use tidings_app::{App, AppError, Caller, inbox};
use tidings_core::Member;
use tidings_core::automation::{EventInput, TriggerDraft};

both_engines!(
    unseeded:
    a_rejected_deal_tells_its_member_why_once_whatever_the_repeats,
    a_condition_on_the_data_picks_events_and_roles_pick_people,
    a_delay_holds_the_message_until_its_time,
    bad_events_and_triggers_are_refused_with_their_fields_named,
    repeats_racing_each_other_are_taken_in_once,
    a_trigger_for_the_partner_manager_opens_a_task_per_event,
);

fn input(key: &str, event_type: &str, member: &str, data: serde_json::Value) -> EventInput {
    EventInput {
        idempotency_key: Some(key.into()),
        event_type: Some(event_type.into()),
        member: Some(member.into()),
        data: Some(data),
        ..Default::default()
    }
}

fn trigger(value: serde_json::Value) -> TriggerDraft {
    serde_json::from_value(value).unwrap()
}

async fn put(app: &App, value: serde_json::Value) {
    triggers::put(app, &Caller::operator(), &trigger(value)).await.unwrap();
}

async fn rejection_trigger(app: &App) {
    put(
        app,
        serde_json::json!({
            "key": "deal-rejected", "name": "Deal rejected", "event_type": "deal.rejected", "topic": "recalls",
            "importance": "action", "channels": ["inbox"],
            "content": {"variants": {"en": {
                "title": "Deal {{ event.deal_id }} was not approved",
                "why_it_matters": "Reason: {{ event.reason }}",
                "what_to_do": "{{ member.first_name }}, correct it and register it again."}}}
        }),
    )
    .await;
}

/// Runs the jobs until nothing more is due at this moment (a triggered message is
/// released on the scheduler's next turn).
async fn settle(app: &App) {
    firing::run_due(app).await.unwrap();
    tidings_app::release::tick(app).await.unwrap();
}

async fn titles(app: &App, member: &Member) -> Vec<String> {
    let page = inbox::list(app, member, &Default::default()).await.unwrap();
    page.items.into_iter().map(|i| i.title).collect()
}

async fn a_rejected_deal_tells_its_member_why_once_whatever_the_repeats(app: App) {
    let people = common::recall_directory(&app).await;
    rejection_trigger(&app).await;
    let op = Caller::operator();
    let event = input(
        "crm-1",
        "deal.rejected",
        "ana@acme.example",
        serde_json::json!({"deal_id": "D-7", "reason": "Duplicate registration"}),
    );
    let first = intake::post(&app, &op, &event).await.unwrap();
    assert!(!first.repeat);
    assert_eq!(first.event.partner_id, people[0].profile.partner_id, "the member names their partner");
    let again = intake::post(&app, &op, &event).await.unwrap();
    assert!(again.repeat);
    assert_eq!(again.event.id, first.event.id);
    let clash =
        input("crm-1", "deal.rejected", "ana@acme.example", serde_json::json!({"deal_id": "D-8", "reason": "x"}));
    assert!(matches!(intake::post(&app, &op, &clash).await, Err(AppError::Conflict(_))));

    settle(&app).await;
    settle(&app).await;
    let ana = titles(&app, &people[0]).await;
    assert_eq!(ana, ["Deal D-7 was not approved"]);
    assert!(titles(&app, &people[1]).await.is_empty(), "Bo is not the member the event names");
    assert!(titles(&app, &people[2]).await.is_empty());
    let shown = inbox::list(&app, &people[0], &Default::default()).await.unwrap();
    let origin = inbox::Origin { ip: None, user_agent: None };
    let detail = inbox::view(&app, &people[0], shown.items[0].message_id, &origin).await.unwrap();
    assert!(
        detail.rendered.why_it_matters.contains("Reason: Duplicate registration"),
        "{}",
        detail.rendered.why_it_matters
    );
    assert!(detail.rendered.what_to_do.contains("ana, correct it"), "{}", detail.rendered.what_to_do);

    let detail = events::get(&app, &op, first.event.id).await.unwrap();
    assert_eq!(detail.firings.len(), 1);
    assert_eq!(detail.firings[0].outcome, "sent");
    let summary = triggers::get(&app, &op, "deal-rejected").await.unwrap();
    assert_eq!((summary.firings.sent, summary.firings.passed), (1, 0));
    let listed = events::list(&app, &op, &events::EventQuery { member_id: Some(people[0].id), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(listed.items.len(), 1, "one event, however often it was posted");
}

async fn a_condition_on_the_data_picks_events_and_roles_pick_people(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    let lead = common::acme_lead(&app, people[0].profile.partner_id).await;
    // Multiplying is refused in templates; a trigger says so when it is saved.
    let refused = triggers::put(
        &app,
        &op,
        &trigger(serde_json::json!({
            "key": "near-target", "name": "Near the target", "event_type": "incentive.progress", "topic": "recalls",
            "content": {"variants": {"en": {"title": "{{ event.progress * 100 }}"}}}
        })),
    )
    .await;
    assert!(matches!(refused, Err(AppError::Invalid(_))), "{refused:?}");
    put(
        &app,
        serde_json::json!({
            "key": "near-target", "name": "Near the target", "event_type": "incentive.progress", "topic": "recalls",
            "condition": "event.progress >= 0.8", "recipients": "partner_leads", "channels": ["inbox"],
            "content": {"variants": {"en": {"title": "{{ partner.name }} is close to the {{ event.program }} target"}}}
        }),
    )
    .await;
    let acme = people[0].profile.partner_id.to_string();
    for (key, progress) in [("p-1", 0.5), ("p-2", 0.85)] {
        let event = EventInput {
            idempotency_key: Some(key.into()),
            event_type: Some("incentive.progress".into()),
            partner: Some(acme.clone()),
            data: Some(serde_json::json!({"program": "Q4 growth", "progress": progress})),
            ..Default::default()
        };
        intake::post(&app, &op, &event).await.unwrap();
    }
    settle(&app).await;
    assert_eq!(titles(&app, &lead).await, ["Acme is close to the Q4 growth target"], "once: 0.5 is below the bar");
    assert!(titles(&app, &people[0]).await.is_empty(), "Ana is no lead");
    let summary = triggers::get(&app, &op, "near-target").await.unwrap();
    assert_eq!((summary.firings.sent, summary.firings.passed), (1, 1));
}

async fn a_delay_holds_the_message_until_its_time(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    put(
        &app,
        serde_json::json!({
            "key": "welcome", "name": "Welcome", "event_type": "member.created", "topic": "recalls",
            "delay_minutes": 60, "channels": ["inbox"],
            "content": {"variants": {"en": {"title": "Welcome, {{ member.first_name }}"}}}
        }),
    )
    .await;
    intake::post(&app, &op, &input("m-1", "member.created", "bo@acme.example", serde_json::json!({}))).await.unwrap();
    settle(&app).await;
    assert!(titles(&app, &people[1]).await.is_empty(), "not before its hour");
    app.clock.advance(59 * 60_000);
    settle(&app).await;
    assert!(titles(&app, &people[1]).await.is_empty());
    app.clock.advance(60_000);
    settle(&app).await;
    assert_eq!(titles(&app, &people[1]).await, ["Welcome, bo"]);
    // Running again later never answers the event twice.
    app.clock.advance(3_600_000);
    settle(&app).await;
    assert_eq!(titles(&app, &people[1]).await.len(), 1);
}

async fn bad_events_and_triggers_are_refused_with_their_fields_named(app: App) {
    common::recall_directory(&app).await;
    let op = Caller::operator();
    let fields = |e: AppError| match e {
        AppError::Invalid(errors) => errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    let no_reason = input("k-1", "deal.rejected", "ana@acme.example", serde_json::json!({"deal_id": "D-1"}));
    assert_eq!(fields(intake::post(&app, &op, &no_reason).await.unwrap_err()), ["data.reason"]);
    let unknown = input("k-2", "quote.sent", "nobody@acme.example", serde_json::json!({}));
    assert_eq!(fields(intake::post(&app, &op, &unknown).await.unwrap_err()), ["type", "member"]);
    let wrong_partner = EventInput {
        partner: Some("no-such-partner".into()),
        ..input("k-3", "deal.registered", "ana@acme.example", serde_json::json!({"deal_id": "D"}))
    };
    assert_eq!(fields(intake::post(&app, &op, &wrong_partner).await.unwrap_err()), ["partner"]);

    // A declared custom type is checked like a built-in one.
    let declared = event_types::EventTypeDraft {
        description: Some("A quote went out".into()),
        schema: Some(
            serde_json::from_value(
                serde_json::json!({"fields": [{"name": "quote_id", "type": "text", "required": true}]}),
            )
            .unwrap(),
        ),
    };
    event_types::put(&app, &op, "quote.sent", &declared).await.unwrap();
    assert_eq!(fields(intake::post(&app, &op, &unknown).await.unwrap_err()), ["data.quote_id", "member"]);
    let ok = input("k-4", "quote.sent", "ana@acme.example", serde_json::json!({"quote_id": "Q-1"}));
    intake::post(&app, &op, &ok).await.unwrap();

    let reads_missing = trigger(serde_json::json!({
        "key": "quote", "name": "Quote", "event_type": "quote.sent", "topic": "recalls",
        "condition": "event.amount > 5 and member.role = \"ceo\"",
        "content": {"variants": {"en": {"title": "Quote {{ event.quote_number }}"}}}
    }));
    assert_eq!(fields(triggers::put(&app, &op, &reads_missing).await.unwrap_err()), ["content", "condition"]);
    let author = Caller { role: tidings_core::StaffRole::Analyst, ..Caller::operator() };
    assert!(matches!(triggers::put(&app, &author, &reads_missing).await, Err(AppError::Forbidden(_))));
    assert!(matches!(intake::post(&app, &author, &ok).await, Err(AppError::Forbidden(_))));

    // A key twice in one batch: the same body is a repeat of the first, another is refused.
    let twice = input("k-6", "deal.registered", "CY@beta.example", serde_json::json!({"deal_id": "D-10"}));
    let clash = input("k-6", "deal.registered", "cy@beta.example", serde_json::json!({"deal_id": "D-11"}));
    let batch = [
        ok.clone(),
        no_reason.clone(),
        input("k-5", "deal.registered", "cy@beta.example", serde_json::json!({"deal_id": "D-9"})),
        twice.clone(),
        twice,
        clash,
    ];
    let items = intake::post_batch(&app, &op, &batch).await.unwrap();
    let statuses: Vec<&str> = items.iter().map(|i| i.status).collect();
    assert_eq!(statuses, ["repeat", "invalid", "created", "created", "repeat", "invalid"]);
    assert_eq!(items[3].event_id, items[4].event_id);
    let fields: Vec<&str> = items[5].errors.iter().flatten().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["idempotency_key"]);
}

async fn repeats_racing_each_other_are_taken_in_once(app: App) {
    common::recall_directory(&app).await;
    rejection_trigger(&app).await;
    let event = input(
        "race-1",
        "deal.rejected",
        "cy@beta.example",
        serde_json::json!({"deal_id": "D-1", "reason": "Out of territory"}),
    );
    let posts = (0..8).map(|_| {
        let (app, event) = (app.clone(), event.clone());
        tokio::spawn(async move { intake::post(&app, &Caller::operator(), &event).await })
    });
    let results: Vec<_> = futures_util::future::join_all(posts).await.into_iter().map(|r| r.unwrap()).collect();
    let ids: std::collections::HashSet<_> = results.iter().map(|r| r.as_ref().unwrap().event.id).collect();
    assert_eq!(ids.len(), 1, "one event");
    assert_eq!(results.iter().filter(|r| !r.as_ref().unwrap().repeat).count(), 1, "taken in once, the rest repeats");
    // Two workers running the triggers at once answer it once.
    let (a, b) = tokio::join!(firing::run_due(&app), firing::run_due(&app));
    a.unwrap();
    b.unwrap();
    let op = Caller::operator();
    let summary = triggers::get(&app, &op, "deal-rejected").await.unwrap();
    assert_eq!(summary.firings.sent, 1);
}

async fn a_trigger_for_the_partner_manager_opens_a_task_per_event(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    tidings_app::staff::add(&app, &op, "maria@vendor.example", "Maria Keller", tidings_core::StaffRole::Author)
        .await
        .unwrap();
    let acme = tidings_app::partners::get(&app, &op, people[0].profile.partner_id).await.unwrap();
    let managed =
        tidings_core::PartnerDraft { partner_manager: Some("maria@vendor.example".into()), ..Default::default() };
    tidings_app::partners::update(&app, &op, acme.id, &managed).await.unwrap();
    put(
        &app,
        serde_json::json!({
            "key": "rejected-tell-manager", "name": "Tell the manager of a rejection", "event_type": "deal.rejected",
            "topic": "recalls", "recipients": "partner_manager",
            "content": {"variants": {"en": {"title": "{{ partner.name }}: deal {{ event.deal_id }} rejected",
                "summary": "{{ event.reason }}"}}}
        }),
    )
    .await;
    for (key, member) in [("r-1", "ana@acme.example"), ("r-2", "bo@acme.example"), ("r-3", "cy@beta.example")] {
        let data = serde_json::json!({"deal_id": key, "reason": "Duplicate"});
        intake::post(&app, &op, &input(key, "deal.rejected", member, data)).await.unwrap();
    }
    firing::run_due(&app).await.unwrap();
    let tasks = tidings_app::automation::silence::tasks(&app, &op, None, false).await.unwrap();
    let mut titles: Vec<&str> = tasks.iter().map(|t| t.title.as_str()).collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        ["Acme: deal r-1 rejected", "Acme: deal r-2 rejected"],
        "one task per event; Beta has no manager"
    );
    assert_eq!(tasks[0].staff_email.as_deref(), Some("maria@vendor.example"));
    assert_eq!(tasks[0].details, ["Duplicate"]);
    let summary = triggers::get(&app, &op, "rejected-tell-manager").await.unwrap();
    assert_eq!((summary.firings.sent, summary.firings.passed), (2, 1), "Beta's counts as let pass");
}
