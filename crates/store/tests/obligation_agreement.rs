//! Partners' obligation progress as the store keeps it must be what a plain evaluation of
//! the same acknowledgments says: for random quotas over partners whose members hold
//! random roles, with some acknowledging while the release is still fanning out and the
//! rest after it in random order, each partner's rows (in scope, acknowledged, when met)
//! and its state equal an in-memory count, and exactly the acknowledgment that completes a
//! partner reports it; on SQLite and PostgreSQL. After the start they are written in
//! groups of random sizes, as the acknowledgment writer's group commits write them: a
//! group's acknowledgments share its first one's time, and the partner is reported by the
//! group's first acknowledgment from it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tidings_core::audiences;
use tidings_core::consent::{TopicPolicies, TopicPolicy};
use tidings_core::obligations::{self, Obligation, Quota, QuotaProgress};
use tidings_core::*;
use tidings_store::deliveries::{Release, release_batch};
use tidings_store::inbox::{Acknowledgment, acknowledge_many};
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, members, obligations as store, partners};

const NOW: Timestamp = Timestamp::from_millis(1_780_000_000_000);

#[test]
fn obligation_progress_matches_a_plain_count_on_sqlite() {
    agree(Engine::Sqlite);
}

#[test]
fn obligation_progress_matches_a_plain_count_on_postgres() {
    agree(Engine::Postgres);
}

#[derive(Clone, Debug)]
struct Case {
    quotas: Vec<Quota>,
    /// Indexes into the people: who acknowledges, in order.
    order: Vec<usize>,
    /// How many of them acknowledge before the release's fan-out is done.
    early: usize,
    /// The sizes of the groups the others are written in, one by one past the last.
    groups: Vec<usize>,
}

impl Case {
    /// The first acknowledgment of the group the i-th is written in.
    fn group_start(&self, i: usize) -> usize {
        let mut start = self.early;
        for size in &self.groups {
            if i < start + size {
                return start;
            }
            start += size;
        }
        if i < self.early { i } else { i.max(start) }
    }
}

fn case(people: usize) -> impl Strategy<Value = Case> {
    let role = prop::option::weighted(0.8, prop::sample::select(Role::ALL.to_vec()));
    let quota = (role, prop::option::of(1u32..4)).prop_map(|(role, count)| Quota { role, count });
    let quotas = prop::collection::vec(quota, 1..4);
    let order = Just((0..people).collect::<Vec<_>>()).prop_shuffle();
    let groups = prop::collection::vec(1usize..6, 0..10);
    (quotas, order, 0..people, 0..people, groups).prop_map(|(quotas, mut order, taken, early, groups)| {
        order.truncate(taken);
        Case { early: early.min(order.len()), quotas, order, groups }
    })
}

fn agree(engine: Engine) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let Some(test_db) = runtime.block_on(TestDb::new(engine)) else {
        return;
    };
    let people = runtime.block_on(seed(&test_db.db));
    let check = |c: Case| -> Result<(), TestCaseError> {
        let message = MessageId::new();
        let obligation = Obligation { quotas: c.quotas.clone(), within_hours: None };
        let (stored, completions) = runtime.block_on(run(&test_db.db, &people, message, &obligation, &c));
        let expected = expect(&people, &c);
        prop_assert_eq!(&stored, &expected.0, "quotas {:?}", c.quotas);
        prop_assert_eq!(completions, expected.1, "the acknowledgment that met each partner");
        for quotas in stored.values() {
            let plain = obligations::standing(quotas, NOW, None, NOW).state;
            let met = quotas.iter().filter(|q| !q.waived()).all(QuotaProgress::met);
            let waived = quotas.iter().all(QuotaProgress::waived);
            let want = if waived {
                obligations::PartnerState::Exempt
            } else if met {
                obligations::PartnerState::Met
            } else {
                obligations::PartnerState::Open
            };
            prop_assert_eq!(plain, want);
        }
        Ok(())
    };
    let mut runner = TestRunner::new(Config { cases: 60, failure_persistence: None, ..Config::default() });
    let result = runner.run(&case(people.len()), check).map_err(|e| e.to_string());
    runtime.block_on(test_db.cleanup());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The i-th acknowledgment's time.
fn at(i: usize) -> Timestamp {
    Timestamp::from_millis(NOW.as_millis() + 1_000 * (i as i64 + 1))
}

type Progress = HashMap<PartnerId, Vec<QuotaProgress>>;

