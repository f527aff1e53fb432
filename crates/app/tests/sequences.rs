//! Sequences driven by the test clock over simulated days: a member enters on their event,
//! gets each step at its time (or is passed over by its condition), leaves on their goal,
//! is never in a sequence twice at once; a partner enters on its own event and leaves on
//! its first deal; two workers move each step on once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::automation::{firing, intake, sequences, stepping};
use tidings_app::{App, Caller, inbox};
use tidings_core::automation::EventInput;
use tidings_core::automation::sequence::SequenceDraft;
use tidings_core::{Member, MemberDraft};

both_engines!(
    unseeded:
    a_member_goes_step_by_step_and_leaves_on_the_goal,
    a_partner_enters_on_its_own_event_and_leaves_on_its_first_deal,
    workers_racing_move_each_step_on_once,
    a_rule_takes_in_the_members_it_selects_once_each,
);

const DAY: i64 = 86_400_000;

async fn onboarding(app: &App) {
    let draft: SequenceDraft = serde_json::from_value(serde_json::json!({
        "key": "onboarding", "name": "Onboarding", "entry_event": "member.created", "goal_event": "deal.registered",
        "topic": "recalls",
        "steps": [
            {"name": "Welcome", "channels": ["inbox"], "content": {"variants": {"en": {"title": "Welcome, {{ member.first_name }}"}}}},
            {"name": "Profile", "after_minutes": 1440, "channels": ["inbox"], "condition": "member.attr.profile_complete != true",
             "content": {"variants": {"en": {"title": "Complete your profile"}}}},
            {"name": "First deal", "after_minutes": 1440, "channels": ["inbox"],
             "content": {"variants": {"en": {"title": "Register your first deal"}}}}
        ]
    }))
    .unwrap();
    sequences::put(app, &Caller::operator(), &draft).await.unwrap();
}

async fn post(app: &App, key: &str, event_type: &str, member: Option<&str>, partner: Option<String>) {
    let data =
        if event_type.starts_with("deal.") { serde_json::json!({"deal_id": key}) } else { serde_json::json!({}) };
    let input = EventInput {
        idempotency_key: Some(key.into()),
        event_type: Some(event_type.into()),
        member: member.map(Into::into),
        partner,
        data: Some(data),
        ..Default::default()
    };
    intake::post(app, &Caller::operator(), &input).await.unwrap();
}

/// Takes in what came, moves the runs on, and releases what they made.
async fn settle(app: &App) {
    firing::run_due(app).await.unwrap();
    stepping::advance(app).await.unwrap();
    tidings_app::release::tick(app).await.unwrap();
}

async fn titles(app: &App, member: &Member) -> Vec<String> {
    let page = inbox::list(app, member, &Default::default()).await.unwrap();
    let mut titles: Vec<String> = page.items.into_iter().map(|i| i.title).collect();
    titles.reverse();
    titles
}

async fn message_ids(app: &App, member: &Member) -> Vec<tidings_core::MessageId> {
    let page = inbox::list(app, member, &Default::default()).await.unwrap();
    page.items.into_iter().map(|i| i.message_id).collect()
}

async fn a_member_goes_step_by_step_and_leaves_on_the_goal(app: App) {
    let people = common::recall_directory(&app).await;
    onboarding(&app).await;
    // Bo has completed the profile: the second step passes over them.
    let done = MemberDraft {
        attributes: Some([("profile_complete".to_owned(), serde_json::json!(true))].into()),
        ..Default::default()
    };
    tidings_app::members::update(&app, &Caller::operator(), people[1].id, &done).await.unwrap();
    post(&app, "m-ana", "member.created", Some("ana@acme.example"), None).await;
    post(&app, "m-bo", "member.created", Some("bo@acme.example"), None).await;
    settle(&app).await;
    assert_eq!(titles(&app, &people[0]).await, ["Welcome, ana"]);
    assert_eq!(titles(&app, &people[1]).await, ["Welcome, bo"]);
    // Runs due together share the step's message, filled for each reader.
    assert_eq!(message_ids(&app, &people[0]).await, message_ids(&app, &people[1]).await);
    // Entering again while in it does nothing.
    post(&app, "m-ana-again", "member.created", Some("ana@acme.example"), None).await;
    settle(&app).await;
    let s = sequences::get(&app, &Caller::operator(), "onboarding").await.unwrap();
    assert_eq!((s.funnel.entered, s.funnel.waiting_at.clone()), (2, vec![0, 2, 0]), "{:?}", s.funnel);

    app.clock.advance(DAY - 60_000);
    settle(&app).await;
    assert_eq!(titles(&app, &people[0]).await.len(), 1, "not before its day");
    app.clock.advance(60_000);
    settle(&app).await;
    assert_eq!(titles(&app, &people[0]).await, ["Welcome, ana", "Complete your profile"]);
    assert_eq!(titles(&app, &people[1]).await, ["Welcome, bo"], "passed over: Bo's profile is complete");

    // Ana registers her first deal: she leaves before the last step.
    post(&app, "d-1", "deal.registered", Some("ana@acme.example"), None).await;
    settle(&app).await;
    app.clock.advance(DAY);
    settle(&app).await;
    assert_eq!(titles(&app, &people[0]).await.len(), 2, "converted: no more steps");
    assert_eq!(titles(&app, &people[1]).await, ["Welcome, bo", "Register your first deal"]);
    let s = sequences::get(&app, &Caller::operator(), "onboarding").await.unwrap();
    let f = s.funnel;
    assert_eq!((f.entered, f.converted, f.finished, f.reached.clone()), (2, 1, 1, vec![2, 2, 1]), "{f:?}");
}

