//! Escalation ladders driven by the test clock over simulated days: each step fires at its
//! time and lands in each member's working hours, reminds only those who still owe, on
//! their next open channel, tells the lead of a partner that still owes, stops for a
//! member who acknowledges and for a partner that meets its obligation, and never runs a
//! step twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::consent::{self, ConsentInput};
use tidings_app::inbox::Origin;
use tidings_app::partner_channels::PartnerAdmin;
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_app::{App, Caller, chase, nominees};
use tidings_channels::{Channels, Outbox, PartBody, Payload, Provider};
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::escalation::{LadderDraft, LadderStep, StepTarget};
use tidings_core::{Member, MemberDraft, MessageId, Partner, PartnerDraft, Role, Timestamp};

both_engines!(
    unseeded:
    a_ladder_chases_who_still_owes_in_their_working_hours_and_stops_when_they_acknowledge,
    a_ladder_edited_after_release_leaves_the_running_one_as_it_was,
    a_partner_manager_escalates_one_partner_at_once,
    a_partner_manager_is_told_which_of_their_partners_still_owe,
    reminders_wait_for_the_members_own_hours_else_their_partners,
    a_lead_names_who_answers_for_a_role_and_the_ladder_follows,
    a_need_to_know_email_keeps_quiet_hours_and_a_must_know_one_does_not,
    workers_racing_for_a_step_run_it_once,
);

const HOUR: i64 = 3_600_000;

async fn partner(app: &App, name: &str) -> Partner {
    let draft = PartnerDraft { name: Some(name.into()), partner_type: Some("dealer".into()), ..Default::default() };
    tidings_app::partners::create(app, &Caller::operator(), &draft).await.unwrap()
}

/// A member who opted in to email and, with a phone, to SMS.
async fn member(app: &App, partner: &Partner, email: &str, roles: &str, zone: &str, phone: Option<&str>) -> Member {
    let draft = MemberDraft {
        partner_id: Some(partner.id),
        email: Some(email.into()),
        roles: Some(vec![roles.into()]),
        time_zone: Some(zone.into()),
        phone: phone.map(Into::into),
        ..Default::default()
    };
    let m = tidings_app::members::create(app, &Caller::operator(), &draft).await.unwrap();
    let purposes: &[&str] = if phone.is_some() { &["email", "sms"] } else { &["email"] };
    for purpose in purposes {
        let input =
            ConsentInput { purpose: (*purpose).into(), granted: true, lawful_basis: None, text_version: "v1".into() };
        consent::record(app, &Caller::operator(), m.id, &input).await.unwrap();
    }
    m
}

async fn ladder(app: &App, steps: &[(u32, StepTarget)]) {
    let draft = LadderDraft {
        key: Some("recall-chase".into()),
        name: Some("Recall chase".into()),
        steps: Some(steps.iter().map(|(h, t)| LadderStep { after_hours: *h, target: *t }).collect()),
        repeat: None,
        working_hours_only: None,
    };
    tidings_app::ladders::put(app, &Caller::operator(), &draft).await.unwrap();
}

async fn recall(app: &App) -> MessageId {
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    tidings_app::topics::create(app, &Caller::operator(), &topic).await.unwrap();
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "recalls",
        "importance": "critical",
        "channels": ["inbox", "email"],
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Pull it."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Pulled.", "ladder": "recall-chase",
            "obligation": {"roles": {"support": 1, "operations": 1}, "within_hours": 96}}
    }))
    .unwrap();
    let id = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap().id;
    tidings_app::release::release(app, &Caller::operator(), id).await.unwrap();
    id
}

async fn acknowledge(app: &App, member: &Member, id: MessageId) {
    let origin = Origin { ip: None, user_agent: None };
    let seen = tidings_app::inbox::view(app, member, id, &origin).await.unwrap();
    tidings_app::inbox::acknowledge(
        app,
        member,
        id,
        &seen.rendered.content_hash,
        &Default::default(),
        &origin,
        tidings_app::evidence::record::AckContext::API,
    )
    .await
    .unwrap();
}

