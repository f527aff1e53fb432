//! The two consumers of an audience rule must agree: for random rules over random
//! partners and members, the SQL that the store runs (on SQLite and PostgreSQL) selects
//! exactly the members that in-memory evaluation selects.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tidings_core::audiences::{self, Subject};
use tidings_core::*;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, audiences as sql_audiences, groups, members, partners};

const NOW: Timestamp = Timestamp::from_millis(1_780_000_000_000);

#[test]
fn sql_and_memory_select_the_same_members_on_sqlite() {
    agree(Engine::Sqlite);
}

#[test]
fn sql_and_memory_select_the_same_members_on_postgres() {
    agree(Engine::Postgres);
}

fn agree(engine: Engine) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(test_db) = runtime.block_on(TestDb::new(engine)) else {
        return;
    };
    let people = runtime.block_on(seed(&test_db.db));
    let catalog = Catalog::default();
    let check = |text: &str| -> Result<(), TestCaseError> {
        let rule = audiences::parse(text, &catalog).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let expected: BTreeSet<MemberId> =
            people.iter().filter(|(p, m)| rule.matches(Subject::new(p, m), NOW)).map(|(_, m)| m.id).collect();
        let (selected, counted) = runtime.block_on(async {
            let mut tx = test_db.db.read().await.unwrap();
            let ids = sql_audiences::member_ids(&mut tx, &rule, NOW, None, 10_000).await.unwrap();
            let count = sql_audiences::count_members(&mut tx, &rule, NOW).await.unwrap();
            let mut streamed = Vec::new();
            let total = sql_audiences::stream_member_ids(&mut tx, &rule, NOW, 7, |chunk| {
                streamed.extend_from_slice(chunk);
                Ok::<(), ()>(())
            })
            .await
            .unwrap()
            .unwrap();
            assert_eq!(streamed, ids, "the stream gives the same ids in the same order");
            assert_eq!(total as usize, ids.len());
            (ids.into_iter().collect::<BTreeSet<_>>(), count)
        });
        let differing: Vec<String> = selected
            .symmetric_difference(&expected)
            .filter_map(|id| people.iter().find(|(_, m)| m.id == *id))
            .map(|(p, m)| {
                format!(
                    "in memory {}: partner {:?} {:?}, member {:?}",
                    expected.contains(&m.id),
                    p.profile.name,
                    p.profile.attributes,
                    m.profile
                )
            })
            .take(3)
            .collect();
        prop_assert!(differing.is_empty(), "rule: {}\n{}", text, differing.join("\n"));
        prop_assert_eq!(counted as usize, expected.len());
        Ok(())
    };
    let mut failure = None;
    let (first, second) = (&people[3], &people[77]);
    let by_id =
        format!("member.id in (\"{}\", \"{}\") or partner.id = \"{}\"", first.1.id, second.1.id, people[140].0.id);
    let targeted = TARGETED.iter().map(|t| t.to_string()).chain([by_id, format!("not member.id = \"{}\"", first.1.id)]);
    for text in targeted {
        if let Err(e) = check(&text) {
            failure = Some(e.to_string());
            break;
        }
    }
    let mut runner = TestRunner::new(Config { cases: 400, failure_persistence: None, ..Config::default() });
    let result = match failure {
        Some(f) => Err(f),
        None => runner.run(&rule_text(), |text| check(&text)).map_err(|e| e.to_string()),
    };
    runtime.block_on(test_db.cleanup());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Rules aimed at the edges (folding, absent values, text that looks like a number or a
/// boolean), checked on every run before the random ones.
const TARGETED: &[&str] = &[
    "partner.name contains \"éc\"",
    "partner.name contains \"ÉC\"",
    "partner.name = \"  ACME \"",
    "not partner.name in (\"acme\", \"cobalt\")",
    "partner.external_id = \"p-1\"",
    "not partner.region exists",
    "not partner.country = \"DE\"",
    "member.language = \"de\"",
    "member.role contains \"SALES\"",
    "not member.role exists",
    "not partner.group in (\"beta\", \"council\")",
    "member.attr.note contains \"Ü\"",
    "member.attr.note = \"über\"",
    "not member.attr.note = \"yes\"",
    "member.attr.level = 42",
    "member.attr.level = -7",
    "member.attr.note = 7",
    "member.attr.level >= 0",
    "not member.attr.level < 1.5",
    "member.attr.trained = true",
    "not member.attr.trained = false",
    "member.attr.trained in (true, \"yes\", 3)",
    "not member.attr.missing exists",
    "not member.last_seen < 30 days ago",
    "member.last_seen >= \"2026-04-15T12:00:00Z\"",
    "partner.id exists",
];

const GROUPS: [&str; 3] = ["emea-pilot", "beta", "council"];
const NAMES: [&str; 5] = ["Acme Distribution", "  acme ", "Bolt Résale", "Cobalt", "ÉCLAIR Systèmes"];
const LOCALES: [&str; 5] = ["en", "en-US", "de-DE", "de-AT", "pt-BR"];
const TEXTS: [&str; 9] = ["yes", "TRUE", "false", " 42 ", "-7", "3.5", "Alpha Beta", "007", "Über"];

/// Writes a directory with every kind of value the rules can meet, absent ones included.
async fn seed(db: &Db) -> Vec<(Partner, Member)> {
    let mut rng = fastrand::Rng::with_seed(7);
    let catalog = Catalog::default();
    let mut tx = db.begin().await.unwrap();
    for key in GROUPS {
        let keyed =
            KeyedDraft { key: Some(key.into()), name: Some(key.into()), description: None }.validate(None).unwrap();
        groups::insert(&mut tx, GroupId::new(), &keyed, NOW).await.unwrap();
    }
    let mut people = Vec::new();
    for i in 0..30 {
        let pick = |rng: &mut fastrand::Rng, list: &[Slug]| list[rng.usize(..list.len())].to_string();
        let draft = PartnerDraft {
            external_id: rng.bool().then(|| format!("P-{i}")),
            name: Some(NAMES[rng.usize(..NAMES.len())].into()),
            partner_type: Some(pick(&mut rng, &catalog.partner_types)),
            tier: Some(pick(&mut rng, &catalog.partner_tiers)),
            region: rng.bool().then(|| pick(&mut rng, &catalog.regions)),
            country: rng.bool().then(|| ["DE", "US", "BR"][rng.usize(..3)].into()),
            lifecycle_stage: Some(LifecycleStage::ALL[rng.usize(..6)].as_str().into()),
            groups: Some(GROUPS.iter().filter(|_| rng.u8(..3) == 0).map(|g| g.to_string()).collect()),
            attributes: Some(attributes(&mut rng)),
            partner_manager: None,
            working_hours: None,
        };
        let partner = Partner {
            id: PartnerId::new(),
            profile: draft.validate(None, &catalog).unwrap(),
            created_at: NOW,
            updated_at: NOW,
        };
        partners::insert(&mut tx, &partner).await.unwrap();
        for j in 0..5 {
            let roles: Vec<String> =
                Role::ALL.iter().filter(|_| rng.u8(..4) == 0).map(|r| r.as_str().to_owned()).collect();
            let draft = MemberDraft {
                partner_id: Some(partner.id),
                email: Some(format!("m{i}-{j}@example.com")),
                roles: Some(vec![roles.join(";")]),
                locale: Some(LOCALES[rng.usize(..LOCALES.len())].into()),
                status: Some(MemberStatus::ALL[rng.usize(..3)].as_str().into()),
                last_seen_at: rng.bool().then(|| {
                    Timestamp::from_millis(NOW.as_millis() - i64::from(rng.u32(0..200)) * 86_400_000).to_string()
                }),
                attributes: Some(attributes(&mut rng)),
                ..Default::default()
            };
            let member = Member {
                id: MemberId::new(),
                profile: draft.validate(None).unwrap(),
                created_at: NOW,
                updated_at: NOW,
            };
            members::insert(&mut tx, &member).await.unwrap();
            people.push((partner.clone(), member));
        }
    }
    tx.commit().await.unwrap();
    people
}

fn attributes(rng: &mut fastrand::Rng) -> std::collections::BTreeMap<String, serde_json::Value> {
    let mut map = std::collections::BTreeMap::new();
    for key in ["level", "trained", "note"] {
        let value = match rng.u8(..6) {
            0 => continue,
            1 => serde_json::json!(rng.i32(-3..5)),
            2 => serde_json::json!(f64::from(rng.i32(-30..50)) / 10.0),
            3 => serde_json::json!(rng.bool()),
            _ => serde_json::json!(TEXTS[rng.usize(..TEXTS.len())]),
        };
        map.insert(key.to_owned(), value);
    }
    map
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A field with two values drawn from the same pool.
fn pair(field: &'static str, pool: Vec<String>) -> BoxedStrategy<(&'static str, String, String)> {
    (prop::sample::select(pool.clone()), prop::sample::select(pool)).prop_map(move |(a, b)| (field, a, b)).boxed()
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn text_condition() -> impl Strategy<Value = String> {
    let catalog = Catalog::default();
    let slugs = |l: &[Slug]| l.iter().map(ToString::to_string).collect::<Vec<_>>();
    let field_values = prop_oneof![
        pair("partner.type", slugs(&catalog.partner_types)),
        pair("partner.tier", slugs(&catalog.partner_tiers)),
        pair("partner.region", slugs(&catalog.regions)),
        pair("partner.country", owned(&["DE", "US", "BR", "FR"])),
        pair("partner.stage", owned(&["active", "dormant", "at_risk"])),
        pair("partner.group", owned(&GROUPS)),
        pair("partner.name", owned(&NAMES)),
        pair("partner.external_id", owned(&["P-1", "p-2", "P-3"])),
        pair("member.role", owned(&["sales", "support", "finance", "partner_lead"])),
        pair("member.locale", owned(&LOCALES)),
        pair("member.language", owned(&["en", "de", "pt"])),
        pair("member.status", owned(&["active", "test", "disabled"])),
        pair("member.email", owned(&["m1-1@example.com", "m2-3@example.com"])),
    ];
    (field_values, 0u8..5, prop::sample::select(vec!["acme", "a", "BOLT", "e", "example", "ÉC", "éc", "ès"])).prop_map(
        |((field, value, other), op, part)| match op {
            0 => format!("{field} = {}", quoted(&value)),
            1 => format!("{field} != {}", quoted(&value)),
            2 => format!("{field} in ({}, {})", quoted(&value), quoted(&other)),
            3 if field.ends_with("role") || field.ends_with("group") => format!("{field} exists"),
            3 => format!("{field} contains {}", quoted(part)),
            _ => format!("{field} not exists"),
        },
    )
}

fn other_condition() -> impl Strategy<Value = String> {
    let attr = prop::sample::select(vec![
        "partner.attr.level",
        "member.attr.level",
        "member.attr.trained",
        "partner.attr.note",
        "member.attr.note",
    ]);
    let literal = prop_oneof![
        (-4i32..6).prop_map(|n| n.to_string()),
        prop::sample::select(vec!["-7", "42", "0.5", "-1.5", "7"]).prop_map(str::to_owned),
        prop::sample::select(vec!["true", "false"]).prop_map(str::to_owned),
        prop::sample::select(TEXTS.to_vec()).prop_map(quoted),
    ];
    let number = prop::sample::select(vec!["-7", "0", "1.5", "3", "42"]);
    let ops = prop::sample::select(vec!["<", "<=", ">", ">="]);
    prop_oneof![
        (attr.clone(), literal.clone()).prop_map(|(a, v)| format!("{a} = {v}")),
        (attr.clone(), literal.clone()).prop_map(|(a, v)| format!("{a} != {v}")),
        (attr.clone(), literal.clone(), literal).prop_map(|(a, v, w)| format!("{a} in ({v}, {w})")),
        (attr.clone(), ops.clone(), number).prop_map(|(a, op, n)| format!("{a} {op} {n}")),
        (attr.clone(), prop::sample::select(vec!["al", "TRU", "4", " ", "üb", "Ü"]))
            .prop_map(|(a, p)| format!("{a} contains {}", quoted(p))),
        attr.prop_map(|a| format!("{a} exists")),
        (ops.clone(), 0u32..220).prop_map(|(op, d)| format!("member.last_seen {op} {d} days ago")),
        (ops, prop::sample::select(vec!["2026-01-01", "2026-04-15T12:00:00Z"]))
            .prop_map(|(op, d)| format!("member.last_seen {op} \"{d}\"")),
        Just("member.last_seen exists".to_owned()),
    ]
}

fn rule_text() -> impl Strategy<Value = String> {
    prop_oneof![text_condition(), other_condition()].prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" and "))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|r| format!("not ({r})")),
        ]
    })
}