async fn a_partner_enters_on_its_own_event_and_leaves_on_its_first_deal(app: App) {
    let people = common::recall_directory(&app).await;
    let op = Caller::operator();
    let lead = common::acme_lead(&app, people[0].profile.partner_id).await;
    let draft: SequenceDraft = serde_json::from_value(serde_json::json!({
        "key": "partner-activation", "name": "Partner activation", "entry_event": "partner.created",
        "goal_event": "deal.registered", "topic": "recalls",
        "steps": [
            {"name": "Kick-off", "channels": ["inbox"], "content": {"variants": {"en": {"title": "Welcome to the program, {{ partner.name }}"}}}},
            {"name": "Nudge", "after_minutes": 10080, "channels": ["inbox"], "content": {"variants": {"en": {"title": "Ready for your first deal?"}}}}
        ]
    }))
    .unwrap();
    sequences::put(&app, &op, &draft).await.unwrap();
    post(&app, "p-acme", "partner.created", None, Some(people[0].profile.partner_id.to_string())).await;
    settle(&app).await;
    assert_eq!(titles(&app, &lead).await, ["Welcome to the program, Acme"], "the partner's lead hears");
    assert!(titles(&app, &people[0]).await.is_empty(), "not every member");
    // One of its people registers a deal: the partner has activated.
    post(&app, "d-acme", "deal.registered", Some("bo@acme.example"), None).await;
    settle(&app).await;
    app.clock.advance(8 * DAY);
    settle(&app).await;
    assert_eq!(titles(&app, &lead).await.len(), 1, "no nudge after the first deal");
    let s = sequences::get(&app, &op, "partner-activation").await.unwrap();
    assert_eq!((s.funnel.entered, s.funnel.converted), (1, 1));
}

async fn workers_racing_move_each_step_on_once(app: App) {
    let people = common::recall_directory(&app).await;
    onboarding(&app).await;
    for (i, p) in people.iter().enumerate() {
        post(&app, &format!("m-{i}"), "member.created", Some(p.profile.email.as_str()), None).await;
    }
    firing::run_due(&app).await.unwrap();
    let (a, b) = tokio::join!(stepping::advance(&app), stepping::advance(&app));
    a.unwrap();
    b.unwrap();
    tidings_app::release::tick(&app).await.unwrap();
    for p in &people {
        assert_eq!(titles(&app, p).await.len(), 1, "{}", p.profile.email);
    }
    let s = sequences::get(&app, &Caller::operator(), "onboarding").await.unwrap();
    assert_eq!(s.funnel.reached, vec![3, 0, 0]);
}

async fn a_rule_takes_in_the_members_it_selects_once_each(app: App) {
    let people = common::recall_directory(&app).await;
    let draft: SequenceDraft = serde_json::from_value(serde_json::json!({
        "key": "acme-welcome", "name": "Welcome Acme", "entry_event": "member.created",
        "entry_rule": "partner.name = \"Acme\"", "topic": "recalls",
        "steps": [{"name": "Hello", "channels": ["inbox"], "content": {"variants": {"en": {"title": "Hello Acme"}}}}]
    }))
    .unwrap();
    sequences::put(&app, &Caller::operator(), &draft).await.unwrap();
    let bad = SequenceDraft { entry_rule: Some("member.shoe_size = 3".into()), ..draft.clone() };
    let refused = sequences::put(&app, &Caller::operator(), &bad).await.unwrap_err().to_string();
    assert!(refused.contains("entry_rule"), "{refused}");

    assert_eq!(sequences::enrol_by_rule(&app).await.unwrap(), 2, "Ana and Bo of Acme, not Cy of Beta");
    settle(&app).await;
    assert_eq!(titles(&app, &people[0]).await, ["Hello Acme"]);
    assert!(titles(&app, &people[2]).await.is_empty());
    // They finished; the rule still selects them, and takes in nobody twice.
    app.clock.advance(DAY);
    settle(&app).await;
    assert_eq!(sequences::enrol_by_rule(&app).await.unwrap(), 0);
    assert_eq!(titles(&app, &people[1]).await, ["Hello Acme"]);
}
