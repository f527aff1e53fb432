//! Segments and audiences on the demo data, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::audiences::{self, AudienceDraft};
use tidings_app::segments::{self, SegmentDraft};
use tidings_app::{App, AppError, Caller, auth};
use tidings_core::audiences::{Subject, parse};
use tidings_core::{Catalog, MemberStatus, StaffRole};
use tidings_store::members::MemberFilter;
use tidings_store::{members, partners};

both_engines!(
    seeded:
    a_preview_counts_what_in_memory_evaluation_counts,
    segments_are_saved_checked_and_previewed,
    explain_names_the_deciding_reason,
    a_default_exclusion_and_test_sends_apply,
    bad_audiences_are_refused_with_the_field_at_fault,
);

const RULE: &str = r#"partner.tier in ("strategic", "growth") and member.role in ("support", "operations") and member.last_seen > 90 days ago"#;

fn rule_draft(rule: &str) -> AudienceDraft {
    AudienceDraft { rule: Some(rule.into()), ..Default::default() }
}

/// Every member with their partner, as stored.
async fn everyone(app: &App) -> Vec<(tidings_core::Partner, tidings_core::Member)> {
    let mut tx = app.db.read().await.unwrap();
    let all = members::list(&mut tx, &MemberFilter::default(), None, Some(500)).await.unwrap().items;
    let mut out = Vec::new();
    for m in all {
        let p = partners::get(&mut tx, m.profile.partner_id).await.unwrap();
        out.push((p, m));
    }
    out
}

async fn a_preview_counts_what_in_memory_evaluation_counts(app: App) {
    let preview = audiences::preview(&app, &Caller::operator(), &rule_draft(RULE)).await.unwrap();
    let rule = parse(RULE, &app.catalog).unwrap();
    let expected: Vec<_> = everyone(&app)
        .await
        .into_iter()
        .filter(|(p, m)| rule.matches(Subject::new(p, m), app.clock.now()) && m.profile.status == MemberStatus::Active)
        .collect();
    assert!(preview.size > 5, "the demo data should give a real audience, got {}", preview.size);
    assert_eq!(preview.size as usize, expected.len());
    assert_eq!(preview.sample.len(), 10.min(expected.len()));
    let tiers: i64 = preview.breakdown.tier.iter().map(|b| b.count).sum();
    assert_eq!(tiers, preview.size);
    assert!(preview.breakdown.tier.iter().all(|b| b.value == "strategic" || b.value == "growth"));
    let support = expected.iter().filter(|(_, m)| m.profile.roles.iter().any(|r| r.as_str() == "support")).count();
    let counted = preview.breakdown.role.iter().find(|b| b.value == "support").map_or(0, |b| b.count);
    assert_eq!(counted as usize, support);
    assert!(preview.warnings.is_empty(), "{:?}", preview.warnings);
}

async fn segments_are_saved_checked_and_previewed(app: App) {
    let caller = Caller::operator();
    let draft = SegmentDraft { name: Some("Active support".into()), rule: Some(RULE.into()), description: None };
    let segment = segments::create(&app, &caller, &draft).await.unwrap();
    let twin = segments::create(&app, &caller, &draft).await;
    assert!(matches!(twin, Err(AppError::Conflict(_))), "{twin:?}");
    let bad = SegmentDraft { name: Some("Bad".into()), rule: Some("partner.tier > 3".into()), description: None };
    match segments::create(&app, &caller, &bad).await {
        Err(AppError::Invalid(e)) => assert!(e.to_string().starts_with("rule: at character 14"), "{e}"),
        other => panic!("{other:?}"),
    }
    let by_segment = AudienceDraft { segments: vec![segment.id], ..Default::default() };
    let direct = audiences::preview(&app, &caller, &rule_draft(RULE)).await.unwrap();
    assert_eq!(audiences::preview(&app, &caller, &by_segment).await.unwrap().size, direct.size);

    let renamed = SegmentDraft { name: Some("Support".into()), ..Default::default() };
    assert_eq!(segments::update(&app, &caller, segment.id, &renamed).await.unwrap().rule, RULE);
    let (_, analyst) = auth::create_token(&app, &caller, "a", StaffRole::Analyst, None).await.unwrap();
    let analyst = auth::authenticate(&app, &analyst).await.unwrap();
    assert!(matches!(segments::create(&app, &analyst, &draft).await, Err(AppError::Forbidden(_))));
    assert!(audiences::preview(&app, &analyst, &by_segment).await.is_ok());
    segments::delete(&app, &caller, segment.id).await.unwrap();
    let gone = audiences::preview(&app, &caller, &by_segment).await;
    assert!(matches!(&gone, Err(AppError::Invalid(e)) if e.to_string().contains("no segment with id")), "{gone:?}");
}

