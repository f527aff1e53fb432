//! Moving sequences on, the `advance_sequences` job: it takes the runs whose next step is
//! due, a batch at a time, and answers each step of each sequence in the batch at once.
//! The members' runs that pass the step's condition share one message addressed to all of
//! them (personalised per reader when it is released); a partner's run (its leads) gets a
//! message of its own. Steps are recorded and runs moved with a few statements for the
//! whole batch, in the transaction that takes it, so two workers never run a step twice.

use std::collections::{BTreeMap, HashMap, HashSet};

use tidings_core::audiences::AudienceDraft;
use tidings_core::automation::Recipients;
use tidings_core::automation::sequence::{RunState, Sequence, SequenceStep as Step};
use tidings_core::messages::{Message, Personalization};
use tidings_core::{Member, MemberId, MemberStatus, MessageId, Partner, PartnerId, Slug, Timestamp};
use tidings_store::sequences::{self as store, Move, Run, StepRecord};
use tidings_store::{Tx, members, partners};
use uuid::Uuid;

use super::compose::{About, Spec, condition_rule, holds, make, message, unfillable};
use crate::{App, AppError};

/// Runs moved on per transaction (and so at most the members one message is addressed to).
const BATCH: i64 = 5_000;
const MINUTE_MS: i64 = 60_000;

