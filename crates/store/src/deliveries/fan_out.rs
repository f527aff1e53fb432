//! A release in SQL: the message fanned out one range of member ids at a time, into
//! recipient rows (the inbox) for every member of the audience who takes the topic, then
//! delivery rows (purpose `initial`) for each outside channel the member may be reached
//! on. The consent rules of `tidings_core::consent::may_reach` are expressed here as SQL
//! conditions; a property test holds the two to the same answers.

use sqlx::AssertSqlSafe;
use tidings_core::audiences::Rule;
use tidings_core::consent::{Channel, TopicPolicies, TopicPolicy};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{MemberId, MessageId, Role, Roles, Slug, Timestamp};
use uuid::Uuid;

use super::noise::{self, Noise};
use crate::audiences::compile;
use crate::db::on_tx;
use crate::reports::{self, Counts, Key};
use crate::sql::{Filter, Value, bind_as, bind_query};
use crate::{Dialect, Error, Result, Tx};

/// What a release fans out.
#[derive(Debug, Clone, Copy)]
pub struct Release<'a> {
    pub message_id: MessageId,
    /// The whole audience as one rule.
    pub rule: &'a Rule,
    pub topic_key: &'a Slug,
    pub policies: &'a TopicPolicies,
    /// The outside channels to create deliveries for (the inbox is the recipient row).
    pub channels: &'a [Channel],
    /// The channels to post on to each reached partner's bound channel (Teams, Slack).
    pub posts: &'a [Channel],
    pub now: Timestamp,
    /// When members of each time zone and working hours may be sent to outside the inbox
    /// (quiet hours); anyone else at `now`.
    pub slots: &'a [super::chase::Slot],
    /// Frequency caps and digests.
    pub noise: Noise<'a>,
}

/// One kind of delivery a release queues: a channel's first send, or the digest's item.
struct Send {
    channel: Channel,
    purpose: &'static str,
    /// Who gets it, over `members m`, `member_preferences mp` and `partner_defaults pd`.
    condition: String,
    due: String,
}

/// The deliveries a release queues, with their conditions and due times; `ids` limits a
/// cap's count to the batch's members.
fn sends(d: Dialect, r: &Release<'_>, f: &mut Filter, now: &str, ids: &str) -> Vec<Send> {
    let mut out = Vec::new();
    let digest_held = r.noise.digest.map(|digests| noise::held(&digests, f));
    let capped = r.noise.cap.map(|cap| noise::capped(&cap, f, ids));
    let quiet = super::chase::due_expression(f, r.slots, now);
    for channel in r.channels {
        let Some(mut condition) = outside_condition(d, r, *channel, f) else { continue };
        for held_back in digest_held.iter().chain(&capped) {
            condition = format!("{condition} and not ({held_back})");
        }
        out.push(Send { channel: *channel, purpose: "initial", condition, due: quiet.clone() });
    }
    if let (Some(digests), Some(held)) = (r.noise.digest, digest_held)
        && let Some(email) = outside_condition(d, r, Channel::Email, f)
    {
        let due = noise::digest_due(&digests, f, now);
        out.push(Send { channel: Channel::Email, purpose: "digest", condition: format!("{held} and {email}"), due });
    }
    out
}

/// What one batch of a release wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReleaseBatch {
    pub recipients: u64,
    pub deliveries: u64,
    /// The last member id this batch covered; the next batch starts after it.
    pub cursor: Option<MemberId>,
    /// No member ids are left after this batch.
    pub done: bool,
}

/// The outside channels a release can fan out to: those with a rule for who may be reached.
pub fn fans_out(channel: Channel) -> bool {
    channel_condition(Dialect::Sqlite, channel).is_some()
}

