//! A must-know message's obligation, partner by partner: quotas per role capped at who is
//! there, a partner with nobody in scope exempt, states moving from open to at risk to
//! overdue on the clock, met by the acknowledgment that completes it, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::inbox::Origin;
use tidings_app::overdue::{self, WaiverDraft, WaiverKind};
use tidings_app::{App, AppError, Caller, compliance};
use tidings_core::obligations::PartnerState;
use tidings_core::{Member, MemberDraft, MessageId, Partner, PartnerDraft, StaffRole};

both_engines!(
    unseeded:
    each_partner_owes_its_quotas_and_is_met_by_the_acknowledgment_that_completes_them,
    a_bad_obligation_names_its_field,
);

const HOUR: i64 = 3_600_000;

async fn partner(app: &App, name: &str) -> Partner {
    let draft = PartnerDraft { name: Some(name.into()), partner_type: Some("dealer".into()), ..Default::default() };
    tidings_app::partners::create(app, &Caller::operator(), &draft).await.unwrap()
}

async fn member(app: &App, partner: &Partner, email: &str, roles: &str) -> Member {
    let draft = MemberDraft {
        partner_id: Some(partner.id),
        email: Some(email.into()),
        roles: Some(vec![roles.into()]),
        ..Default::default()
    };
    tidings_app::members::create(app, &Caller::operator(), &draft).await.unwrap()
}

async fn recall(app: &App, obligation: serde_json::Value) -> Result<MessageId, AppError> {
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    let _ = tidings_app::topics::create(app, &Caller::operator(), &topic).await;
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "recalls",
        "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Pull it."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Pulled.", "obligation": obligation}
    }))
    .unwrap();
    Ok(tidings_app::messages::create(app, &Caller::operator(), &draft).await?.id)
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

/// Each partner's state and reason, by name.
async fn states(app: &App, id: MessageId) -> Vec<(String, PartnerState, String)> {
    let report = compliance::report(app, &Caller::operator(), id).await.unwrap();
    let mut out: Vec<(String, PartnerState, String)> = report
        .partners
        .iter()
        .map(|p| {
            let o = p.obligation.as_ref().unwrap();
            (p.name.clone().unwrap(), o.state, o.reason.clone())
        })
        .collect();
    out.sort();
    out
}

