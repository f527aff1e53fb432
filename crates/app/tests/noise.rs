//! Noise control, driven by the test clock against a real SMTP peer: a member on a weekly
//! digest gets one email on Monday morning with the week's nice-to-know messages they
//! have not read; frequency caps hold nice-to-know and need-to-know back to the inbox but
//! never must-know; a partner's defaults sit between the vendor's policy and the member's
//! own choice, and the audience explanation says which layer decided.
//!
//! The fixed test time is Thursday 2026-05-28 20:26 UTC; members are in UTC with the
//! default working hours (Monday to Friday from nine).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tidings_app::audiences;
use tidings_app::consent::{self, ConsentInput, PreferencesPatch};
use tidings_app::inbox::{self, Origin};
use tidings_app::noise::{self, PartnerDefaultsInput};
use tidings_app::partner_channels::PartnerAdmin;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_app::{App, AppError, Caller, messages as compose, release};
use tidings_channels::catcher::MailCatcher;
use tidings_channels::{Channels, SmtpConfig};
use tidings_core::audiences::AudienceDraft;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::messages::{ContentDraft, MessageDraft, MessageState, VariantDraft};
use tidings_core::noise::{DigestFrequency, NoisePolicy};
use tidings_core::{Member, MessageId};

both_engines!(
    unseeded:
    a_weekly_digest_sends_one_email_with_the_weeks_unread_nice_to_know,
    caps_hold_back_outside_channels_but_never_must_know,
    a_partners_default_sits_between_the_vendor_and_the_member,
);

const DAY: i64 = 86_400_000;
/// Monday 2026-06-01 09:00 UTC: the first weekly digest after the test's Thursday.
const MONDAY_NINE: i64 = 1_780_304_400_000;

async fn with_mail(app: App) -> (App, MailCatcher) {
    let smtp = MailCatcher::start();
    let mut app = app;
    app.channels =
        Channels::default().with_smtp(SmtpConfig { port: smtp.port, timeout_secs: 5, ..SmtpConfig::default() });
    app.public_url = Arc::from("https://tidings.example");
    (app, smtp)
}

async fn opt_in(app: &App, people: &[Member]) {
    for m in people {
        let input =
            ConsentInput { purpose: "email".into(), granted: true, lawful_basis: None, text_version: "v1".into() };
        consent::record(app, &Caller::operator(), m.id, &input).await.unwrap();
    }
}

/// Releases a message of `importance` on `recalls`, by email, to everyone.
async fn send(app: &App, importance: &str, title: &str) -> MessageId {
    let id = draft(app, importance, title).await;
    release::release(app, &Caller::operator(), id).await.unwrap();
    id
}

async fn draft(app: &App, importance: &str, title: &str) -> MessageId {
    let mut tx = app.db.read().await.unwrap();
    let topic = tidings_store::topics::get_by_key(&mut tx, "recalls").await.unwrap();
    drop(tx);
    let variant = VariantDraft {
        title: Some(title.into()),
        summary: Some(format!("About {title}")),
        what_changed: Some("Something changed.".into()),
        why_it_matters: Some("It matters.".into()),
        what_to_do: Some("Read it.".into()),
        call_to_action: None,
    };
    let draft = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some(importance.into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { rule: Some("partner.type = 'dealer'".into()), ..Default::default() }),
        channels: Some(vec!["inbox".into(), "email".into()]),
        ..Default::default()
    };
    compose::create(app, &Caller::operator(), &draft).await.unwrap().id
}