/// Fans the message out to the members with ids after `after`, up to `size` member ids
/// (of all members, so each batch's range is found by a short index scan), and saves the
/// cursor on the message in the same transaction: a crash resumes where it stopped.
/// Callers hold the message's release (`release_progress`), so no range is fanned out
/// twice; the inserts have no `on conflict` clause, which cost a third of their time on
/// PostgreSQL, and a range written twice would fail on the primary key, never duplicate.
pub async fn release_batch(tx: &mut Tx, r: &Release<'_>, after: Option<MemberId>, size: usize) -> Result<ReleaseBatch> {
    let mut lo = after.map_or(Uuid::nil(), |a| a.as_uuid());
    // A message to a list of people (a trigger's, a sequence step's) starts at the first
    // of them and ends after the last, not a pass over the whole directory.
    let listed = listed_span(r.rule);
    if let Some((first, _)) = listed {
        lo = lo.max(Uuid::from_u128(first.as_u128().saturating_sub(1)));
    }
    let bound = format!("select id from members where id > $1 order by id limit 1 offset {}", size.max(1) - 1);
    let hi: Option<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(bound)).bind(lo).fetch_optional(c).await)?;
    let hi = hi.map(|(h,)| h);
    let (recipients, deliveries) = match tx.dialect() {
        Dialect::Postgres => fan_out_postgres(tx, r, lo, hi).await?,
        Dialect::Sqlite => fan_out_sqlite(tx, r, lo, hi).await?,
    };
    let done = match (hi, listed) {
        (None, _) => true,
        (Some(hi), Some((_, last))) => hi >= last,
        (Some(_), None) => false,
    };
    if done {
        reports::count_partners(tx, r.message_id).await?;
        crate::partner_channels::queue_for_release(tx, r.message_id, r.posts, r.now).await?;
    }
    on_tx!(tx, |c| sqlx::query("update messages set release_cursor = $2, release_done = $3 where id = $1")
        .bind(r.message_id.as_uuid())
        .bind(hi)
        .bind(done)
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(ReleaseBatch { recipients, deliveries, cursor: hi.map(MemberId::from_uuid), done })
}

/// The lowest and highest member id the rule may reach, when it lists them; a list of
/// none is a span past every id.
fn listed_span(rule: &Rule) -> Option<(Uuid, Uuid)> {
    let ids: Vec<Uuid> = rule.member_ids()?.into_iter().filter_map(|t| Uuid::parse_str(t).ok()).collect();
    match (ids.iter().min(), ids.iter().max()) {
        (Some(first), Some(last)) => Some((*first, *last)),
        _ => Some((Uuid::max(), Uuid::max())),
    }
}

/// The members of the range whom the message reaches: `from ... where ...` over `members
/// m` and `member_preferences mp`, with the audience rule, the member's status and the
/// topic decision.
fn reached(r: &Release<'_>, d: Dialect, f: &mut Filter, lo: Uuid, hi: Option<Uuid>) -> String {
    let audience = compile(r.rule, d, r.now, f);
    let ids = range(f, "m.id", lo, hi);
    // PostgreSQL does not carry a range across a join's equality; without it, each batch
    // hashed all of member_preferences (3x slower at a million members).
    let preference_ids = range(f, "mp.member_id", lo, hi);
    let topic = topic_condition(d, r.topic_key, r.policies, f);
    // Every member has a partner, so the join only matters to a rule that reads one.
    let partners = if r.rule.reads_partner() { "join partners p on p.id = m.partner_id " } else { "" };
    format!(
        "from members m {partners}left join member_preferences mp on mp.member_id = m.id and {preference_ids} \
         left join partner_defaults pd on pd.partner_id = m.partner_id \
         where {ids} and m.status <> 'disabled' and ({audience}) and {topic}"
    )
}

/// PostgreSQL: one statement per batch. The members reached are read once, with a flag
/// per outside channel, and both inserts take their rows from that: as fast as a plain
/// insert of the same rows, where reading the new inbox rows back cost 40% more.
async fn fan_out_postgres(tx: &mut Tx, r: &Release<'_>, lo: Uuid, hi: Option<Uuid>) -> Result<(u64, u64)> {
    let d = Dialect::Postgres;
    let mut f = Filter::default();
    let reached = reached(r, d, &mut f, lo, hi);
    let message = f.bind(Value::Uuid(r.message_id.as_uuid()));
    let now = f.bind(Value::Int(r.now.as_millis()));
    let counted_ids = range(&mut f, "d.member_id", lo, hi);
    let sends = sends(d, r, &mut f, &now, &counted_ids);
    let flags: String =
        sends.iter().enumerate().map(|(i, s)| format!(", ({}) as ok{i}, {} as due{i}", s.condition, s.due)).collect();
    let inserts: String = sends
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                ", sent{i} as (insert into deliveries (message_id, member_id, channel, purpose, status, attempts, \
                 due_at, updated_at) select {message}, id, '{channel}', '{purpose}', 'queued', 0, due{i}, {now} \
                 from chosen where ok{i} returning 1)",
                channel = s.channel.as_str(),
                purpose = s.purpose
            )
        })
        .collect();
    // The report's counts of the batch by roles and channel (deliveries queued, and the
    // members sent to there), from the same rows (see `reports`; partners are counted
    // once the fan-out is done).
    let nil = f.bind(Value::Uuid(Uuid::nil()));
    let tallied: String = sends
        .iter()
        .enumerate()
        .map(|(i, Send { channel, .. })| {
            format!(
                ", tallied{i} as (insert into message_rollup_deltas (message_id, partner_id, roles, hour, channel, \
                 status, deliveries, recipients) select {message}, {nil}, -1, -1, '{channel}', s.status, \
                 case when s.status = '' then 0 else n end, case when s.status = '' then n else 0 end \
                 from (select count(*) as n from sent{i}) c cross join (values ('queued'), ('')) s (status) \
                 where n > 0)",
                channel = channel.as_str()
            )
        })
        .collect();
    // Starts from a bigint: a message for the inbox alone counts no deliveries, and a bare
    // 0 is an int4 that does not decode as i64.
    let counted: String = (0..sends.len()).map(|i| format!(" + (select count(*) from sent{i})")).collect();
    let sql = format!(
        "with chosen as materialized (select m.id, m.partner_id, m.roles{flags} {reached}), \
         inbox as (insert into recipients (message_id, member_id, partner_id, roles, released_at) \
         select {message}, id, partner_id, roles, {now} from chosen returning 1){inserts}, \
         tallied as (insert into message_rollup_deltas (message_id, partner_id, roles, hour, channel, status, \
         recipients) select {message}, {nil}, roles, -1, '', '', count(*) from chosen group by roles){tallied} \
         select (select count(*) from inbox), cast(0 as bigint){counted}"
    );
    let (recipients, deliveries): (i64, i64) =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_one(c).await)?;
    Ok((recipients.unsigned_abs(), deliveries.unsigned_abs()))
}