async fn each_partner_owes_its_quotas_and_is_met_by_the_acknowledgment_that_completes_them(app: App) {
    let (acme, beta, gamma) = (partner(&app, "Acme").await, partner(&app, "Beta").await, partner(&app, "Gamma").await);
    let ana = member(&app, &acme, "ana@acme.example", "support").await;
    let bo = member(&app, &acme, "bo@acme.example", "operations").await;
    let cy = member(&app, &acme, "cy@acme.example", "operations;sales").await;
    member(&app, &beta, "dee@beta.example", "sales").await;
    let lea = member(&app, &acme, "lea@acme.example", "partner_lead").await;
    let eve = member(&app, &gamma, "eve@gamma.example", "support").await;
    let obligation = serde_json::json!({"roles": {"support": 1, "operations": 2}, "within_hours": 48});
    let id = recall(&app, obligation).await.unwrap();
    tidings_app::release::release(&app, &Caller::operator(), id).await.unwrap();

    let s = |name: &str, state: PartnerState, reason: &str| (name.to_owned(), state, reason.to_owned());
    assert_eq!(
        states(&app, id).await,
        [
            s("Acme", PartnerState::Open, "acknowledged so far: 0 of 2 operations, 0 of 1 support"),
            s("Beta", PartnerState::Exempt, "nobody reached is in scope (2 operations, 1 support)"),
            s("Gamma", PartnerState::Open, "acknowledged so far: 0 of 1 support"),
        ]
    );
    let report = compliance::report(&app, &Caller::operator(), id).await.unwrap();
    assert_eq!(report.summary.obligation, "2 operations and 1 support", "quotas in role order");
    assert_eq!(report.summary.due_at.map(|d| d.as_millis()), Some(common::NOW + 48 * HOUR), "48 hours after release");
    assert_eq!(report.partners[0].name.as_deref(), Some("Acme"), "open partners come before exempt ones");

    acknowledge(&app, &ana, id).await;
    acknowledge(&app, &bo, id).await;
    app.clock.advance(40 * HOUR);
    assert_eq!(
        states(&app, id).await[0],
        s("Acme", PartnerState::AtRisk, "acknowledged so far: 1 of 2 operations"),
        "within the last 12 hours"
    );
    acknowledge(&app, &eve, id).await;
    app.clock.advance(8 * HOUR);
    let now = states(&app, id).await;
    assert_eq!(now[0].1, PartnerState::Overdue);
    assert_eq!(now[2].1, PartnerState::Met, "Gamma has its one support person; no operations person to ask");
    let list = compliance::messages(&app, &Caller::operator(), 10).await.unwrap();
    assert_eq!((list[0].partners_unmet, list[0].overdue), (Some(1), true));

    // Acme's lead sees what the company owes and what is missing.
    let team = tidings_app::team::overview(&app, &lea).await.unwrap();
    let owed: Vec<(i64, i64)> = team[0].quotas.iter().map(|q| (q.acknowledged, q.needed())).collect();
    assert_eq!(owed, [(1, 2), (1, 1)], "operations 1 of 2, support 1 of 1");
    assert!(team[0].overdue && team[0].obligation.as_ref().is_some_and(|o| o.state == PartnerState::Overdue));

    // The overdue queue: Acme for whoever manages it (Mia), nobody for Noor; exempted with
    // a reason it leaves the queue and the compliance page says who and why; undone, back.
    let operator = Caller::operator();
    let mia = tidings_app::staff::add(&app, &operator, "mia@vendor.example", "Mia", StaffRole::Author).await.unwrap();
    let noor =
        tidings_app::staff::add(&app, &operator, "noor@vendor.example", "Noor", StaffRole::Author).await.unwrap();
    let managed = PartnerDraft { partner_manager: Some("mia@vendor.example".into()), ..Default::default() };
    tidings_app::partners::update(&app, &operator, acme.id, &managed).await.unwrap();
    let as_staff = |s: &tidings_core::Staff| Caller {
        role: s.role,
        token: None,
        staff: Some(s.id),
        name: s.name.clone(),
        request_id: None,
    };
    let queue = overdue::queue(&app, &as_staff(&mia), false).await.unwrap();
    let listed: Vec<(&str, PartnerState)> = queue.iter().map(|i| (i.partner_name.as_str(), i.state)).collect();
    assert_eq!(listed, [("Acme", PartnerState::Overdue)]);
    assert!(overdue::queue(&app, &as_staff(&noor), false).await.unwrap().is_empty(), "Noor manages no partner");
    assert_eq!(overdue::queue(&app, &as_staff(&noor), true).await.unwrap().len(), 1, "unless she asks for all");
    let no_reason = WaiverDraft { kind: WaiverKind::Exempt, reason: " ".into(), until: None };
    assert!(matches!(overdue::decide(&app, &as_staff(&mia), id, acme.id, &no_reason).await, Err(AppError::Invalid(_))));
    let endless = WaiverDraft { kind: WaiverKind::Snoozed, reason: "Closed for the holidays".into(), until: None };
    assert!(matches!(overdue::decide(&app, &as_staff(&mia), id, acme.id, &endless).await, Err(AppError::Invalid(_))));
    let exempt = WaiverDraft { kind: WaiverKind::Exempt, reason: "Acme stopped selling X-200".into(), until: None };
    overdue::decide(&app, &as_staff(&mia), id, acme.id, &exempt).await.unwrap();
    assert!(overdue::queue(&app, &as_staff(&mia), false).await.unwrap().is_empty());
    assert_eq!(
        states(&app, id).await[0],
        s("Acme", PartnerState::Exempt, "exempted by Mia: Acme stopped selling X-200")
    );
    overdue::undo(&app, &as_staff(&mia), id, acme.id).await.unwrap();
    assert_eq!(states(&app, id).await[0].1, PartnerState::Overdue);

    acknowledge(&app, &cy, id).await;
    assert!(overdue::queue(&app, &as_staff(&mia), false).await.unwrap().is_empty(), "met: nothing to chase");
    let team = tidings_app::team::overview(&app, &lea).await.unwrap();
    assert!(!team[0].overdue, "met, though Lea herself has not acknowledged");
    let report = compliance::report(&app, &Caller::operator(), id).await.unwrap();
    let acme_row = report.partners.iter().find(|p| p.name.as_deref() == Some("Acme")).unwrap();
    let o = acme_row.obligation.as_ref().unwrap();
    assert_eq!((o.state, o.met_at.map(|t| t.as_millis())), (PartnerState::Met, Some(common::NOW + 48 * HOUR)));
    assert_eq!(report.states.get(&PartnerState::Met), Some(&2));
    assert!(!report.summary.overdue, "every partner owing anything has met it");
    let detail = compliance::partner(&app, &Caller::operator(), id, acme.id).await.unwrap();
    let met: Vec<Option<i64>> = detail.quotas.iter().map(|q| q.met_at.map(|t| t.as_millis())).collect();
    assert_eq!(met, [Some(common::NOW + 48 * HOUR), Some(common::NOW)], "operations met by Cy, support at once");
}

async fn a_bad_obligation_names_its_field(app: App) {
    let bad = serde_json::json!({"roles": {"pilots": 1, "support": 0}, "within_hours": 0});
    match recall(&app, bad).await {
        Err(AppError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
            assert_eq!(
                fields,
                [
                    "acknowledgment.obligation.roles.pilots",
                    "acknowledgment.obligation.roles.support",
                    "acknowledgment.obligation.within_hours"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}