/// The deliveries of `purpose`: (member's email, channel, status, due time).
async fn sends(app: &App, id: MessageId, purpose: Purpose) -> Vec<(String, Channel, DeliveryStatus, Option<i64>)> {
    let mut tx = app.db.read().await.unwrap();
    let all = tidings_store::deliveries::of_message(&mut tx, id).await.unwrap();
    let mut out = Vec::new();
    for d in all.into_iter().filter(|d| d.purpose == purpose) {
        let m = tidings_store::members::get(&mut tx, d.member_id).await.unwrap();
        out.push((m.profile.email.to_string(), d.channel, d.status, d.due_at.map(|t| t.as_millis())));
    }
    out.sort();
    out
}

fn at(text: &str) -> i64 {
    let zoned: jiff::Zoned = text.parse().unwrap();
    zoned.timestamp().as_millisecond()
}

async fn a_ladder_chases_who_still_owes_in_their_working_hours_and_stops_when_they_acknowledge(mut app: App) {
    let outbox = Outbox::new();
    app.channels = Channels::default()
        .with(Channel::Email, Provider::Memory(outbox.clone()))
        .with(Channel::Sms, Provider::Memory(outbox.clone()));
    let (acme, beta) = (partner(&app, "Acme").await, partner(&app, "Beta").await);
    let berlin = "Europe/Berlin";
    let ana = member(&app, &acme, "ana@acme.example", "support", berlin, Some("+4915112345678")).await;
    let bo = member(&app, &acme, "bo@acme.example", "operations", berlin, None).await;
    member(&app, &acme, "cy@acme.example", "sales", berlin, None).await;
    member(&app, &acme, "lea@acme.example", "partner_lead", berlin, None).await;
    let kei = member(&app, &beta, "kei@beta.example", "support", "Asia/Tokyo", None).await;
    member(&app, &beta, "lin@beta.example", "partner_lead", "Asia/Tokyo", None).await;
    ladder(&app, &[(24, StepTarget::Members), (24, StepTarget::PartnerLead), (24, StepTarget::Members)]).await;
    // Released Thursday 2026-05-28 20:26 UTC.
    let id = recall(&app).await;
    acknowledge(&app, &bo, id).await;

    // Nothing is due before the first step's time.
    app.clock.advance(23 * HOUR);
    chase::tick(&app).await.unwrap();
    assert!(sends(&app, id, Purpose::Reminder(1)).await.is_empty());

    // Friday 20:26 UTC: evening in Berlin, Saturday morning in Tokyo. Each reminder waits
    // for Monday nine o'clock where the member is. Bo acknowledged; Cy (sales) counts
    // toward nothing Acme owes; leads get no reminder.
    app.clock.advance(HOUR);
    chase::tick(&app).await.unwrap();
    let monday_berlin = at("2026-06-01T09:00[Europe/Berlin]");
    let monday_tokyo = at("2026-06-01T09:00[Asia/Tokyo]");
    let queued = DeliveryStatus::Queued;
    assert_eq!(
        sends(&app, id, Purpose::Reminder(1)).await,
        [
            ("ana@acme.example".into(), Channel::Email, queued, Some(monday_berlin)),
            ("kei@beta.example".into(), Channel::Email, queued, Some(monday_tokyo)),
        ]
    );
    // The tick again at the same time runs nothing twice.
    chase::tick(&app).await.unwrap();
    assert_eq!(sends(&app, id, Purpose::Reminder(1)).await.len(), 2);

    // Kei acknowledges before the reminder goes: it is withdrawn, and Beta has met its
    // obligation (its one support person), so its lead is never told.
    acknowledge(&app, &kei, id).await;
    let reminders = sends(&app, id, Purpose::Reminder(1)).await;
    assert_eq!(reminders[1].2, DeliveryStatus::Suppressed, "{reminders:?}");

    // Saturday: the lead of Acme, which still owes a support acknowledgment, is told.
    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    let monday_berlin_leads = sends(&app, id, Purpose::Escalation(1)).await;
    assert_eq!(monday_berlin_leads, [("lea@acme.example".into(), Channel::Email, queued, Some(monday_berlin))]);

    // Sunday: the second reminder goes on Ana's next open channel, SMS.
    app.clock.advance(24 * HOUR);
    let plan = chase::plan(&app, &Caller::operator(), id, true).await.unwrap().unwrap();
    let next = plan.next.unwrap();
    assert_eq!((next.step.purpose, next.queued), (Purpose::Reminder(2), 1), "the dry run counts Ana");
    assert!(sends(&app, id, Purpose::Reminder(2)).await.is_empty(), "a dry run queues nothing");
    chase::tick(&app).await.unwrap();
    assert_eq!(
        sends(&app, id, Purpose::Reminder(2)).await,
        [("ana@acme.example".into(), Channel::Sms, queued, Some(monday_berlin))]
    );

    // Monday 09:00 in Berlin: the worker sends what waited for working hours. Lea's notice
    // names Ana, her role, and what her reminders came to.
    app.clock.advance(monday_berlin - app.clock.now().as_millis());
    let mut cache = Cache::default();
    while work_once(&app, &WorkerConfig::default(), &mut cache).await.unwrap() > 0 {}
    let emails: Vec<(String, String, String)> = outbox
        .sent()
        .into_iter()
        .filter_map(|s| match s.payload {
            Payload::Email(e) => Some((e.to.clone(), e.subject.clone(), text_of(&e.html))),
            _ => None,
        })
        .collect();
    let to_lea: Vec<_> = emails.iter().filter(|(to, s, _)| to == "lea@acme.example" && s.contains("Still")).collect();
    assert_eq!(to_lea.len(), 1, "one notice to the lead: {emails:?}");
    assert_eq!(to_lea[0].1, "[Must know] Still outstanding at Acme: Recall of lot 9");
    assert!(to_lea[0].2.contains("1 of your colleagues have not acknowledged"), "{}", to_lea[0].2);
    assert!(to_lea[0].2.contains("<li>ana@acme.example (Support): reminded by email</li>"), "{}", to_lea[0].2);
    let mut to_ana: Vec<&str> =
        emails.iter().filter(|(to, _, _)| to == "ana@acme.example").map(|(_, s, _)| s.as_str()).collect();
    to_ana.sort();
    assert_eq!(
        to_ana,
        ["[Must know] Recall of lot 9", "[Must know] Reminder: Recall of lot 9"],
        "the release, then the reminder"
    );

    // Ana acknowledges: Acme has met its obligation, every queued chase to its people is
    // withdrawn, and the ladder has nothing left.
    acknowledge(&app, &ana, id).await;
    for purpose in [Purpose::Reminder(1), Purpose::Reminder(2), Purpose::Escalation(1)] {
        let left: Vec<_> = sends(&app, id, purpose).await.into_iter().filter(|s| s.2 == queued).collect();
        assert!(left.is_empty(), "{purpose}: {left:?}");
    }
    let plan = chase::plan(&app, &Caller::operator(), id, true).await.unwrap().unwrap();
    let ran: Vec<Option<i64>> = plan.steps.iter().map(|s| s.queued).collect();
    assert_eq!(ran, [Some(2), Some(1), Some(1)]);
    assert!(plan.next.is_none());
    assert_eq!(plan.steps[0].ran_at, Some(Timestamp::from_millis(common::NOW + 24 * HOUR)));
}