async fn explain_names_the_deciding_reason(app: App) {
    let caller = Caller::operator();
    let people = everyone(&app).await;
    let (_, insider) = people
        .iter()
        .find(|(p, m)| m.profile.status == MemberStatus::Active && p.profile.tier.as_str() == "strategic")
        .unwrap();
    let tier_rule = rule_draft(r#"partner.tier = "strategic""#);
    let e = audiences::explain(&app, &caller, &tier_rule, insider.profile.email.as_str(), None).await.unwrap();
    assert!(e.explanation.included);
    assert_eq!(e.explanation.summary, "in: selected by the rule");

    let mut excluded = tier_rule.clone();
    excluded.exclude_members = vec![insider.id];
    let e = audiences::explain(&app, &caller, &excluded, &insider.id.to_string(), None).await.unwrap();
    assert!(!e.explanation.included);
    assert_eq!(e.explanation.summary, "out: excluded by the excluded members");

    let (_, outsider) = people.iter().find(|(p, _)| p.profile.tier.as_str() != "strategic").unwrap();
    let e = audiences::explain(&app, &caller, &tier_rule, outsider.profile.email.as_str(), None).await.unwrap();
    assert_eq!(e.explanation.summary, "out: no part of the audience selects this member");
    assert!(!e.explanation.parts[0].conditions[0].held);

    let (_, disabled) = people.iter().find(|(_, m)| m.profile.status == MemberStatus::Disabled).unwrap();
    let everyone_rule = rule_draft("member.email exists");
    let e = audiences::explain(&app, &caller, &everyone_rule, disabled.profile.email.as_str(), None).await.unwrap();
    assert_eq!(
        e.explanation.summary,
        "out: the member's status is disabled; active members only (never disabled or test)"
    );
    let missing = audiences::explain(&app, &caller, &everyone_rule, "nobody@nowhere.example", None).await;
    assert!(matches!(missing, Err(AppError::NotFound("member"))));
}

async fn a_default_exclusion_and_test_sends_apply(app: App) {
    let caller = Caller::operator();
    let all = audiences::preview(&app, &caller, &rule_draft("member.email exists")).await.unwrap();
    let people = everyone(&app).await;
    let active = people.iter().filter(|(_, m)| m.profile.status == MemberStatus::Active).count();
    assert_eq!(all.size as usize, active, "disabled and test members never come in");

    let test_send = AudienceDraft { test_send: true, ..rule_draft("member.email exists") };
    let tests = audiences::preview(&app, &caller, &test_send).await.unwrap();
    assert_eq!(tests.size as usize, people.iter().filter(|(_, m)| m.profile.status == MemberStatus::Test).count());

    let app = app.with_default_exclusion(Some("member.attr.trained = false")).unwrap();
    let trimmed = audiences::preview(&app, &caller, &rule_draft("member.email exists")).await.unwrap();
    let untrained = people
        .iter()
        .filter(|(_, m)| {
            m.profile.status == MemberStatus::Active
                && m.profile.attributes.get("trained").map(ToString::to_string).as_deref() == Some("false")
        })
        .count();
    assert!(untrained > 0);
    assert_eq!(trimmed.size as usize, active - untrained);
    assert!(App::new(app.db.clone(), Catalog::default()).with_default_exclusion(Some("member.nope = 1")).is_err());
}

async fn bad_audiences_are_refused_with_the_field_at_fault(app: App) {
    let caller = Caller::operator();
    let cases = [
        (AudienceDraft::default(), "audience"),
        (rule_draft("partner.tier = \"platinum\""), "rule"),
        (AudienceDraft { partner_groups: vec!["no-such-group".into()], ..Default::default() }, "partner_groups"),
        (
            AudienceDraft { exclude_rule: Some("member.role >".into()), ..rule_draft("member.email exists") },
            "exclude_rule",
        ),
    ];
    for (draft, field) in cases {
        match audiences::preview(&app, &caller, &draft).await {
            Err(AppError::Invalid(e)) => assert_eq!(e.iter().next().map(|f| f.field.as_str()), Some(field), "{e}"),
            other => panic!("{field}: {other:?}"),
        }
    }
    let empty = audiences::preview(&app, &caller, &rule_draft("partner.country = \"AQ\"")).await.unwrap();
    assert_eq!(empty.size, 0);
    assert_eq!(empty.warnings, ["the audience is empty: no member matches it", "the rule alone reaches 0 member(s)"]);
}
