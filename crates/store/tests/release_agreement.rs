//! A release and the consent function must agree: for random topic policies over members
//! with random roles, choices, partners' defaults, opt-ins and suppressions, the recipient and delivery rows
//! the store writes (on SQLite and PostgreSQL, in random batch sizes, for rules over the
//! directory and for lists of people) are exactly the members and channels
//! `tidings_core::consent::may_reach` allows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tidings_core::audiences::{self, Subject};
use tidings_core::consent::{self, Channel, Preferences, TopicPolicies, TopicPolicy, TopicRef};
use tidings_core::*;
use tidings_store::consent::{ConsentRecord, record, set_choices};
use tidings_store::deliveries::{Release, release_batch};
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, Tx, members, partners, suppressions};
use uuid::Uuid;

const NOW: Timestamp = Timestamp::from_millis(1_780_000_000_000);
const TOPIC: &str = "product-updates";
const OUTSIDE: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Slack];

#[test]
fn release_rows_match_may_reach_on_sqlite() {
    agree(Engine::Sqlite);
}

#[test]
fn release_rows_match_may_reach_on_postgres() {
    agree(Engine::Postgres);
}

struct Person {
    partner: Partner,
    member: Member,
    prefs: Preferences,
}

fn agree(engine: Engine) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(test_db) = runtime.block_on(TestDb::new(engine)) else {
        return;
    };
    let people = runtime.block_on(seed(&test_db.db));
    let catalog = Catalog::default();
    let key = Slug::parse(TOPIC).unwrap();
    let check = |(policies, rule_text, batch): (TopicPolicies, String, usize)| -> Result<(), TestCaseError> {
        let rule_text = with_ids(&rule_text, &people);
        let rule = audiences::parse(&rule_text, &catalog).unwrap();
        let topic = TopicRef { key: &key, policies: &policies };
        let mut expected_recipients = BTreeSet::new();
        let mut expected_deliveries = BTreeSet::new();
        for p in &people {
            if !rule.matches(Subject::new(&p.partner, &p.member), NOW) {
                continue;
            }
            if consent::may_reach(&p.member.profile, &p.prefs, topic, Channel::Inbox).allowed {
                expected_recipients.insert(p.member.id);
            }
            for channel in OUTSIDE {
                if consent::may_reach(&p.member.profile, &p.prefs, topic, channel).allowed {
                    expected_deliveries.insert((p.member.id, channel));
                }
            }
        }
        let message = MessageId::new();
        let (recipients, deliveries) = runtime.block_on(async {
            let release = Release {
                message_id: message,
                rule: &rule,
                topic_key: &key,
                policies: &policies,
                channels: &OUTSIDE,
                posts: &[],
                now: NOW,
                slots: &[],
                noise: Default::default(),
            };
            let mut cursor = None;
            loop {
                let mut tx = test_db.db.begin().await.unwrap();
                let done = release_batch(&mut tx, &release, cursor, batch).await.unwrap();
                tx.commit().await.unwrap();
                cursor = done.cursor;
                if done.done {
                    break;
                }
            }
            let mut tx = test_db.db.read().await.unwrap();
            rows(&mut tx, message).await
        });
        let explain = |id: &MemberId| {
            let p = people.iter().find(|p| p.member.id == *id).unwrap();
            format!("roles {:?}, status {:?}, prefs {:?}", p.member.profile.roles, p.member.profile.status, p.prefs)
        };
        let wrong: Vec<String> = recipients.symmetric_difference(&expected_recipients).map(explain).take(3).collect();
        prop_assert!(
            wrong.is_empty(),
            "recipients differ, policies {:?}, rule {}:\n{}",
            policies,
            rule_text,
            wrong.join("\n")
        );
        let wrong: Vec<String> = deliveries
            .symmetric_difference(&expected_deliveries)
            .map(|(id, ch)| format!("{ch}: {}", explain(id)))
            .take(3)
            .collect();
        prop_assert!(wrong.is_empty(), "deliveries differ, policies {:?}:\n{}", policies, wrong.join("\n"));
        Ok(())
    };
    let mut runner = TestRunner::new(Config { cases: 120, failure_persistence: None, ..Config::default() });
    let result = runner.run(&(policies(), rule_text(), 1usize..60), check).map_err(|e| e.to_string());
    runtime.block_on(test_db.cleanup());
    if let Err(e) = result {
        panic!("{e}");
    }
}

async fn rows(tx: &mut Tx, message: MessageId) -> (BTreeSet<MemberId>, BTreeSet<(MemberId, Channel)>) {
    let recipients = tidings_store::events::list(
        tx,
        message,
        &tidings_store::events::EventFilter { kind: Some(deliveries::EventKind::Queued), member_id: None },
        None,
        Some(500),
    )
    .await
    .unwrap();
    assert!(recipients.next.is_none(), "one page holds the whole test audience");
    let mut inbox = BTreeSet::new();
    let mut outside = BTreeSet::new();
    for e in recipients.items {
        match e.channel {
            Some(Channel::Inbox) => {
                inbox.insert(e.member_id);
            }
            Some(channel) => {
                outside.insert((e.member_id, channel));
            }
            None => panic!("a queued event names its channel"),
        }
    }
    (inbox, outside)
}

fn policies() -> impl Strategy<Value = TopicPolicies> {
    let level = prop::sample::select(vec![TopicPolicy::OptionalOff, TopicPolicy::OptionalOn, TopicPolicy::Required]);
    let by_role = prop::collection::btree_map(prop::sample::select(Role::ALL.to_vec()), level.clone(), 0..4);
    (level, by_role).prop_map(|(default, by_role)| TopicPolicies { default, by_role })
}