/// SQLite: no inserts inside a `with`, so the inbox rows first, then each channel's
/// deliveries from them.
async fn fan_out_sqlite(tx: &mut Tx, r: &Release<'_>, lo: Uuid, hi: Option<Uuid>) -> Result<(u64, u64)> {
    let d = Dialect::Sqlite;
    let mut f = Filter::default();
    let message = f.bind(Value::Uuid(r.message_id.as_uuid()));
    let now = f.bind(Value::Int(r.now.as_millis()));
    let reached = reached(r, d, &mut f, lo, hi);
    let sql = format!(
        "insert into recipients (message_id, member_id, partner_id, roles, released_at) \
         select {message}, m.id, m.partner_id, m.roles, {now} {reached}"
    );
    let recipients = on_tx!(tx, |c| bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    // The report's counts of the batch by roles (see `reports`; partners are counted once
    // the fan-out is done), from the rows just written.
    let mut f = Filter::default();
    let nil = f.bind(Value::Uuid(Uuid::nil()));
    let message = f.bind(Value::Uuid(r.message_id.as_uuid()));
    let ids = range(&mut f, "member_id", lo, hi);
    let sql = format!(
        "insert into message_rollup_deltas (message_id, partner_id, roles, hour, channel, status, recipients) \
         select {message}, {nil}, roles, -1, '', '', count(*) from recipients \
         where message_id = {message} and {ids} group by roles"
    );
    on_tx!(tx, |c| bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values).execute(c).await.map(|_| ()))?;

    let mut deliveries = 0;
    let kinds = {
        let mut f = Filter::default();
        sends(d, r, &mut f, "0", "1 = 1").into_iter().map(|s| (s.channel, s.purpose)).collect::<Vec<_>>()
    };
    // Each kind with its own statement and parameters: SQLite binds them by position.
    for (i, (channel, purpose)) in kinds.into_iter().enumerate() {
        let mut f = Filter::default();
        let now = f.bind(Value::Int(r.now.as_millis()));
        let counted_ids = range(&mut f, "d.member_id", lo, hi);
        let Some(send) = sends(d, r, &mut f, &now, &counted_ids).into_iter().nth(i) else { continue };
        let ids = range(&mut f, "r.member_id", lo, hi);
        let preference_ids = range(&mut f, "mp.member_id", lo, hi);
        let message = f.bind(Value::Uuid(r.message_id.as_uuid()));
        let sql = format!(
            "insert into deliveries (message_id, member_id, channel, purpose, status, attempts, due_at, \
             updated_at) select r.message_id, r.member_id, '{channel}', '{purpose}', 'queued', 0, {due}, {now} \
             from recipients r join members m on m.id = r.member_id \
             left join member_preferences mp on mp.member_id = r.member_id and {preference_ids} \
             left join partner_defaults pd on pd.partner_id = m.partner_id \
             where {ids} and r.message_id = {message} and {condition}",
            channel = channel.as_str(),
            due = send.due,
            condition = send.condition,
        );
        let written = on_tx!(tx, |c| bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if written > 0 {
            let key = Key::Delivery { channel, status: DeliveryStatus::Queued };
            let n = i64::try_from(written).unwrap_or(i64::MAX);
            let deliveries = Counts { deliveries: n, ..Counts::default() };
            let people = Counts { recipients: n, ..Counts::default() };
            reports::add(tx, &[(r.message_id, key, deliveries), (r.message_id, Key::Channel(channel), people)]).await?;
        }
        deliveries += written;
    }
    Ok((recipients, deliveries))
}

/// Where a release stands: its cursor and whether it is done.
pub async fn release_progress(tx: &mut Tx, message: MessageId) -> Result<(Option<MemberId>, bool)> {
    // On PostgreSQL the row lock makes two processes resuming one release take turns.
    let sql = match tx.dialect() {
        Dialect::Sqlite => "select release_cursor, release_done from messages where id = $1",
        Dialect::Postgres => "select release_cursor, release_done from messages where id = $1 for update",
    };
    let row: Option<(Option<Uuid>, bool)> =
        on_tx!(tx, |c| sqlx::query_as(sql).bind(message.as_uuid()).fetch_optional(c).await)?;
    let (cursor, done) = row.ok_or(Error::NotFound)?;
    Ok((cursor.map(MemberId::from_uuid), done))
}

fn range(f: &mut Filter, column: &str, lo: Uuid, hi: Option<Uuid>) -> String {
    let lo = f.bind(Value::Uuid(lo));
    match hi {
        Some(hi) => format!("{column} > {lo} and {column} <= {}", f.bind(Value::Uuid(hi))),
        None => format!("{column} > {lo}"),
    }
}

/// `topic_decision` in SQL: required for one of the member's roles, else the member's own
/// choice, else their partner's default, else on by default for one of their roles. A member without roles takes the
/// topic's default. The role masks come from the policies (code, not input).
fn topic_condition(d: Dialect, key: &Slug, policies: &TopicPolicies, f: &mut Filter) -> String {
    let level = |r: Role| policies.by_role.get(&r).copied().unwrap_or(policies.default);
    let mask = |min: TopicPolicy| Role::ALL.iter().filter(|r| level(**r) >= min).copied().collect::<Roles>().bits();
    let truth = |b: bool| if b { "1 = 1" } else { "1 = 0" };
    let required = format!(
        "((m.roles & {}) <> 0 or (m.roles = 0 and {}))",
        mask(TopicPolicy::Required),
        truth(policies.default == TopicPolicy::Required)
    );
    let on = format!(
        "((m.roles & {}) <> 0 or (m.roles = 0 and {}))",
        mask(TopicPolicy::OptionalOn),
        truth(policies.default >= TopicPolicy::OptionalOn)
    );
    let choice = |table: &str, f: &mut Filter| match d {
        Dialect::Sqlite => format!("json_extract({table}.topics, {})", f.bind(Value::Text(format!("$.\"{key}\"")))),
        Dialect::Postgres => format!("({table}.topics ->> {})::boolean", f.bind(Value::Text(key.to_string()))),
    };
    let (own, partner) = (choice("mp", f), choice("pd", f));
    format!(
        "(case when {required} then 1 when {own} is not null then (case when {own} then 1 else 0 end) \
         when {partner} is not null then (case when {partner} then 1 else 0 end) \
         when {on} then 1 else 0 end) = 1"
    )
}

/// `may_reach` for one outside channel, past the topic (the recipient row already holds
/// that): the member has not turned the channel off, and the channel's own rule. `None`
/// for channels that need an address Tidings does not hold yet.
pub(super) fn channel_condition(d: Dialect, channel: Channel) -> Option<String> {
    let name = channel.as_str();
    let open = match d {
        Dialect::Sqlite => format!("coalesce(json_extract(mp.channels, '$.{name}'), 1) = 1"),
        Dialect::Postgres => format!("coalesce((mp.channels ->> '{name}')::boolean, true)"),
    };
    let own = match channel {
        // `in` over a whole table is looked up once (a hashed subplan, an ephemeral
        // index), not once a member; both columns are not null, so `not in` is `not exists`.
        Channel::Email => "coalesce(mp.email_opted_in, false) \
             and m.email not in (select s.email from email_suppressions s where s.email is not null)"
            .to_owned(),
        Channel::Sms => "m.phone is not null and coalesce(mp.sms_opted_in, false)".to_owned(),
        // A workplace chat needs no opt-in; the member may turn it off.
        Channel::Slack => return Some(open),
        // The member asked for notifications in a browser, which is the opt-in.
        Channel::WebPush => "m.id in (select ps.member_id from push_subscriptions ps)".to_owned(),
        Channel::Inbox | Channel::Popup | Channel::Teams | Channel::Webhook => {
            return None;
        }
    };
    Some(format!("{open} and {own}"))
}

/// `channel_condition`, and the member has not turned the channel off for the message's
/// topic.
fn outside_condition(d: Dialect, r: &Release<'_>, channel: Channel, f: &mut Filter) -> Option<String> {
    let own = channel_condition(d, channel)?;
    Some(format!("{own} and {}", topic_channel_condition(d, r.topic_key, channel, f)))
}

/// The member has not turned `channel` off for the topic `topic_key`.
pub(super) fn topic_channel_condition(d: Dialect, topic_key: &Slug, channel: Channel, f: &mut Filter) -> String {
    let name = channel.as_str();
    match d {
        Dialect::Sqlite => {
            let path = f.bind(Value::Text(format!("$.\"{topic_key}\".{name}")));
            format!("coalesce(json_extract(mp.topic_channels, {path}), 1) = 1")
        }
        Dialect::Postgres => {
            let key = f.bind(Value::Text(topic_key.to_string()));
            format!("coalesce((mp.topic_channels -> {key} ->> '{name}')::boolean, true)")
        }
    }
}

/// What a release would write, counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReachCounts {
    /// Members of the audience who take the topic.
    pub members: i64,
    /// Of them, how many each outside channel may reach now.
    pub channels: Vec<(Channel, i64)>,
    /// How many take the message in their digest instead (a nice-to-know message).
    pub digest: Option<i64>,
    /// How many a frequency cap holds back to the inbox.
    pub capped: Option<i64>,
}

