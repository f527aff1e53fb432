//! The engagement overview: last activity per partner moves with what members do, rates
//! over a window, and the partners gone silent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::inbox::{self, Origin};
use tidings_app::{App, Caller, engagement, messages, release};
use tidings_core::audiences::AudienceDraft;
use tidings_core::messages::{AcknowledgmentDraft, ContentDraft, MessageDraft, VariantDraft};

both_engines!(seeded: activity_and_rates_follow_what_members_do);

async fn activity_and_rates_follow_what_members_do(app: App) {
    let operator = Caller::operator();
    let before = engagement::overview(&app, &operator, 90, 60).await.unwrap();
    assert_eq!(before.partners.len(), 40);
    assert_eq!(before.messages, 0);
    assert!(before.partners.windows(2).all(|w| w[0].silent >= w[1].silent), "the silent first");

    // One partner's people get a must-know message; one of them acknowledges it.
    let target = before.partners.iter().find(|p| p.silent && p.members > 1).expect("a silent partner").clone();
    let topic = tidings_app::topics::get_by_key(&app, &operator, "operations").await.unwrap();
    let variant =
        VariantDraft { title: Some("Recall".into()), what_to_do: Some("Pull it.".into()), ..Default::default() };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("critical".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { partners: vec![target.partner_id], ..Default::default() }),
        acknowledgment: Some(AcknowledgmentDraft { statement: Some("Done".into()), ..Default::default() }),
        ..Default::default()
    };
    let id = messages::create(&app, &operator, &draft).await.unwrap().id;
    let sent = release::release(&app, &operator, id).await.unwrap();
    app.clock.advance(60_000);
    let member_id = {
        let mut tx = app.db.read().await.unwrap();
        let filter = tidings_store::members::MemberFilter { partner_id: Some(target.partner_id), ..Default::default() };
        tidings_store::members::list(&mut tx, &filter, None, Some(1)).await.unwrap().items.remove(0)
    };
    let origin = Origin { ip: Some("192.0.2.1".into()), user_agent: Some("Browser".into()) };
    let shown = inbox::view(&app, &member_id, id, &origin).await.unwrap();
    inbox::acknowledge(
        &app,
        &member_id,
        id,
        &shown.rendered.content_hash,
        &Default::default(),
        &origin,
        tidings_app::evidence::record::AckContext::API,
    )
    .await
    .unwrap();

    let after = engagement::overview(&app, &operator, 90, 60).await.unwrap();
    assert_eq!(after.messages, 1);
    let row = after.partners.iter().find(|p| p.partner_id == target.partner_id).unwrap();
    assert!(!row.silent, "an acknowledgment is activity");
    assert_eq!(row.last_active.unwrap(), app.clock.now());
    assert_eq!((row.received, row.asked, row.acknowledged), (sent.recipients as i64, sent.recipients as i64, 1));
    assert_eq!(row.read, 1, "acknowledging reads");
    assert!(matches!(engagement::overview(&app, &operator, 0, 60).await, Err(tidings_app::AppError::Invalid(_))));
}