/// Moves on every run whose next step is due; returns how many steps it took.
pub async fn advance(app: &App) -> Result<u64, AppError> {
    let mut sequences: HashMap<String, Option<Sequence>> = HashMap::new();
    let mut moved = 0;
    loop {
        let now = app.clock.now();
        let mut tx = app.db.begin().await?;
        let due = store::take_due(&mut tx, now, BATCH).await?;
        if due.is_empty() {
            tx.rollback().await?;
            return Ok(moved);
        }
        let mut steps: BTreeMap<(&str, usize), Vec<&Run>> = BTreeMap::new();
        for run in &due {
            steps.entry((run.sequence_key.as_str(), run.next_step)).or_default().push(run);
        }
        for ((key, index), runs) in steps {
            if !sequences.contains_key(key) {
                let found = match Slug::parse(key) {
                    Ok(k) => match store::get(&mut tx, &k).await {
                        Ok(s) => Some(s),
                        Err(tidings_store::Error::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    },
                    Err(_) => None,
                };
                sequences.insert(key.to_owned(), found);
            }
            let sequence = sequences.get(key).and_then(Option::as_ref);
            step(app, &mut tx, sequence, index, &runs, now).await?;
        }
        tx.commit().await?;
        moved += due.len() as u64;
        if (due.len() as i64) < BATCH {
            return Ok(moved);
        }
    }
}

/// Where each run of a step stands once it is answered.
#[derive(Default)]
struct Answers {
    records: Vec<StepRecord>,
    /// Went through the step (its message, or passed over): on to the next.
    through: Vec<Uuid>,
    /// Taken out: their member is gone.
    exited: Vec<Uuid>,
}

impl Answers {
    fn through(&mut self, run: &Run, message: Option<MessageId>, outcome: String) {
        self.records.push(StepRecord { run: run.id, step: run.next_step, message, outcome });
        self.through.push(run.id);
    }
}

/// One step of one sequence for its due runs.
async fn step(
    app: &App,
    tx: &mut Tx,
    sequence: Option<&Sequence>,
    index: usize,
    runs: &[&Run],
    now: Timestamp,
) -> Result<(), AppError> {
    let ids: Vec<Uuid> = runs.iter().map(|r| r.id).collect();
    let Some(sequence) = sequence else {
        let out = Move::End { step: index, state: RunState::Exited };
        return Ok(store::move_on(tx, &ids, out, now).await?);
    };
    let Some(step) = sequence.steps.get(index) else {
        let out = Move::End { step: index, state: RunState::Finished };
        return Ok(store::move_on(tx, &ids, out, now).await?);
    };
    let answered_before = store::recorded(tx, &ids, index).await?;
    let (partners, members) = read(tx, runs).await?;
    let rule = step.condition.as_deref().map(|text| condition_rule(app, text)).transpose();
    let mut answers = Answers::default();
    let mut readers: Vec<(&Run, &Member, &Partner)> = Vec::new();
    for &run in runs {
        if answered_before.contains(&run.id) {
            answers.through.push(run.id);
            continue;
        }
        let member = run.member_id.and_then(|id| members.get(&id));
        let Some(partner) = partners.get(&run.partner_id) else {
            answers.exited.push(run.id);
            continue;
        };
        if run.member_id.is_some() && member.is_none() {
            // The member was erased or removed since they entered.
            answers.exited.push(run.id);
            continue;
        }
        match &rule {
            Err(why) => answers.through(run, None, format!("failed: {why}")),
            Ok(Some(rule)) if !holds(rule, partner, member, None, now) => {
                answers.through(run, None, "passed_over: the step's condition did not hold".to_owned());
            }
            Ok(_) => match member {
                Some(m) if m.profile.status != MemberStatus::Active => {
                    answers.through(run, None, "no_recipient: nobody active matches".to_owned());
                }
                Some(m) => readers.push((run, m, partner)),
                None => {
                    let about = About { partner: partner.clone(), member: None };
                    let outcome = leads_message(app, tx, sequence, step, &about, now).await?;
                    answers.through_with(run, outcome);
                }
            },
        }
    }
    to_members(app, tx, sequence, step, &readers, &mut answers, now).await?;
    store::record_steps(tx, &answers.records, now).await?;
    let next = index + 1;
    let onward = match sequence.steps.get(next) {
        Some(after) => Move::To { step: next, after_ms: i64::from(after.after_minutes) * MINUTE_MS },
        None => Move::End { step: next, state: RunState::Finished },
    };
    store::move_on(tx, &answers.through, onward, now).await?;
    store::move_on(tx, &answers.exited, Move::End { step: index, state: RunState::Exited }, now).await?;
    Ok(())
}

impl Answers {
    fn through_with(&mut self, run: &Run, outcome: Result<MessageId, String>) {
        match outcome {
            Ok(id) => self.through(run, Some(id), "sent".to_owned()),
            Err(why) => self.through(run, None, why),
        }
    }
}

/// The runs' partners and members, read at once.
async fn read(
    tx: &mut Tx,
    runs: &[&Run],
) -> Result<(HashMap<PartnerId, Partner>, HashMap<MemberId, Member>), AppError> {
    let partner_ids: Vec<PartnerId> = runs.iter().map(|r| r.partner_id).collect::<HashSet<_>>().into_iter().collect();
    let member_ids: Vec<MemberId> = runs.iter().filter_map(|r| r.member_id).collect();
    let partners = partners::get_many(tx, &partner_ids).await?.into_iter().map(|p| (p.id, p)).collect();
    let members = members::get_many(tx, &member_ids).await?.into_iter().map(|m| (m.id, m)).collect();
    Ok((partners, members))
}

fn spec<'a>(sequence: &'a Sequence, step: &'a Step, audience: AudienceDraft, now: Timestamp) -> Spec<'a> {
    Spec {
        topic_id: sequence.topic_id,
        importance: step.importance,
        channels: step.channels.as_deref(),
        content: &step.content,
        audience,
        send_at: now,
        created_by: format!("sequence:{}", sequence.key),
        triggered_by: None,
    }
}

/// A partner's run: a message to its leads, or why none.
async fn leads_message(
    app: &App,
    tx: &mut Tx,
    sequence: &Sequence,
    step: &Step,
    about: &About,
    now: Timestamp,
) -> Result<Result<MessageId, String>, AppError> {
    let Some(audience) = about.audience(Recipients::PartnerLeads, &[]) else {
        return Ok(Err("no_recipient".to_owned()));
    };
    Ok(match make(app, tx, about, spec(sequence, step, audience, now), now).await? {
        Ok(m) => {
            tidings_store::messages::insert(tx, &m).await?;
            Ok(m.id)
        }
        Err(why) => Err(why),
    })
}

/// One message to every member whose run reached the step and whom its template can be
/// filled for (checked for each reader when it reads anything of theirs).
async fn to_members(
    app: &App,
    tx: &mut Tx,
    sequence: &Sequence,
    step: &Step,
    readers: &[(&Run, &Member, &Partner)],
    answers: &mut Answers,
    now: Timestamp,
) -> Result<(), AppError> {
    if readers.is_empty() {
        return Ok(());
    }
    let mut message: Message = message(app, tx, spec(sequence, step, AudienceDraft::default(), now), now).await?;
    let personal = message.content.is_personalized();
    let mut same_for_all = None;
    let mut reached = Vec::with_capacity(readers.len());
    for &(run, member, partner) in readers {
        let unfilled = if personal || same_for_all.is_none() {
            let why = unfillable(&message, &Personalization::of(&member.profile, &partner.profile));
            same_for_all = Some(why.clone());
            why
        } else {
            same_for_all.clone().flatten()
        };
        match unfilled {
            Some(why) => answers.through(run, None, why),
            None => {
                reached.push(member.id);
                answers.through(run, Some(message.id), "sent".to_owned());
            }
        }
    }
    if !reached.is_empty() {
        message.audience = AudienceDraft { members: reached, ..Default::default() };
        tidings_store::messages::insert(tx, &message).await?;
    }
    Ok(())
}