async fn reminders_wait_for_the_members_own_hours_else_their_partners(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let acme = partner(&app, "Acme").await;
    let draft = PartnerDraft { working_hours: Some("mon-thu 08:00-16:00".into()), ..Default::default() };
    let acme = tidings_app::partners::update(&app, &Caller::operator(), acme.id, &draft).await.unwrap();
    assert_eq!(acme.profile.working_hours.map(|w| w.to_string()).as_deref(), Some("mon-thu 08:00-16:00"));
    let bad = PartnerDraft { working_hours: Some("weekdays 9 to 5".into()), ..Default::default() };
    let refused = tidings_app::partners::update(&app, &Caller::operator(), acme.id, &bad).await.unwrap_err();
    assert!(refused.to_string().contains("working_hours"), "{refused}");
    let beta = partner(&app, "Beta").await;
    let berlin = "Europe/Berlin";
    member(&app, &acme, "ana@acme.example", "support", berlin, None).await;
    let bo = member(&app, &acme, "bo@acme.example", "operations", berlin, None).await;
    let own = MemberDraft { working_hours: Some("mon-fri 07:00-15:00".into()), ..Default::default() };
    tidings_app::members::update(&app, &Caller::operator(), bo.id, &own).await.unwrap();
    member(&app, &beta, "kei@beta.example", "support", berlin, None).await;
    ladder(&app, &[(24, StepTarget::Members)]).await;
    // Released Thursday 2026-05-28 20:26 UTC; the step runs Friday 22:26 in Berlin.
    let id = recall(&app).await;
    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    let queued = DeliveryStatus::Queued;
    assert_eq!(
        sends(&app, id, Purpose::Reminder(1)).await,
        [
            // Acme keeps Monday to Thursday, eight to four.
            ("ana@acme.example".into(), Channel::Email, queued, Some(at("2026-06-01T08:00[Europe/Berlin]"))),
            // Bo starts at seven, whatever his partner keeps.
            ("bo@acme.example".into(), Channel::Email, queued, Some(at("2026-06-01T07:00[Europe/Berlin]"))),
            // Beta keeps the default, nine to five.
            ("kei@beta.example".into(), Channel::Email, queued, Some(at("2026-06-01T09:00[Europe/Berlin]"))),
        ]
    );
}

