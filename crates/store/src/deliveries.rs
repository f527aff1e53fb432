//! The send path in SQL. A release fans a message out, one range of member ids at a time:
//! recipient rows (the inbox) for every member of the audience who takes the topic, then
//! delivery rows for each outside channel the member may be reached on. The consent rules
//! of `tidings_core::consent::may_reach` are expressed here as SQL conditions; a property
//! test holds the two to the same answers. Workers then claim due deliveries under a
//! lease and record what each attempt came to.

use std::collections::{HashMap, HashSet};

use sqlx::AssertSqlSafe;
use tidings_core::audiences::Rule;
use tidings_core::consent::{Channel, TopicPolicies, TopicPolicy};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{MemberId, MessageId, Role, Roles, Slug, Timestamp};
use uuid::Uuid;

use crate::audiences::compile;
use crate::db::on_tx;
use crate::rollups::{self, Counts, Key};
use crate::sql::{Filter, Value, bind_as, bind_query, placeholders};
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
    pub now: Timestamp,
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
    let lo = after.map_or(Uuid::nil(), |a| a.as_uuid());
    let bound = format!("select id from members where id > $1 order by id limit 1 offset {}", size.max(1) - 1);
    let hi: Option<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(bound)).bind(lo).fetch_optional(c).await)?;
    let hi = hi.map(|(h,)| h);
    let (recipients, deliveries) = match tx.dialect() {
        Dialect::Postgres => fan_out_postgres(tx, r, lo, hi).await?,
        Dialect::Sqlite => fan_out_sqlite(tx, r, lo, hi).await?,
    };
    let done = hi.is_none();
    if done {
        rollups::count_partners(tx, r.message_id).await?;
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
    let channels: Vec<(Channel, String)> =
        r.channels.iter().filter_map(|c| channel_condition(d, *c).map(|cond| (*c, cond))).collect();
    let flags: String = channels.iter().enumerate().map(|(i, (_, cond))| format!(", ({cond}) as ok{i}")).collect();
    let inserts: String = channels
        .iter()
        .enumerate()
        .map(|(i, (channel, _))| {
            format!(
                ", sent{i} as (insert into deliveries (message_id, member_id, channel, status, attempts, due_at, \
                 updated_at) select {message}, id, '{channel}', 'queued', 0, {now}, {now} from chosen where ok{i} \
                 returning 1)",
                channel = channel.as_str()
            )
        })
        .collect();
    // The report's counts of the batch by roles and channel, from the same rows (see
    // `rollups`; partners are counted once the fan-out is done).
    let nil = f.bind(Value::Uuid(Uuid::nil()));
    let tallied: String = channels
        .iter()
        .enumerate()
        .map(|(i, (channel, _))| {
            format!(
                ", tallied{i} as (insert into message_rollup_deltas (message_id, partner_id, roles, hour, channel, \
                 status, deliveries) select {message}, {nil}, -1, -1, '{channel}', 'queued', count(*) from sent{i} \
                 having count(*) > 0)",
                channel = channel.as_str()
            )
        })
        .collect();
    // Starts from a bigint: a message for the inbox alone counts no deliveries, and a bare
    // 0 is an int4 that does not decode as i64.
    let counted: String = (0..channels.len()).map(|i| format!(" + (select count(*) from sent{i})")).collect();
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
    // The report's counts of the batch by roles (see `rollups`; partners are counted once
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
    for channel in r.channels {
        let Some(condition) = channel_condition(d, *channel) else { continue };
        let mut f = Filter::default();
        let now = f.bind(Value::Int(r.now.as_millis()));
        let now_again = f.bind(Value::Int(r.now.as_millis()));
        let ids = range(&mut f, "r.member_id", lo, hi);
        let preference_ids = range(&mut f, "mp.member_id", lo, hi);
        let message = f.bind(Value::Uuid(r.message_id.as_uuid()));
        let sql = format!(
            "insert into deliveries (message_id, member_id, channel, status, attempts, due_at, updated_at) \
             select r.message_id, r.member_id, '{channel}', 'queued', 0, {now}, {now_again} \
             from recipients r join members m on m.id = r.member_id \
             left join member_preferences mp on mp.member_id = r.member_id and {preference_ids} \
             where {ids} and r.message_id = {message} and {condition}",
            channel = channel.as_str()
        );
        let written = on_tx!(tx, |c| bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values)
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
        if written > 0 {
            let key = Key::Delivery { channel: *channel, status: DeliveryStatus::Queued };
            let n = Counts { deliveries: i64::try_from(written).unwrap_or(i64::MAX), ..Counts::default() };
            rollups::add(tx, &[(r.message_id, key, n)]).await?;
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
/// choice, else on by default for one of their roles. A member without roles takes the
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
    let choice = match d {
        Dialect::Sqlite => format!("json_extract(mp.topics, {})", f.bind(Value::Text(format!("$.\"{key}\"")))),
        Dialect::Postgres => format!("(mp.topics ->> {})::boolean", f.bind(Value::Text(key.to_string()))),
    };
    format!(
        "(case when {required} then 1 when {choice} is not null then (case when {choice} then 1 else 0 end) \
         when {on} then 1 else 0 end) = 1"
    )
}

/// `may_reach` for one outside channel, past the topic (the recipient row already holds
/// that): the member has not turned the channel off, and the channel's own rule. `None`
/// for channels that need an address Tidings does not hold yet.
fn channel_condition(d: Dialect, channel: Channel) -> Option<String> {
    let name = channel.as_str();
    let open = match d {
        Dialect::Sqlite => format!("coalesce(json_extract(mp.channels, '$.{name}'), 1) = 1"),
        Dialect::Postgres => format!("coalesce((mp.channels ->> '{name}')::boolean, true)"),
    };
    let own = match channel {
        Channel::Email => "coalesce(mp.email_opted_in, false) \
             and not exists (select 1 from email_suppressions s where s.email = m.email)"
            .to_owned(),
        Channel::Sms => "m.phone is not null and coalesce(mp.sms_opted_in, false)".to_owned(),
        Channel::Inbox | Channel::Popup | Channel::Slack | Channel::Teams | Channel::WebPush | Channel::Webhook => {
            return None;
        }
    };
    Some(format!("{open} and {own}"))
}

/// A delivery a worker holds under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Channel,
    /// Attempts so far, this one included.
    pub attempts: u32,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    message_id: Uuid,
    member_id: Uuid,
    channel: String,
    attempts: i32,
}

/// Claims up to `limit` due deliveries (queued ones whose time has come, and those whose
/// lease ran out with their worker) until `lease_until`. PostgreSQL skips rows another
/// worker holds; SQLite's single writer serializes claims.
pub async fn claim(tx: &mut Tx, now: Timestamp, lease_until: Timestamp, limit: usize) -> Result<Vec<Claimed>> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => format!(
            "update deliveries set status = 'sending', attempts = attempts + 1, due_at = $1, updated_at = $2 \
             where (message_id, member_id, channel) in (select message_id, member_id, channel from deliveries \
             where due_at <= $2 order by due_at limit {limit}) \
             returning message_id, member_id, channel, attempts"
        ),
        Dialect::Postgres => format!(
            "update deliveries d set status = 'sending', attempts = d.attempts + 1, due_at = $1, updated_at = $2 \
             from (select message_id, member_id, channel from deliveries where due_at <= $2 \
             order by due_at limit {limit} for update skip locked) c \
             where d.message_id = c.message_id and d.member_id = c.member_id and d.channel = c.channel \
             returning d.message_id, d.member_id, d.channel, d.attempts"
        ),
    };
    let rows: Vec<ClaimedRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(lease_until.as_millis())
        .bind(now.as_millis())
        .fetch_all(c)
        .await)?;
    rows.into_iter()
        .map(|r| {
            Ok(Claimed {
                message_id: MessageId::from_uuid(r.message_id),
                member_id: MemberId::from_uuid(r.member_id),
                channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
            })
        })
        .collect()
}

