//! Tests of the rule language: parsing, errors, evaluation.

use proptest::prelude::*;

use super::*;
use crate::{Catalog, MemberDraft, PartnerDraft, PartnerId, Timestamp};

fn rule(text: &str) -> Rule {
    match parse(text, &Catalog::default()) {
        Ok(r) => r,
        Err(e) => panic!("{text}: {e}"),
    }
}

fn error(text: &str) -> String {
    parse(text, &Catalog::default()).err().map(|e| e.to_string()).unwrap_or_else(|| format!("{text} parsed"))
}

const NOW: Timestamp = Timestamp::from_millis(1_780_000_000_000);

fn subject_data() -> (crate::PartnerProfile, crate::MemberProfile) {
    let partner = PartnerDraft {
        name: Some("Acme Distribution".into()),
        partner_type: Some("distributor".into()),
        tier: Some("strategic".into()),
        region: Some("emea".into()),
        country: Some("DE".into()),
        groups: Some(vec!["emea-pilot".into()]),
        attributes: Some(serde_json::from_str(r#"{"certified": true, "employees": "120"}"#).unwrap_or_default()),
        ..Default::default()
    }
    .validate(None, &Catalog::default());
    let member = MemberDraft {
        partner_id: Some(PartnerId::new()),
        email: Some("ana@acme.example".into()),
        roles: Some(vec!["support;sales".into()]),
        locale: Some("de-AT".into()),
        last_seen_at: Some(Timestamp::from_millis(NOW.as_millis() - 90 * 86_400_000).to_string()),
        attributes: Some(serde_json::from_str(r#"{"trained": "TRUE", "level": 3}"#).unwrap_or_default()),
        ..Default::default()
    }
    .validate(None);
    match (partner, member) {
        (Ok(p), Ok(m)) => (p, m),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_issue_example_parses_and_matches() {
    let (p, m) = subject_data();
    let s = Subject { partner: &p, member: &m, partner_id: None, member_id: None, event: None };
    let r = rule(
        r#"partner.tier in ("strategic", "growth") and member.role = "support" and not partner.group = "emea-pilot""#,
    );
    assert!(!r.matches(s, NOW));
    let explanation = r.explain(s, NOW);
    assert_eq!(
        explanation.conditions,
        [
            (r#"partner.tier in ("strategic", "growth")"#.to_owned(), true),
            (r#"member.role = "support""#.to_owned(), true),
            (r#"not partner.group = "emea-pilot""#.to_owned(), false),
        ]
    );
}

#[test]
fn each_operator_evaluates_as_documented() {
    let (p, m) = subject_data();
    let s = Subject { partner: &p, member: &m, partner_id: None, member_id: None, event: None };
    let cases = [
        ("partner.type = \"Distributor\"", true),
        ("partner.type != \"reseller\"", true),
        ("partner.country in (\"de\", \"at\")", true),
        ("partner.country not in (\"fr\")", true),
        ("partner.name contains \"ACME\"", true),
        ("partner.external_id exists", false),
        ("partner.external_id not exists", true),
        ("partner.region exists", true),
        ("member.last_seen < 60 days ago", true),
        ("member.last_seen > 100 days ago", true),
        ("member.last_seen >= \"2026-04-01\"", false),
        ("member.language = \"de\"", true),
        ("member.locale = \"de-AT\"", true),
        ("member.role in (\"finance\", \"sales\")", true),
        ("member.role not in (\"finance\")", true),
        ("member.role exists", true),
        ("member.status = \"active\"", true),
        ("member.attr.trained = true", true),
        ("member.attr.level = 3", true),
        ("member.attr.level >= 2.5", true),
        ("member.attr.missing = 1", false),
        ("member.attr.missing != 1", true),
        ("member.attr.missing exists", false),
        ("partner.attr.employees > 100", true),
        ("partner.attr.certified = \"true\"", false),
        ("partner.attr.certified = true", true),
        ("partner.attr.employees = \"120\"", true),
        ("(partner.tier = \"growth\" or member.role = \"sales\") and not member.status = \"test\"", true),
    ];
    for (text, expected) in cases {
        assert_eq!(rule(text).matches(s, NOW), expected, "{text}");
    }
}

#[test]
fn errors_name_the_position_and_what_was_expected() {
    let cases = [
        ("", "at character 1: the rule is empty"),
        (
            "partner.tierr = \"growth\"",
            "at character 1: unknown field 'partner.tierr'; known: partner.id, partner.type",
        ),
        ("partner.tier > 3", "at character 14: partner.tier is text, so '>' cannot apply"),
        ("partner.tier = \"platinum\"", "at character 16: 'platinum' is not a known partner tier; known: strategic"),
        ("member.role = \"ceo\"", "at character 15: 'ceo' is not a role"),
        ("member.last_seen = \"2026-01-01\"", "at character 18: member.last_seen is a time"),
        ("partner.tier = growth", "at character 16: expected a value"),
        ("partner.tier in ()", "at character 18: the list is empty"),
        ("partner.tier in (\"growth\" \"standard\")", "at character 27: expected ',' or ')' in the list"),
        ("(partner.tier = \"growth\"", "at character 25: expected ')', found the end of the rule"),
        ("partner.tier = \"growth\" member.role = \"sales\"", "at character 25: expected 'and', 'or' or the end"),
        ("partner.tier = \"growth", "at character 16: this text has no closing quote"),
        ("member.last_seen < 60 days", "at character 27: expected 'ago'"),
        ("partner.tier = 60 days ago", "at character 16: '60 days ago' is a time, but partner.tier is not"),
        ("member.role ~ \"x\"", "at character 13: unexpected character '~'"),
        ("partner.tier", "at character 13: expected an operator"),
    ];
    for (text, expected) in cases {
        let message = error(text);
        assert!(message.starts_with(expected), "{text}\n  got:      {message}\n  expected: {expected}");
    }
}

#[test]
fn deep_nesting_and_huge_rules_are_refused_not_overflowed() {
    let deep = format!("{}partner.tier = \"growth\"{}", "(".repeat(100), ")".repeat(100));
    assert!(error(&deep).contains("nests deeper"));
    let nots = format!("{}partner.tier = \"growth\"", "not ".repeat(100));
    assert!(error(&nots).contains("nests deeper"));
    assert!(error(&"x".repeat(20_000)).contains("longer than"));
}

fn arb_condition() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["strategic", "growth", "standard"]).prop_map(|t| format!("partner.tier = \"{t}\"")),
        prop::sample::select(vec!["sales", "support", "finance"]).prop_map(|r| format!("member.role != \"{r}\"")),
        (1u32..400).prop_map(|d| format!("member.last_seen < {d} days ago")),
        (-5i32..5).prop_map(|n| format!("member.attr.level >= {n}")),
        Just("partner.region exists".to_owned()),
        Just("partner.country not in (\"DE\", \"FR\")".to_owned()),
        Just("partner.name contains \"a\\\"b\"".to_owned()),
    ]
}

fn arb_rule() -> impl Strategy<Value = String> {
    arb_condition().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" and "))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|r| format!("not ({r})")),
        ]
    })
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in "\\PC{0,80}") {
        let _ = parse(&text, &Catalog::default());
    }

    #[test]
    fn a_printed_rule_parses_back_to_the_same_rule(text in arb_rule()) {
        let first = rule(&text);
        let printed = first.to_string();
        prop_assert_eq!(rule(&printed), first, "{}", printed);
    }
}