async fn a_lead_names_who_answers_for_a_role_and_the_ladder_follows(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let (acme, beta) = (partner(&app, "Acme").await, partner(&app, "Beta").await);
    let berlin = "Europe/Berlin";
    let ana = member(&app, &acme, "ana@acme.example", "support", berlin, None).await;
    let al = member(&app, &acme, "al@acme.example", "support", berlin, None).await;
    let bo = member(&app, &acme, "bo@acme.example", "operations", berlin, None).await;
    let lea = member(&app, &acme, "lea@acme.example", "partner_lead", berlin, None).await;
    let kei = member(&app, &beta, "kei@beta.example", "support", berlin, None).await;
    let lead = PartnerAdmin::Lead(&lea);

    // Only a support person of Acme may answer for Acme's support, and only its lead (or
    // staff) may name them.
    let named = nominees::nominate(&app, lead, acme.id, Role::Support, al.id).await.unwrap();
    assert_eq!(named.email, "al@acme.example");
    let wrong_role = nominees::nominate(&app, lead, acme.id, Role::Support, bo.id).await.unwrap_err();
    assert!(wrong_role.to_string().contains("does not hold the role support"), "{wrong_role}");
    let elsewhere = nominees::nominate(&app, lead, acme.id, Role::Support, kei.id).await.unwrap_err();
    assert!(elsewhere.to_string().contains("does not work at this partner"), "{elsewhere}");
    let not_lead = nominees::nominate(&app, PartnerAdmin::Lead(&ana), acme.id, Role::Support, ana.id).await;
    assert!(matches!(not_lead, Err(tidings_app::AppError::Forbidden(_))), "{not_lead:?}");
    let other_partner = nominees::nominate(&app, lead, beta.id, Role::Support, kei.id).await;
    assert!(matches!(other_partner, Err(tidings_app::AppError::Forbidden(_))), "{other_partner:?}");
    let roles = nominees::of_partner(&app, lead, acme.id).await.unwrap();
    let support = roles.iter().find(|r| r.role == Role::Support).unwrap();
    assert_eq!(support.nominee.as_ref().map(|n| n.member_id), Some(al.id));
    assert_eq!(support.candidates.len(), 2);

    // The first reminders go to Al for support (not Ana), and to Bo for operations.
    ladder(&app, &[(24, StepTarget::Members), (24, StepTarget::Members)]).await;
    let id = recall(&app).await;
    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    let to =
        |sends: Vec<(String, Channel, DeliveryStatus, Option<i64>)>| sends.into_iter().map(|s| s.0).collect::<Vec<_>>();
    assert_eq!(
        to(sends(&app, id, Purpose::Reminder(1)).await),
        ["al@acme.example", "bo@acme.example", "kei@beta.example"]
    );

    // Lea hands support over to Ana: the next reminder follows.
    nominees::nominate(&app, lead, acme.id, Role::Support, ana.id).await.unwrap();
    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    assert_eq!(
        to(sends(&app, id, Purpose::Reminder(2)).await),
        ["ana@acme.example", "bo@acme.example", "kei@beta.example"]
    );

    // Taken back, the role is everyone's again.
    nominees::withdraw(&app, lead, acme.id, Role::Support).await.unwrap();
    let roles = nominees::of_partner(&app, PartnerAdmin::Staff(&Caller::operator()), acme.id).await.unwrap();
    assert!(roles.iter().all(|r| r.nominee.is_none()));
}