/// Releases, acknowledges the early ones, finishes the release (starting the obligation),
/// acknowledges the rest; returns the stored progress and, per partner, the index of the
/// acknowledgment reported as meeting it.
async fn run(
    db: &Db,
    people: &[Member],
    message: MessageId,
    obligation: &Obligation,
    c: &Case,
) -> (Progress, HashMap<PartnerId, usize>) {
    let rule = audiences::parse("member.status exists", &Catalog::default()).unwrap();
    let key = Slug::parse("recalls").unwrap();
    let policies = TopicPolicies { default: TopicPolicy::Required, by_role: Default::default() };
    let release = Release {
        message_id: message,
        rule: &rule,
        topic_key: &key,
        policies: &policies,
        channels: &[],
        posts: &[],
        now: NOW,
        slots: &[],
        noise: Default::default(),
    };
    let mut tx = db.begin().await.unwrap();
    let done = release_batch(&mut tx, &release, None, 10_000).await.unwrap();
    assert!(done.done);
    tx.commit().await.unwrap();
    let mut completions = HashMap::new();
    let ack = |i: usize| {
        let m = &people[c.order[i]];
        Acknowledgment {
            message_id: message,
            version: 1,
            member_id: m.id,
            partner_id: m.profile.partner_id,
            roles: m.profile.roles,
            locale: "en".into(),
            statement: "Done".into(),
            content_hash: "h".into(),
            acknowledged_at: at(i),
            ip: None,
            user_agent: None,
            attestation: None,
        }
    };
    for i in 0..c.early {
        let mut tx = db.begin().await.unwrap();
        let recorded = acknowledge_many(&mut tx, &[ack(i)], true).await.unwrap();
        assert!(!recorded[0].partner_met, "no rows yet: nothing is met");
        tx.commit().await.unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    store::start(&mut tx, message, obligation).await.unwrap();
    tx.commit().await.unwrap();
    let mut start = c.early;
    while start < c.order.len() {
        let end = (start..c.order.len()).take_while(|&i| c.group_start(i) == start).last().unwrap() + 1;
        let group: Vec<Acknowledgment> = (start..end).map(ack).collect();
        let mut tx = db.begin().await.unwrap();
        let recorded = acknowledge_many(&mut tx, &group, true).await.unwrap();
        tx.commit().await.unwrap();
        for (i, r) in (start..end).zip(recorded) {
            assert!(r.new, "each member acknowledges once");
            if r.partner_met {
                let partner = people[c.order[i]].profile.partner_id;
                assert!(completions.insert(partner, i).is_none(), "a partner is met once");
            }
        }
        start = end;
    }
    let mut tx = db.read().await.unwrap();
    (store::of_message(&mut tx, message).await.unwrap(), completions)
}

/// The same, counted in memory.
fn expect(people: &[Member], c: &Case) -> (Progress, HashMap<PartnerId, usize>) {
    let reached: Vec<&Member> = people.iter().filter(|m| m.profile.status != MemberStatus::Disabled).collect();
    let position: HashMap<MemberId, usize> = c.order.iter().enumerate().map(|(i, p)| (people[*p].id, i)).collect();
    let mut progress: Progress = HashMap::new();
    let mut completions = HashMap::new();
    let mut partners: Vec<PartnerId> = reached.iter().map(|m| m.profile.partner_id).collect();
    partners.sort_by_key(|p| p.as_uuid());
    partners.dedup();
    for partner in partners {
        let mine: Vec<&&Member> = reached.iter().filter(|m| m.profile.partner_id == partner).collect();
        let mut rows = Vec::new();
        let mut met_by: Vec<Option<Option<usize>>> = Vec::new();
        for quota in &c.quotas {
            let scope: Vec<&&&Member> = mine.iter().filter(|m| quota.counts(m.profile.roles)).collect();
            let mut acked: Vec<usize> = scope.iter().filter_map(|m| position.get(&m.id).copied()).collect();
            acked.sort_unstable();
            let mut row = QuotaProgress {
                quota: *quota,
                in_scope: scope.len() as i64,
                acknowledged: acked.len() as i64,
                met_at: None,
            };
            let needed = usize::try_from(row.needed()).unwrap();
            let completing = (!row.waived()).then(|| acked.get(needed.max(1) - 1).copied()).flatten();
            row.met_at = completing.map(|i| {
                let early: Vec<usize> = acked.iter().copied().filter(|a| *a < c.early).collect();
                // Met while the release was still fanning out: the start records the
                // latest of the early acknowledgments in scope.
                if i < c.early { at(*early.last().unwrap()) } else { at(c.group_start(i)) }
            });
            met_by.push(if row.waived() { None } else { Some(completing) });
            rows.push(row);
        }
        // The partner is reported met by the acknowledgment (after the start) that
        // completed its last open quota.
        let asked: Vec<Option<usize>> = met_by.iter().flatten().copied().collect();
        if !asked.is_empty() && asked.iter().all(Option::is_some) {
            let last = asked.iter().flatten().copied().max().unwrap();
            if last >= c.early {
                // The group's first acknowledgment by one of the partner's reached members.
                let start = c.group_start(last);
                let first = (start..=last).find(|&j| mine.iter().any(|m| m.id == people[c.order[j]].id)).unwrap();
                completions.insert(partner, first);
            }
        }
        progress.insert(partner, rows);
    }
    (progress, completions)
}

async fn seed(db: &Db) -> Vec<Member> {
    let mut rng = fastrand::Rng::with_seed(7);
    let catalog = Catalog::default();
    let mut tx = db.begin().await.unwrap();
    let mut people = Vec::new();
    for i in 0..6 {
        let draft = PartnerDraft {
            name: Some(format!("Partner {i}")),
            partner_type: Some(catalog.partner_types[0].to_string()),
            ..Default::default()
        };
        let partner = Partner {
            id: PartnerId::new(),
            profile: draft.validate(None, &catalog).unwrap(),
            created_at: NOW,
            updated_at: NOW,
        };
        partners::insert(&mut tx, &partner).await.unwrap();
        for j in 0..5 {
            // Few roles each, so that some partners lack a role a quota asks for.
            let roles: Vec<String> =
                Role::ALL.iter().filter(|_| rng.u8(..5) == 0).map(|r| r.as_str().to_owned()).collect();
            let draft = MemberDraft {
                partner_id: Some(partner.id),
                email: Some(format!("o{i}-{j}@example.com")),
                roles: Some(vec![roles.join(";")]),
                status: Some(if rng.u8(..8) == 0 { "disabled" } else { "active" }.into()),
                ..Default::default()
            };
            let member = Member {
                id: MemberId::new(),
                profile: draft.validate(None).unwrap(),
                created_at: NOW,
                updated_at: NOW,
            };
            members::insert(&mut tx, &member).await.unwrap();
            people.push(member);
        }
    }
    tx.commit().await.unwrap();
    people
}