fn rule_text() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "member.status != \"disabled\"".to_owned(),
        "member.role contains \"sales\"".to_owned(),
        "not member.role exists".to_owned(),
        "partner.tier in (\"strategic\", \"growth\")".to_owned(),
        "member.status exists".to_owned(),
        // A message to a list of people: the release skips the ranges before and after them.
        "member.id in (#3, #17, #40)".to_owned(),
        "member.id = #25 or (member.id in (#7, #8) and member.role contains \"sales\")".to_owned(),
    ])
}

/// The rule with each `#N` replaced by the id of the Nth person (modulo their number).
fn with_ids(rule: &str, people: &[Person]) -> String {
    let mut out = String::new();
    let mut rest = rule;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let digits: String = rest[at + 1..].chars().take_while(char::is_ascii_digit).collect();
        let n: usize = digits.parse().unwrap();
        out.push_str(&format!("\"{}\"", people[n % people.len()].member.id));
        rest = &rest[at + 1 + digits.len()..];
    }
    out + rest
}

async fn seed(db: &Db) -> Vec<Person> {
    let mut rng = fastrand::Rng::with_seed(11);
    let catalog = Catalog::default();
    let mut tx = db.begin().await.unwrap();
    let mut people = Vec::new();
    let key = Slug::parse(TOPIC).unwrap();
    for i in 0..12 {
        let tier = catalog.partner_tiers[rng.usize(..catalog.partner_tiers.len())].to_string();
        let draft = PartnerDraft {
            name: Some(format!("Partner {i}")),
            partner_type: Some(catalog.partner_types[0].to_string()),
            tier: Some(tier),
            ..Default::default()
        };
        let partner = Partner {
            id: PartnerId::new(),
            profile: draft.validate(None, &catalog).unwrap(),
            created_at: NOW,
            updated_at: NOW,
        };
        partners::insert(&mut tx, &partner).await.unwrap();
        // The partner's layer, between the vendor's policy and each member's choice.
        let mut defaults = tidings_core::noise::PartnerDefaults::default();
        if rng.u8(..3) == 0 {
            defaults.topics.insert(key.clone(), rng.bool());
            tidings_store::partner_defaults::put(&mut tx, partner.id, &defaults, "test", NOW).await.unwrap();
        }
        for j in 0..10 {
            let roles: Vec<String> =
                Role::ALL.iter().filter(|_| rng.u8(..4) == 0).map(|r| r.as_str().to_owned()).collect();
            let draft = MemberDraft {
                partner_id: Some(partner.id),
                email: Some(format!("m{i}-{j}@example.com")),
                phone: rng.bool().then(|| format!("+4930{:06}", i * 100 + j)),
                roles: Some(vec![roles.join(";")]),
                status: Some(MemberStatus::ALL[rng.usize(..3)].as_str().into()),
                ..Default::default()
            };
            let member = Member {
                id: MemberId::new(),
                profile: draft.validate(None).unwrap(),
                created_at: NOW,
                updated_at: NOW,
            };
            members::insert(&mut tx, &member).await.unwrap();
            let mut prefs = Preferences { partner: defaults.clone(), ..Preferences::default() };
            if rng.u8(..3) == 0 {
                prefs.topics.insert(key.clone(), rng.bool());
            }
            for channel in OUTSIDE {
                if rng.u8(..4) == 0 {
                    prefs.channels.insert(channel, rng.bool());
                }
            }
            for channel in OUTSIDE {
                if rng.u8(..4) == 0 {
                    prefs.topic_channels.entry(key.clone()).or_default().insert(channel, rng.bool());
                }
            }
            if rng.u8(..6) == 0 {
                // A choice for another topic must not change this one's.
                let other = Slug::parse("other-topic").unwrap();
                prefs.topic_channels.entry(other).or_default().insert(OUTSIDE[rng.usize(..3)], false);
            }
            if !prefs.topics.is_empty() || !prefs.channels.is_empty() || !prefs.topic_channels.is_empty() {
                set_choices(&mut tx, member.id, &prefs, NOW).await.unwrap();
            }
            for (purpose, granted) in [("email", rng.u8(..3) > 0), ("sms", rng.bool())] {
                if granted {
                    record(&mut tx, &consent_record(member.id, purpose)).await.unwrap();
                }
                match purpose {
                    "email" => prefs.email_opted_in = granted,
                    _ => prefs.sms_opted_in = granted,
                }
            }
            if rng.u8(..5) == 0 {
                suppressions::add(&mut tx, &member.profile.email, "hard bounce", NOW).await.unwrap();
                prefs.email_suppressed = true;
            }
            people.push(Person { partner: partner.clone(), member, prefs });
        }
    }
    tx.commit().await.unwrap();
    // What the store reads back must be what the test believes it wrote.
    let mut tx = db.read().await.unwrap();
    let ids: Vec<MemberId> = people.iter().map(|p| p.member.id).collect();
    let stored: BTreeMap<MemberId, Preferences> =
        tidings_store::consent::preferences_many(&mut tx, &ids).await.unwrap().into_iter().collect();
    for p in &people {
        assert_eq!(stored[&p.member.id], p.prefs);
    }
    people
}

fn consent_record(member: MemberId, purpose: &str) -> ConsentRecord {
    ConsentRecord {
        id: Uuid::now_v7(),
        member_id: member,
        purpose: purpose.into(),
        granted: true,
        source: "api".into(),
        lawful_basis: "consent".into(),
        text_version: "v1".into(),
        recorded_by: "test".into(),
        recorded_at: NOW,
    }
}