async fn a_need_to_know_email_keeps_quiet_hours_and_a_must_know_one_does_not(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let (acme, beta) = (partner(&app, "Acme").await, partner(&app, "Beta").await);
    let hours = PartnerDraft { working_hours: Some("mon-fri 09:00-17:00".into()), ..Default::default() };
    tidings_app::partners::update(&app, &Caller::operator(), acme.id, &hours).await.unwrap();
    member(&app, &acme, "ana@acme.example", "support", "Europe/Berlin", None).await;
    member(&app, &beta, "kei@beta.example", "support", "Europe/Berlin", None).await;
    let topic = tidings_core::TopicDraft { key: Some("news".into()), name: Some("News".into()), ..Default::default() };
    tidings_app::topics::create(&app, &Caller::operator(), &topic).await.unwrap();
    let send = |importance: &str| {
        serde_json::json!({
            "topic": "news", "importance": importance, "channels": ["inbox", "email"],
            "content": {"variants": {"en": {"title": "Depot moves", "what_to_do": "Note the address."}}},
            "audience": {"rule": "member.email exists"}
        })
    };
    // Thursday 20:26 UTC, 22:26 in Berlin: after Acme's hours.
    let now = app.clock.now().as_millis();
    let mut due = Vec::new();
    for importance in ["action", "critical"] {
        let draft: tidings_core::messages::MessageDraft = serde_json::from_value(send(importance)).unwrap();
        let id = tidings_app::messages::create(&app, &Caller::operator(), &draft).await.unwrap().id;
        tidings_app::release::release(&app, &Caller::operator(), id).await.unwrap();
        due.push(sends(&app, id, Purpose::Initial).await);
    }
    let queued = DeliveryStatus::Queued;
    assert_eq!(
        due[0],
        [
            // Acme's people get a need-to-know email in Acme's hours: Friday at nine.
            ("ana@acme.example".into(), Channel::Email, queued, Some(at("2026-05-29T09:00[Europe/Berlin]"))),
            // Beta set no hours: at once.
            ("kei@beta.example".into(), Channel::Email, queued, Some(now)),
        ]
    );
    assert!(due[1].iter().all(|d| d.3 == Some(now)), "a must-know email goes at once: {:?}", due[1]);
}