/// How many members the message would reach (the audience that takes the topic), how
/// many of them each outside channel may reach, and how many noise control holds back.
pub async fn reach(tx: &mut Tx, r: &Release<'_>) -> Result<ReachCounts> {
    let d = tx.dialect();
    let mut f = Filter::default();
    let reached = reached(r, d, &mut f, Uuid::nil(), None);
    let now = f.bind(Value::Int(r.now.as_millis()));
    let sends = sends(d, r, &mut f, &now, "1 = 1");
    let digest = r.noise.digest.map(|digests| noise::held(&digests, &mut f));
    let capped = r.noise.cap.map(|cap| noise::capped(&cap, &mut f, "1 = 1"));
    let mut conditions: Vec<&str> = sends.iter().map(|s| s.condition.as_str()).collect();
    conditions.extend(digest.iter().chain(&capped).map(String::as_str));
    let sums: String =
        conditions.iter().map(|cond| format!(", coalesce(sum(case when {cond} then 1 else 0 end), 0)")).collect();
    let sql = format!("select count(*){sums} {reached}");
    // One row of counts: the audience, then one per condition.
    let counts: Vec<i64> = on_tx!(tx, |c| {
        use sqlx::Row;
        let row = bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values).fetch_one(c).await?;
        (0..=conditions.len()).map(|i| row.try_get::<i64, _>(i)).collect::<std::result::Result<Vec<i64>, _>>()
    })?;
    let mut counts = counts.into_iter();
    let members = counts.next().unwrap_or(0);
    let mut channels = Vec::new();
    for s in &sends {
        let n = counts.next().unwrap_or(0);
        if s.purpose == "initial" {
            channels.push((s.channel, n));
        }
    }
    let digest = digest.map(|_| counts.next().unwrap_or(0));
    let capped = capped.map(|_| counts.next().unwrap_or(0));
    Ok(ReachCounts { members, channels, digest, capped })
}

/// For each channel of `r.posts`: how many partners the message reaches, and how many of
/// them have a channel bound there (the posts a release would queue).
pub async fn posts_reach(tx: &mut Tx, r: &Release<'_>) -> Result<(i64, Vec<(Channel, i64)>)> {
    let d = tx.dialect();
    let mut f = Filter::default();
    let reached = reached(r, d, &mut f, Uuid::nil(), None);
    let bound: String = r
        .posts
        .iter()
        .map(|c| {
            format!(
                ", count(distinct case when exists (select 1 from partner_bindings b where b.partner_id = m.partner_id \
                 and b.channel = '{}') then m.partner_id end)",
                c.as_str()
            )
        })
        .collect();
    let sql = format!("select count(distinct m.partner_id){bound} {reached}");
    let counts: Vec<i64> = on_tx!(tx, |c| {
        use sqlx::Row;
        let row = bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values).fetch_one(c).await?;
        (0..=r.posts.len()).map(|i| row.try_get::<i64, _>(i)).collect::<std::result::Result<Vec<i64>, _>>()
    })?;
    let partners = counts.first().copied().unwrap_or(0);
    Ok((partners, r.posts.iter().copied().zip(counts.into_iter().skip(1)).collect()))
}
