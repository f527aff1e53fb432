//! The checks a message gets before it goes: an audience that has had many messages this
//! week is warned about, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::{App, Caller, lint};
use tidings_core::{MemberDraft, MessageId, PartnerDraft};

both_engines!(
    unseeded:
    a_busy_audience_is_warned_about,
);

async fn message(app: &App, title: &str) -> MessageId {
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "news",
        "importance": "info",
        "channels": ["inbox"],
        "content": {"variants": {"en": {"title": title, "what_to_do": "Read it."}}},
        "audience": {"rule": "member.email exists"}
    }))
    .unwrap();
    tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap().id
}

fn busy(warnings: &[lint::Warning]) -> bool {
    warnings.iter().any(|w| w.code == "busy_audience")
}

async fn a_busy_audience_is_warned_about(app: App) {
    let topic = tidings_core::TopicDraft { key: Some("news".into()), name: Some("News".into()), ..Default::default() };
    tidings_app::topics::create(&app, &Caller::operator(), &topic).await.unwrap();
    let partner = PartnerDraft { name: Some("Acme".into()), partner_type: Some("dealer".into()), ..Default::default() };
    let acme = tidings_app::partners::create(&app, &Caller::operator(), &partner).await.unwrap();
    let ana = MemberDraft { partner_id: Some(acme.id), email: Some("ana@acme.example".into()), ..Default::default() };
    tidings_app::members::create(&app, &Caller::operator(), &ana).await.unwrap();

    let next = message(&app, "Fourth").await;
    assert!(!busy(&lint::lint(&app, &Caller::operator(), next).await.unwrap()), "nothing was sent yet");
    for title in ["First", "Second", "Third"] {
        let id = message(&app, title).await;
        tidings_app::release::release(&app, &Caller::operator(), id).await.unwrap();
        app.clock.advance(3_600_000);
    }
    let warnings = lint::lint(&app, &Caller::operator(), next).await.unwrap();
    assert!(busy(&warnings), "three messages this week: {warnings:?}");
    // A week later they have calmed down.
    app.clock.advance(7 * 86_400_000);
    assert!(!busy(&lint::lint(&app, &Caller::operator(), next).await.unwrap()));
}