async fn a_ladder_edited_after_release_leaves_the_running_one_as_it_was(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let acme = partner(&app, "Acme").await;
    member(&app, &acme, "ana@acme.example", "support", "UTC", None).await;
    ladder(&app, &[(24, StepTarget::Members)]).await;
    let id = recall(&app).await;
    ladder(&app, &[(1, StepTarget::PartnerLead), (2, StepTarget::PartnerManager)]).await;
    let plan = chase::plan(&app, &Caller::operator(), id, true).await.unwrap().unwrap();
    let steps: Vec<(StepTarget, i64)> =
        plan.steps.iter().map(|s| (s.step.target, (s.step.due_at.as_millis() - common::NOW) / HOUR)).collect();
    assert_eq!(steps, [(StepTarget::Members, 24)]);
}

/// A body part as text: quoted-printable decoded.
fn text_of(part: &PartBody) -> String {
    match part {
        PartBody::Text(t) => t.clone(),
        PartBody::QuotedPrintable(q) => {
            let joined = q.replace("=\r\n", "");
            let mut bytes = Vec::with_capacity(joined.len());
            let raw = joined.as_bytes();
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'='
                    && i + 2 < raw.len()
                    && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
                {
                    bytes.push(b);
                    i += 3;
                    continue;
                }
                bytes.push(raw[i]);
                i += 1;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

async fn a_partner_manager_escalates_one_partner_at_once(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let (acme, beta) = (partner(&app, "Acme").await, partner(&app, "Beta").await);
    member(&app, &acme, "ana@acme.example", "support", "UTC", None).await;
    member(&app, &acme, "bo@acme.example", "operations", "UTC", None).await;
    member(&app, &acme, "lea@acme.example", "partner_lead", "UTC", None).await;
    let kei = member(&app, &beta, "kei@beta.example", "support", "UTC", None).await;
    member(&app, &beta, "lin@beta.example", "partner_lead", "UTC", None).await;
    ladder(&app, &[(24, StepTarget::PartnerLead)]).await;
    let id = recall(&app).await;
    acknowledge(&app, &kei, id).await;

    // Thursday 20:26 UTC, outside working hours: the manager's escalation goes at once,
    // to Acme's lead only.
    let queued = chase::escalate_partner(&app, &Caller::operator(), id, acme.id).await.unwrap();
    assert_eq!(queued, 1);
    let now = Some(common::NOW);
    let lea = ("lea@acme.example".to_owned(), Channel::Email, DeliveryStatus::Queued, now);
    assert_eq!(sends(&app, id, Purpose::Escalation(1)).await, std::slice::from_ref(&lea));
    // Again: the partner's next step.
    chase::escalate_partner(&app, &Caller::operator(), id, acme.id).await.unwrap();
    assert_eq!(sends(&app, id, Purpose::Escalation(2)).await, [lea]);
    // Beta owes nothing: its support person acknowledged, and it has no operations person.
    let refused = chase::escalate_partner(&app, &Caller::operator(), id, beta.id).await.unwrap_err();
    assert!(matches!(refused, tidings_app::AppError::Conflict(_)), "{refused:?}");
    // The ladder's own first step, a day later, finds Acme's lead told already for it.
    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    assert_eq!(sends(&app, id, Purpose::Escalation(1)).await.len(), 1);
}

async fn a_partner_manager_is_told_which_of_their_partners_still_owe(mut app: App) {
    let outbox = Outbox::new();
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(outbox.clone()));
    let admin = Caller::operator();
    tidings_app::staff::add(&app, &admin, "maria@vendor.example", "Maria Keller", tidings_core::StaffRole::Author)
        .await
        .unwrap();
    tidings_app::staff::add(&app, &admin, "tom@vendor.example", "Tom Baker", tidings_core::StaffRole::Author)
        .await
        .unwrap();
    let managed = |name: &str, manager: &str| PartnerDraft {
        name: Some(name.into()),
        partner_type: Some("dealer".into()),
        partner_manager: Some(manager.into()),
        ..Default::default()
    };
    let acme = tidings_app::partners::create(&app, &admin, &managed("Acme", "maria@vendor.example")).await.unwrap();
    let beta = tidings_app::partners::create(&app, &admin, &managed("Beta", "maria@vendor.example")).await.unwrap();
    let gamma = tidings_app::partners::create(&app, &admin, &managed("Gamma", "tom@vendor.example")).await.unwrap();
    member(&app, &acme, "ana@acme.example", "support", "UTC", None).await;
    member(&app, &beta, "bo@beta.example", "support", "UTC", None).await;
    let cy = member(&app, &gamma, "cy@gamma.example", "support", "UTC", None).await;
    ladder(&app, &[(24, StepTarget::PartnerManager)]).await;
    let id = recall(&app).await;
    acknowledge(&app, &cy, id).await;

    app.clock.advance(24 * HOUR);
    chase::tick(&app).await.unwrap();
    let plan = chase::plan(&app, &admin, id, true).await.unwrap().unwrap();
    assert_eq!(plan.steps[0].queued, Some(1), "Maria manages the partners that owe; Tom's partner has met");
    // Beta acknowledges before the notice goes: it names Acme alone.
    let bo = tidings_app::members::find(&app, &admin, "bo@beta.example").await.unwrap();
    acknowledge(&app, &bo, id).await;
    tidings_app::staff_notices::send_due(&app).await.unwrap();
    let notices: Vec<(String, String, String)> = outbox
        .sent()
        .into_iter()
        .filter_map(|s| match s.payload {
            Payload::Email(e) if e.to.ends_with("@vendor.example") => {
                Some((e.to.clone(), e.subject.clone(), text_of(&e.text)))
            }
            _ => None,
        })
        .collect();
    assert_eq!(notices.len(), 1, "{notices:?}");
    let (to, subject, text) = &notices[0];
    assert_eq!(
        (to.as_str(), subject.as_str()),
        ("maria@vendor.example", "Partners you manage still owe: Recall of lot 9")
    );
    assert!(text.contains("1 of the partners you manage"), "{text}");
    assert!(text.contains("- Acme: open, acknowledged so far: 0 of 1 support"), "{text}");
    assert!(!text.contains("Beta"), "{text}");
    // Sent once: a second run finds nothing due.
    tidings_app::staff_notices::send_due(&app).await.unwrap();
    assert_eq!(outbox.sent().iter().filter(|s| s.payload.to().ends_with("@vendor.example")).count(), 1);
}

/// Four workers tick at once at each step's time (on PostgreSQL, each on its own
/// connection): every step runs once and queues each reminder once.
async fn workers_racing_for_a_step_run_it_once(mut app: App) {
    app.channels = Channels::default().with(Channel::Email, Provider::Memory(Outbox::new()));
    let acme = partner(&app, "Acme").await;
    for i in 0..6 {
        member(&app, &acme, &format!("p{i}@acme.example"), "support", "UTC", None).await;
    }
    member(&app, &acme, "lea@acme.example", "partner_lead", "UTC", None).await;
    ladder(&app, &[(24, StepTarget::Members), (24, StepTarget::PartnerLead), (24, StepTarget::Members)]).await;
    let id = recall(&app).await;
    for _ in 0..3 {
        app.clock.advance(24 * HOUR);
        let workers = [app.clone(), app.clone(), app.clone(), app.clone()];
        let ticks = futures_util::future::join_all(workers.iter().map(chase::tick)).await;
        assert!(ticks.iter().all(Result::is_ok), "{ticks:?}");
    }
    let plan = chase::plan(&app, &Caller::operator(), id, true).await.unwrap().unwrap();
    let queued: Vec<Option<i64>> = plan.steps.iter().map(|s| s.queued).collect();
    assert_eq!(queued, [Some(6), Some(1), Some(6)], "each step ran once, whole");
    for (purpose, n) in [(Purpose::Reminder(1), 6), (Purpose::Escalation(1), 1), (Purpose::Reminder(2), 6)] {
        assert_eq!(sends(&app, id, purpose).await.len(), n, "{purpose}");
    }
}