/// What an attempt came to, to be saved.
#[derive(Debug, Clone)]
pub struct Settled<'a> {
    pub claimed: &'a Claimed,
    pub status: DeliveryStatus,
    /// When to try again (for a retry), else `None`.
    pub due_at: Option<Timestamp>,
    pub provider_id: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Saves outcomes. Each row changes only if it is still the attempt its worker claimed:
/// a worker whose lease ran out (and whose delivery was claimed again) changes nothing.
/// Returns, for each outcome, whether it was saved.
pub async fn settle(tx: &mut Tx, outcomes: &[Settled<'_>], now: Timestamp) -> Result<Vec<bool>> {
    const COLUMNS: usize = 8;
    let d = tx.dialect();
    let mut saved = HashSet::with_capacity(outcomes.len());
    // One statement per chunk: a round trip per delivery held PostgreSQL to 3,000 a second.
    for chunk in outcomes.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * COLUMNS;
                match d {
                    // Parameters in VALUES have no type from context on PostgreSQL.
                    Dialect::Postgres => format!(
                        "(${}::uuid, ${}::uuid, ${}::text, ${}::text, ${}::bigint, ${}::text, ${}::text, ${}::int)",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6,
                        n + 7,
                        n + 8
                    ),
                    Dialect::Sqlite => format!("({})", placeholders(d, n + 1, COLUMNS)),
                }
            })
            .collect();
        let now_at = chunk.len() * COLUMNS + 1;
        let now_placeholder = match d {
            Dialect::Postgres => format!("${now_at}"),
            Dialect::Sqlite => "?".to_owned(),
        };
        // SQLite 3.51 without statistics scanned all deliveries and looked each up in an
        // automatic index on `v` (85 ms a batch at a million rows); a unary `+` keeps `v`'s
        // columns out of any index, which leaves the primary key lookup. PostgreSQL has no
        // `+` for uuid and needs none.
        let plus = if d == Dialect::Sqlite { "+" } else { "" };
        let sql = format!(
            "with v (message_id, member_id, channel, status, due_at, provider_id, error, attempts) as (values {}) \
             update deliveries set status = v.status, due_at = v.due_at, \
             provider_id = coalesce(v.provider_id, deliveries.provider_id), error = v.error, updated_at = {now_placeholder} \
             from v where deliveries.message_id = {plus}v.message_id and deliveries.member_id = {plus}v.member_id \
             and deliveries.channel = {plus}v.channel and deliveries.status = 'sending' \
             and deliveries.attempts = v.attempts \
             returning deliveries.message_id, deliveries.member_id, deliveries.channel, deliveries.status",
            rows.join(", ")
        );
        let changed: Vec<(Uuid, Uuid, String, String)> = on_tx!(tx, |c| {
            // Not a named prepared statement: PostgreSQL's generic plan for it (after five
            // runs) hash-joined the whole table, 140 ms a batch instead of 5.
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).persistent(false);
            for o in chunk {
                q = q
                    .bind(o.claimed.message_id.as_uuid())
                    .bind(o.claimed.member_id.as_uuid())
                    .bind(o.claimed.channel.as_str())
                    .bind(o.status.as_str())
                    .bind(o.due_at.map(Timestamp::as_millis))
                    .bind(o.provider_id)
                    .bind(o.error)
                    .bind(i32::try_from(o.claimed.attempts).unwrap_or(i32::MAX));
            }
            q.bind(now.as_millis()).fetch_all(c).await
        })?;
        // Each saved attempt leaves `sending` for its outcome, counted once per kind of move.
        let mut moved: HashMap<(Uuid, Channel, DeliveryStatus), i64> = HashMap::new();
        for (message, member, channel, status) in changed {
            let status = status.parse::<DeliveryStatus>().map_err(Error::corrupt)?;
            *moved.entry((message, channel.parse::<Channel>().map_err(Error::corrupt)?, status)).or_default() += 1;
            saved.insert((message, member, channel));
        }
        let deltas: Vec<_> = moved
            .into_iter()
            .flat_map(|((message, channel, status), n)| {
                rollups::delivery_moved(MessageId::from_uuid(message), channel, DeliveryStatus::Sending, status, n)
            })
            .collect();
        rollups::add(tx, &deltas).await?;
    }
    Ok(outcomes
        .iter()
        .map(|o| {
            let key =
                (o.claimed.message_id.as_uuid(), o.claimed.member_id.as_uuid(), o.claimed.channel.as_str().to_owned());
            saved.contains(&key)
        })
        .collect())
}