#[test]
fn trigger_conditions_read_the_event_and_audiences_may_not() {
    assert!(error("event.progress >= 0.8").contains("trigger conditions only"), "{}", error("event.progress >= 0.8"));
    let condition = parse_condition("event.progress >= 0.8 and partner.tier = \"strategic\"", &Catalog::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (p, m) = subject_data();
    let near = crate::automation::event::condition_fields(&serde_json::json!({"progress": 0.85}));
    let far = crate::automation::event::condition_fields(&serde_json::json!({"progress": 0.5}));
    let subject = |event| Subject { partner: &p, member: &m, partner_id: None, member_id: None, event };
    assert!(condition.matches(subject(Some(&near)), NOW));
    assert!(!condition.matches(subject(Some(&far)), NOW));
    assert!(!condition.matches(subject(None), NOW), "no event: its fields are absent");
    assert_eq!(condition.to_string(), "event.progress >= 0.8 and partner.tier = \"strategic\"");
}

#[test]
fn a_rule_names_the_member_ids_it_is_limited_to_only_when_every_branch_does() {
    let (a, b) = ("0190aaaa-0000-7000-8000-000000000001", "0190aaaa-0000-7000-8000-000000000002");
    let ids = |text: String| {
        rule(&text).member_ids().map(|mut ids| {
            ids.sort_unstable();
            ids.into_iter().map(str::to_owned).collect::<Vec<_>>()
        })
    };
    assert_eq!(ids(format!("member.id = \"{a}\"")), Some(vec![a.to_owned()]));
    assert_eq!(
        ids(format!("member.id in (\"{a}\", \"{b}\") and member.role = \"sales\"")),
        Some(vec![a.into(), b.into()])
    );
    assert_eq!(ids(format!("member.id = \"{a}\" or member.id = \"{b}\"")), Some(vec![a.into(), b.into()]));
    assert_eq!(ids(format!("member.id = \"{a}\" or member.role = \"sales\"")), None);
    assert_eq!(ids(format!("not member.id = \"{a}\"")), None);
    assert_eq!(ids("member.role = \"sales\"".into()), None);
}