async fn drain(app: &App) {
    let mut cache = Cache::default();
    while work_once(app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
}

/// Each delivery of the message: (member email, purpose, status, error).
async fn sends_of(app: &App, message: MessageId) -> Vec<(String, Purpose, DeliveryStatus, Option<String>)> {
    let mut tx = app.db.read().await.unwrap();
    let mut out = Vec::new();
    for d in tidings_store::deliveries::of_message(&mut tx, message).await.unwrap() {
        let member = tidings_store::members::get(&mut tx, d.member_id).await.unwrap();
        out.push((member.profile.email.to_string(), d.purpose, d.status, d.error));
    }
    out.sort();
    out
}

async fn a_weekly_digest_sends_one_email_with_the_weeks_unread_nice_to_know(app: App) {
    let (app, smtp) = with_mail(app).await;
    let people = common::recall_directory(&app).await;
    let (ana, bo, cy) = (&people[0], &people[1], &people[2]);
    opt_in(&app, &people).await;
    let op = Caller::operator();
    // Acme puts its people on a weekly digest; Bo keeps each message as it comes.
    let weekly = PartnerDefaultsInput { digest: Some(DigestFrequency::Weekly), ..Default::default() };
    noise::set_partner_defaults(&app, PartnerAdmin::Staff(&op), ana.profile.partner_id, &weekly).await.unwrap();
    let off = PreferencesPatch { digest: Some("off".into()), ..Default::default() };
    consent::set_preferences(&app, &op, bo.id, &off).await.unwrap();

    let dealers = AudienceDraft { rule: Some("partner.type = 'dealer'".into()), ..Default::default() };
    let why = audiences::explain(&app, &op, &dealers, "ana@acme.example", Some("recalls")).await.unwrap();
    let digest = why.digest.unwrap();
    assert_eq!(digest.frequency, DigestFrequency::Weekly);
    assert!(digest.reason.starts_with("their partner's admin set a weekly digest"), "{}", digest.reason);
    let bo_prefs = consent::preferences(&app, &op, bo.id).await.unwrap();
    assert_eq!(bo_prefs.digest.reason, "the member chose no digest (each message as it comes)");

    let preview = draft(&app, "info", "Preview").await;
    let reach = tidings_app::reach::reach(&app, &op, preview).await.unwrap();
    assert_eq!(reach.held_for_digest, Some(1), "Ana takes it in her digest: {reach:?}");
    let email = reach.channels.iter().find(|c| c.channel == tidings_core::consent::Channel::Email).unwrap();
    assert_eq!(email.reached, 2);
    assert!(email.why_not.as_deref().unwrap().starts_with("1 take nice-to-know messages in their digest"));
    compose::cancel(&app, &op, preview).await.unwrap();

    let news = [send(&app, "info", "New brochure").await, send(&app, "info", "Webinar dates").await];
    let third = send(&app, "info", "Price list").await;
    let recall = send(&app, "critical", "Recall of lot A1").await;
    drain(&app).await;
    // Bo and Cy got the three nice-to-know messages at once; Ana only the must-know one.
    let mails = smtp.wait_for(3 * 2 + 3, Duration::from_secs(5));
    assert_eq!(mails.len(), 9);
    let to_ana: Vec<String> = mails.iter().filter(|m| m.to == ["ana@acme.example"]).map(|m| m.subject()).collect();
    assert_eq!(to_ana.len(), 1, "{to_ana:?}");
    assert!(to_ana[0].contains("Recall of lot A1"), "{to_ana:?}");
    assert_eq!(
        sends_of(&app, third).await[0],
        ("ana@acme.example".into(), Purpose::Digest, DeliveryStatus::Queued, None)
    );
    // Nice-to-know messages are sent once their immediate sends are done, not a week on.
    release::tick(&app).await.unwrap();
    assert_eq!(compose::get(&app, &op, third).await.unwrap().state, MessageState::Sent);
    let _ = (cy, recall);

    // Ana reads one of them in the portal during the week.
    inbox::read(&app, ana, news[1], &Origin::default()).await.unwrap();
    app.clock.advance(MONDAY_NINE - 60_000 - app.clock.now().as_millis());
    drain(&app).await;
    assert_eq!(smtp.received_count(), 9, "nothing before her Monday morning");

    app.clock.advance(MONDAY_NINE - app.clock.now().as_millis());
    drain(&app).await;
    let mails = smtp.wait_for(10, Duration::from_secs(5));
    assert_eq!(mails.len(), 10, "one digest email");
    let digest = &mails[9];
    assert_eq!(digest.to, ["ana@acme.example"]);
    assert_eq!(digest.subject(), "Your digest: 2 updates you have not read");
    let text = digest.text();
    assert!(text.contains("New brochure") && text.contains("Price list"), "{text}");
    assert!(!text.contains("Webinar dates"), "what she read is left out: {text}");
    assert!(digest.header("List-Unsubscribe").is_some(), "a digest can be left with one click");
    let read = sends_of(&app, news[1]).await;
    let ana_read = read.iter().find(|s| s.0 == "ana@acme.example").unwrap();
    assert_eq!(ana_read.2, DeliveryStatus::Suppressed);
    assert_eq!(ana_read.3.as_deref(), Some("the member read it in the portal before the digest went out"));
    assert_eq!(sends_of(&app, third).await[0].2, DeliveryStatus::Sent);
    drain(&app).await;
    assert_eq!(smtp.received_count(), 10, "sent once");
}

async fn caps_hold_back_outside_channels_but_never_must_know(app: App) {
    let (app, smtp) = with_mail(app).await;
    let people = common::recall_directory(&app).await;
    opt_in(&app, &people).await;
    let op = Caller::operator();
    let policy = NoisePolicy { info_cap: Some(2), window_days: 7, ..Default::default() };
    noise::set_policy(&app, &op, &policy).await.unwrap();
    let bad = NoisePolicy { window_days: 90, ..Default::default() };
    assert!(matches!(noise::set_policy(&app, &op, &bad).await, Err(AppError::Invalid(_))));

    let first = send(&app, "info", "One").await;
    send(&app, "info", "Two").await;
    let third = draft(&app, "info", "Three").await;
    let reach = tidings_app::reach::reach(&app, &op, third).await.unwrap();
    assert_eq!(reach.capped, Some(3), "{reach:?}");
    let report = release::release(&app, &op, third).await.unwrap();
    assert_eq!((report.recipients, report.deliveries), (3, 0), "in every inbox, by email to nobody");
    let recall = send(&app, "critical", "Recall").await;
    assert_eq!(sends_of(&app, recall).await.len(), 3, "must-know is never capped");
    drain(&app).await;
    assert_eq!(smtp.wait_for(9, Duration::from_secs(5)).len(), 9);
    assert_eq!(sends_of(&app, first).await.len(), 3);

    // A week on, the first two have left the window.
    app.clock.advance(8 * DAY);
    let later = send(&app, "info", "Four").await;
    assert_eq!(sends_of(&app, later).await.len(), 3);
}

async fn a_partners_default_sits_between_the_vendor_and_the_member(app: App) {
    let people = common::recall_directory(&app).await;
    let (ana, bo) = (&people[0], &people[1]);
    let op = Caller::operator();
    let draft = tidings_core::TopicDraft {
        key: Some("events".into()),
        name: Some("Events".into()),
        policies: Some(tidings_core::consent::TopicPolicies {
            default: tidings_core::consent::TopicPolicy::OptionalOff,
            by_role: BTreeMap::new(),
        }),
        ..Default::default()
    };
    tidings_app::topics::create(&app, &op, &draft).await.unwrap();
    let on = PartnerDefaultsInput { topics: BTreeMap::from([("events".into(), true)]), digest: None };
    // Another partner's lead may not set Acme's defaults; Acme's own lead may.
    let beta_lead = tidings_core::MemberDraft {
        partner_id: Some(people[2].profile.partner_id),
        email: Some("lea@beta.example".into()),
        roles: Some(vec!["partner_lead".into()]),
        ..Default::default()
    };
    let beta_lead = tidings_app::members::create(&app, &op, &beta_lead).await.unwrap();
    let refused = noise::set_partner_defaults(&app, PartnerAdmin::Lead(&beta_lead), ana.profile.partner_id, &on).await;
    assert!(matches!(refused, Err(AppError::Forbidden(_))), "{refused:?}");
    let lead = common::acme_lead(&app, ana.profile.partner_id).await;
    let shown =
        noise::set_partner_defaults(&app, PartnerAdmin::Lead(&lead), ana.profile.partner_id, &on).await.unwrap();
    assert_eq!(shown.topics.iter().find(|t| t.key == "events").unwrap().set, Some(true));
    let unknown = PartnerDefaultsInput { topics: BTreeMap::from([("nope".into(), true)]), digest: None };
    assert!(
        noise::set_partner_defaults(&app, PartnerAdmin::Lead(&lead), ana.profile.partner_id, &unknown).await.is_err()
    );

    let off = PreferencesPatch { topics: BTreeMap::from([("events".into(), false)]), ..Default::default() };
    consent::set_preferences(&app, &op, bo.id, &off).await.unwrap();
    let view = consent::preferences(&app, &op, ana.id).await.unwrap();
    let events = view.topics.iter().find(|t| t.key == "events").unwrap();
    assert!(events.on);
    assert_eq!(events.reason, "their partner's admin turned topic events on for the partner's people");

    // Released on the topic: Ana and Acme's lead (the partner's default), not Bo (his own
    // choice) nor Cy (the vendor's default).
    let mut tx = app.db.read().await.unwrap();
    let topic = tidings_store::topics::get_by_key(&mut tx, "events").await.unwrap();
    drop(tx);
    let variant = VariantDraft {
        title: Some("Partner summit".into()),
        summary: Some("Save the date".into()),
        what_changed: Some("A date.".into()),
        why_it_matters: Some("Meet us.".into()),
        what_to_do: Some("Come.".into()),
        call_to_action: None,
    };
    let message = MessageDraft {
        topic_id: Some(topic.id),
        importance: Some("info".into()),
        content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
        audience: Some(AudienceDraft { rule: Some("partner.type = 'dealer'".into()), ..Default::default() }),
        ..Default::default()
    };
    let id = compose::create(&app, &op, &message).await.unwrap().id;
    let report = release::release(&app, &op, id).await.unwrap();
    assert_eq!(report.recipients, 2, "Ana and Acme's lead: {report:?}");
}