/// One delivery as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Delivery {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub channel: Channel,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub due_at: Option<Timestamp>,
    pub provider_id: Option<String>,
    pub error: Option<String>,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    message_id: Uuid,
    member_id: Uuid,
    channel: String,
    status: String,
    attempts: i32,
    due_at: Option<i64>,
    provider_id: Option<String>,
    error: Option<String>,
    updated_at: i64,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = Error;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Self {
            message_id: MessageId::from_uuid(r.message_id),
            member_id: MemberId::from_uuid(r.member_id),
            channel: r.channel.parse::<Channel>().map_err(Error::corrupt)?,
            status: r.status.parse::<DeliveryStatus>().map_err(Error::corrupt)?,
            attempts: u32::try_from(r.attempts).unwrap_or(0),
            due_at: r.due_at.map(Timestamp::from_millis),
            provider_id: r.provider_id,
            error: r.error,
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

const DELIVERY: &str =
    "select message_id, member_id, channel, status, attempts, due_at, provider_id, error, updated_at from deliveries";

pub async fn get(tx: &mut Tx, message: MessageId, member: MemberId, channel: Channel) -> Result<Delivery> {
    let sql = format!("{DELIVERY} where message_id = $1 and member_id = $2 and channel = $3");
    let row: Option<DeliveryRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .bind(channel.as_str())
        .fetch_optional(c)
        .await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// Every delivery of a message (for tests and small messages; reports count in SQL).
pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<Vec<Delivery>> {
    let sql = format!("{DELIVERY} where message_id = $1 order by member_id, channel");
    let rows: Vec<DeliveryRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// Messages whose release is done and none of whose deliveries awaits an attempt: they
/// move from sending to sent.
pub async fn finish_sent(tx: &mut Tx, now: Timestamp) -> Result<Vec<MessageId>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as(
        "update messages set state = 'sent', updated_at = $1 where state = 'sending' and release_done \
         and not exists (select 1 from deliveries d where d.message_id = messages.id and d.due_at is not null) \
         returning id"
    )
    .bind(now.as_millis())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| MessageId::from_uuid(id)).collect())
}

/// Marks a delivery with a later outcome reported by the provider (delivered, bounced).
pub async fn mark(
    tx: &mut Tx,
    message: MessageId,
    member: MemberId,
    channel: Channel,
    status: DeliveryStatus,
    error: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    // The status it leaves, read under the row's lock, moves the report's counts.
    let lock = if tx.dialect() == Dialect::Postgres { " for update" } else { "" };
    let sql = format!("select status from deliveries where message_id = $1 and member_id = $2 and channel = $3{lock}");
    let was: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .bind(channel.as_str())
        .fetch_optional(c)
        .await)?;
    let was = was.ok_or(Error::NotFound)?.parse::<DeliveryStatus>().map_err(Error::corrupt)?;
    rollups::add(tx, &rollups::delivery_moved(message, channel, was, status, 1)).await?;
    let done = on_tx!(tx, |c| sqlx::query(
        "update deliveries set status = $4, error = coalesce($5, error), due_at = null, updated_at = $6 \
         where message_id = $1 and member_id = $2 and channel = $3"
    )
    .bind(message.as_uuid())
    .bind(member.as_uuid())
    .bind(channel.as_str())
    .bind(status.as_str())
    .bind(error)
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}
