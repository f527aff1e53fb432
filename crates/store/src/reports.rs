//! The counts a message report reads, kept as things happen so that a report over a
//! million copies reads a few thousand rows: the copies of each partner's members and of
//! each combination of roles (apart: crossed, a million members in 10,000 partners made a
//! quarter of a million rows), the hours in which people reached each step, the
//! deliveries of each channel in each status, and per channel the members the release
//! sent to there who read and acknowledged.
//!
//! A change appends its difference to `message_rollup_deltas` in its own transaction; no
//! counter row is ever updated by the send path or by people's clicks, so no writer waits
//! for another. `fold` (the worker, every few seconds) sums the differences into
//! `message_rollups`; a read adds the ones not folded yet, so a report is exact whenever
//! it is read. `recount` builds a message's counts again from its copies and deliveries.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::consent::Channel;
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{MemberId, MessageId, PartnerId, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Dialect, Error, Result, Tx};

const HOUR_MS: i64 = 3_600_000;

/// What a row counts: the copies of a partner's members or of the members holding exactly
/// some roles, an hour, or the deliveries of a channel in a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// `None`: copies of members without a partner.
    Partner(Option<PartnerId>),
    Roles(Roles),
    /// Hours since the epoch.
    Period(i64),
    Delivery {
        channel: Channel,
        status: DeliveryStatus,
    },
    /// The members the release sent to on an outside channel (`recipients`), and how many
    /// of them read and acknowledged, however they came to.
    Channel(Channel),
}

/// The counted columns. A partner or roles row uses the first eight, a period row the
/// four steps of the funnel, a delivery row `deliveries`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    pub recipients: i64,
    pub opened: i64,
    pub clicked: i64,
    pub read: i64,
    pub acknowledged: i64,
    pub machine_opened: i64,
    pub scanner_clicked: i64,
    pub unsubscribed: i64,
    pub deliveries: i64,
    /// When the latest acknowledgment came (a maximum, not a sum).
    pub last_acknowledged_at: Option<i64>,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.recipients += o.recipients;
        self.opened += o.opened;
        self.clicked += o.clicked;
        self.read += o.read;
        self.acknowledged += o.acknowledged;
        self.machine_opened += o.machine_opened;
        self.scanner_clicked += o.scanner_clicked;
        self.unsubscribed += o.unsubscribed;
        self.deliveries += o.deliveries;
        self.last_acknowledged_at = self.last_acknowledged_at.max(o.last_acknowledged_at);
    }
}

const KEY_COLUMNS: &str = "partner_id, roles, hour, channel, status";
const COUNT_COLUMNS: [&str; 9] = [
    "recipients",
    "opened",
    "clicked",
    "read",
    "acknowledged",
    "machine_opened",
    "scanner_clicked",
    "unsubscribed",
    "deliveries",
];

/// Something a member does with their copy, at most once: the first time is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Opened,
    Clicked,
    Read,
    Acknowledged,
    MachineOpened,
    ScannerClicked,
    Unsubscribed,
}

impl Step {
    fn column(self) -> &'static str {
        match self {
            Self::Opened => "opened_at",
            Self::Clicked => "clicked_at",
            Self::Read => "read_at",
            Self::Acknowledged => "acknowledged_at",
            Self::MachineOpened => "machine_opened_at",
            Self::ScannerClicked => "scanner_clicked_at",
            Self::Unsubscribed => "unsubscribed_at",
        }
    }

    fn one(self) -> Counts {
        let mut c = Counts::default();
        match self {
            Self::Opened => c.opened = 1,
            Self::Clicked => c.clicked = 1,
            Self::Read => c.read = 1,
            Self::Acknowledged => c.acknowledged = 1,
            Self::MachineOpened => c.machine_opened = 1,
            Self::ScannerClicked => c.scanner_clicked = 1,
            Self::Unsubscribed => c.unsubscribed = 1,
        }
        c
    }

    /// A step of the people's funnel, charted over time.
    fn charted(self) -> bool {
        matches!(self, Self::Opened | Self::Clicked | Self::Read | Self::Acknowledged)
    }
}

/// The hour a moment falls in, as period rows count it.
pub fn hour_of(at: Timestamp) -> i64 {
    at.as_millis().div_euclid(HOUR_MS)
}

/// The status a delivery is counted under: those a worker still has to do with (queued,
/// being sent, sent with an unknown outcome and to be tried again) count as queued.
fn counted_status(status: DeliveryStatus) -> DeliveryStatus {
    if status.is_pending() { DeliveryStatus::Queued } else { status }
}

/// The differences for `n` deliveries of a message on a channel moving from one status to
/// another (none when both count under the same status).
pub fn delivery_moved(
    message: MessageId,
    channel: Channel,
    from: DeliveryStatus,
    to: DeliveryStatus,
    n: i64,
) -> Vec<(MessageId, Key, Counts)> {
    let (from, to) = (counted_status(from), counted_status(to));
    if from == to {
        return Vec::new();
    }
    let deliveries = |n| Counts { deliveries: n, ..Counts::default() };
    vec![
        (message, Key::Delivery { channel, status: from }, deliveries(-n)),
        (message, Key::Delivery { channel, status: to }, deliveries(n)),
    ]
}

/// Records that `member` reached `step` on their copy of `message` at `at`, if it is the
/// first time, and counts it. The `is null` condition takes the row's lock, so two
/// requests at once (a scanner following every link) count once. Returns whether it was
/// the first time; a member without a copy has no step to reach.
pub async fn reach(tx: &mut Tx, message: MessageId, member: MemberId, step: Step, at: Timestamp) -> Result<bool> {
    let column = step.column();
    let sql = format!(
        "update recipients set {column} = $3 where message_id = $1 and member_id = $2 and {column} is null \
         returning partner_id, roles"
    );
    let row: Option<(Option<Uuid>, i64)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .bind(at.as_millis())
        .fetch_optional(c)
        .await)?;
    let Some((partner, roles)) = row else { return Ok(false) };
    let mut one = step.one();
    if step == Step::Acknowledged {
        one.last_acknowledged_at = Some(at.as_millis());
    }
    let mut deltas = vec![
        (message, Key::Partner(partner.map(PartnerId::from_uuid)), one),
        (message, Key::Roles(Roles::from_bits(roles)), one),
    ];
    if step.charted() {
        deltas.push((message, Key::Period(hour_of(at)), step.one()));
    }
    if matches!(step, Step::Read | Step::Acknowledged) {
        // The release wrote them with the copy, so every one is here before any read.
        let channels: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(
            "select channel from deliveries where message_id = $1 and member_id = $2 and purpose = 'initial'"
        )
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .fetch_all(c)
        .await)?;
        for (channel,) in channels {
            deltas.push((message, Key::Channel(channel.parse().map_err(Error::corrupt)?), step.one()));
        }
    }
    add(tx, &deltas).await?;
    Ok(true)
}

/// A member's copy of a message, as `reach_many` found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub member: MemberId,
    /// The partner and roles the copy was counted for at release.
    pub partner: Option<PartnerId>,
    pub roles: Roles,
    /// This was the first time the member reached the step.
    pub first: bool,
}

/// `reach` for many members at once, all at `at` (a group commit's moment): one read of
/// their copies (locked on PostgreSQL, as the single `is null` update locks one), one
/// update of those reaching the step for the first time, and their differences summed
/// by key. Returns every copy found, members without one left out.
pub async fn reach_many(
    tx: &mut Tx,
    message: MessageId,
    members: &[MemberId],
    step: Step,
    at: Timestamp,
) -> Result<Vec<Reached>> {
    let column = step.column();
    let d = tx.dialect();
    let lock = if d == Dialect::Postgres { " for update" } else { "" };
    let mut copies = Vec::with_capacity(members.len());
    for chunk in members.chunks(500) {
        // Numbered and anonymous parameters do not mix on SQLite: bound in text order.
        let (first, ids) = (crate::sql::placeholders(d, 1, 1), crate::sql::placeholders(d, 2, chunk.len()));
        let sql = format!(
            "select member_id, partner_id, roles, {column} is null from recipients \
             where message_id = {first} and member_id in ({ids}) order by member_id{lock}"
        );
        let rows: Vec<(Uuid, Option<Uuid>, i64, bool)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid());
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        copies.extend(rows.into_iter().map(|(member, partner, roles, first)| Reached {
            member: MemberId::from_uuid(member),
            partner: partner.map(PartnerId::from_uuid),
            roles: Roles::from_bits(roles),
            first,
        }));
    }
    let firsts: Vec<MemberId> = copies.iter().filter(|c| c.first).map(|c| c.member).collect();
    for chunk in firsts.chunks(500) {
        let [value, first] = [1, 2].map(|i| crate::sql::placeholders(d, i, 1));
        let ids = crate::sql::placeholders(d, 3, chunk.len());
        let sql =
            format!("update recipients set {column} = {value} where message_id = {first} and member_id in ({ids})");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(at.as_millis()).bind(message.as_uuid());
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    let mut one = step.one();
    if step == Step::Acknowledged {
        one.last_acknowledged_at = Some(at.as_millis());
    }
    let mut sums: HashMap<Key, Counts> = HashMap::new();
    for copy in copies.iter().filter(|c| c.first) {
        *sums.entry(Key::Partner(copy.partner)).or_default() += one;
        *sums.entry(Key::Roles(copy.roles)).or_default() += one;
        if step.charted() {
            *sums.entry(Key::Period(hour_of(at))).or_default() += step.one();
        }
    }
    if matches!(step, Step::Read | Step::Acknowledged) {
        for chunk in firsts.chunks(500) {
            let (first, ids) = (crate::sql::placeholders(d, 1, 1), crate::sql::placeholders(d, 2, chunk.len()));
            let sql = format!(
                "select channel from deliveries where message_id = {first} and member_id in ({ids}) \
                 and purpose = 'initial'"
            );
            let channels: Vec<(String,)> = on_tx!(tx, |c| {
                let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid());
                for m in chunk {
                    q = q.bind(m.as_uuid());
                }
                q.fetch_all(c).await
            })?;
            for (channel,) in channels {
                *sums.entry(Key::Channel(channel.parse().map_err(Error::corrupt)?)).or_default() += step.one();
            }
        }
    }
    let deltas: Vec<(MessageId, Key, Counts)> = sums.into_iter().map(|(key, n)| (message, key, n)).collect();
    add(tx, &deltas).await?;
    Ok(copies)
}

/// Counts the copies of each partner's members, once a release's fan-out is done: one
/// grouped read of the message's copies in key order. Counted batch by batch, a
/// million members in random id order touched most partners in every batch: 630,000
/// rows, and a release 28% slower on PostgreSQL.
pub async fn count_partners(tx: &mut Tx, message: MessageId) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into message_rollup_deltas (message_id, partner_id, roles, hour, channel, status, recipients) \
         select message_id, coalesce(partner_id, $2), -1, -1, '', '', count(*) from recipients \
         where message_id = $1 group by message_id, coalesce(partner_id, $2)"
    )
    .bind(message.as_uuid())
    .bind(Uuid::nil())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Appends differences to the counts.
pub async fn add(tx: &mut Tx, deltas: &[(MessageId, Key, Counts)]) -> Result<()> {
    const COLUMNS: usize = 7 + COUNT_COLUMNS.len();
    let d = tx.dialect();
    // Well under the 32,766 parameters SQLite allows in a statement.
    for chunk in deltas.chunks(1000) {
        let rows = crate::sql::value_rows(d, chunk.len(), COLUMNS);
        let sql = format!(
            "insert into message_rollup_deltas (message_id, {KEY_COLUMNS}, {}) values {rows}",
            value_columns(),
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (message, key, n) in chunk {
                let row = KeyRow::from(*key);
                q = q
                    .bind(message.as_uuid())
                    .bind(row.partner_id)
                    .bind(row.roles)
                    .bind(row.hour)
                    .bind(row.channel)
                    .bind(row.status)
                    .bind(n.recipients)
                    .bind(n.opened)
                    .bind(n.clicked)
                    .bind(n.read)
                    .bind(n.acknowledged)
                    .bind(n.machine_opened)
                    .bind(n.scanner_clicked)
                    .bind(n.unsubscribed)
                    .bind(n.deliveries)
                    .bind(n.last_acknowledged_at);
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A key as its row spells it: the kinds of row are told apart by which columns are set
/// (a channel and a status: delivery; a channel alone: channel; an hour: period; roles:
/// roles; none of them: partner).
struct KeyRow {
    partner_id: Uuid,
    roles: i64,
    hour: i64,
    channel: &'static str,
    status: &'static str,
}

impl From<Key> for KeyRow {
    fn from(key: Key) -> Self {
        let none = Self { partner_id: Uuid::nil(), roles: -1, hour: -1, channel: "", status: "" };
        match key {
            Key::Partner(partner_id) => Self { partner_id: partner_id.map_or(Uuid::nil(), |p| p.as_uuid()), ..none },
            Key::Roles(roles) => Self { roles: roles.bits(), ..none },
            Key::Period(hour) => Self { hour, ..none },
            Key::Delivery { channel, status } => Self { channel: channel.as_str(), status: status.as_str(), ..none },
            Key::Channel(channel) => Self { channel: channel.as_str(), ..none },
        }
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    partner_id: Uuid,
    roles: i64,
    hour: i64,
    channel: String,
    status: String,
    #[sqlx(flatten)]
    counts: Counts,
}

impl Row {
    fn key(&self) -> Result<Key> {
        Ok(if !self.channel.is_empty() && self.status.is_empty() {
            Key::Channel(self.channel.parse().map_err(Error::corrupt)?)
        } else if !self.channel.is_empty() {
            Key::Delivery {
                channel: self.channel.parse().map_err(Error::corrupt)?,
                status: self.status.parse().map_err(Error::corrupt)?,
            }
        } else if self.hour >= 0 {
            Key::Period(self.hour)
        } else if self.roles >= 0 {
            Key::Roles(Roles::from_bits(self.roles))
        } else {
            Key::Partner((!self.partner_id.is_nil()).then(|| PartnerId::from_uuid(self.partner_id)))
        })
    }
}

/// Every value column: the counts and the latest acknowledgment.
fn value_columns() -> String {
    format!("{}, last_acknowledged_at", COUNT_COLUMNS.join(", "))
}

/// The value columns aggregated, each under its own name: counts summed, the latest
/// acknowledgment the maximum.
fn aggregates() -> String {
    let sums: String = COUNT_COLUMNS.iter().map(|c| format!("cast(sum({c}) as bigint) as {c}, ")).collect();
    format!("{sums}max(last_acknowledged_at) as last_acknowledged_at")
}

/// The value columns aggregated over `rows` (a subquery).
fn summed(rows: &str) -> String {
    format!("{} from ({rows}) t", aggregates())
}

/// The rows of a message in both tables, as a subquery: the folded and those not yet.
fn both_tables(columns: &str, condition: &str) -> String {
    let values = value_columns();
    format!(
        "select {columns}, {values} from message_rollups where {condition} \
         union all select {columns}, {values} from message_rollup_deltas where {condition}"
    )
}

/// Every count of a message, folded or not: one entry per key.
pub async fn of_message(tx: &mut Tx, message: MessageId) -> Result<HashMap<Key, Counts>> {
    let rows = both_tables(KEY_COLUMNS, "message_id = $1");
    let sql = format!("select {KEY_COLUMNS}, {} group by {KEY_COLUMNS}", summed(&rows));
    let rows: Vec<Row> = if tx.dialect() == Dialect::Sqlite {
        let columns = format!("hex(partner_id), roles, hour, channel, status, {}", value_columns());
        let raw: Vec<JsonRow> = crate::sql::sqlite_json_rows(tx, &columns, &sql, message.as_uuid()).await?;
        raw.into_iter().map(Row::try_from).collect::<Result<_>>()?
    } else {
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?
    };
    rows.iter().map(|r| Ok((r.key()?, r.counts))).collect()
}

/// A `Row` as `sqlite_json_rows` reads it: the key, the nine counts, the latest acknowledgment.
type JsonRow = (String, i64, i64, String, String, i64, i64, i64, i64, i64, i64, i64, i64, i64, Option<i64>);

impl TryFrom<JsonRow> for Row {
    type Error = Error;

    fn try_from(row: JsonRow) -> Result<Self> {
        let (partner, roles, hour, channel, status, recipients, opened, clicked, read, acknowledged) =
            (row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9);
        let (machine_opened, scanner_clicked, unsubscribed, deliveries, last) =
            (row.10, row.11, row.12, row.13, row.14);
        Ok(Self {
            partner_id: crate::sql::hex_id(&partner)?,
            roles,
            hour,
            channel,
            status,
            counts: Counts {
                recipients,
                opened,
                clicked,
                read,
                acknowledged,
                machine_opened,
                scanner_clicked,
                unsubscribed,
                deliveries,
                last_acknowledged_at: last,
            },
        })
    }
}

/// What a report labels a partner's row with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerLabel {
    pub name: String,
    pub partner_type: String,
    pub tier: String,
    pub region: Option<String>,
}

/// The labels of the partners in a message's counts, in one read (a partner deleted since
/// has none).
pub async fn partner_labels(tx: &mut Tx, message: MessageId) -> Result<HashMap<PartnerId, PartnerLabel>> {
    let partner_rows = "message_id = $1 and roles = -1 and hour = -1 and channel = ''";
    let sql = format!(
        "select p.id, p.name, p.partner_type, p.tier, p.region from partners p where p.id in ( \
         select partner_id from message_rollups where {partner_rows} \
         union select partner_id from message_rollup_deltas where {partner_rows})"
    );
    let rows: Vec<(Uuid, String, String, String, Option<String>)> = if tx.dialect() == Dialect::Sqlite {
        let columns = "hex(id), name, partner_type, tier, region";
        let raw: Vec<(String, String, String, String, Option<String>)> =
            crate::sql::sqlite_json_rows(tx, columns, &sql, message.as_uuid()).await?;
        raw.into_iter()
            .map(|(id, n, t, tier, r)| Ok((crate::sql::hex_id(&id)?, n, t, tier, r)))
            .collect::<Result<_>>()?
    } else {
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?
    };
    Ok(rows
        .into_iter()
        .map(|(id, name, partner_type, tier, region)| {
            (PartnerId::from_uuid(id), PartnerLabel { name, partner_type, tier, region })
        })
        .collect())
}

/// The people's counts of several messages, each summed over its roles rows (each copy
/// is in exactly one), for a list page.
pub async fn totals(tx: &mut Tx, messages: &[MessageId]) -> Result<HashMap<MessageId, Counts>> {
    if messages.is_empty() {
        return Ok(HashMap::new());
    }
    // Numbered on both engines: SQLite gives a repeated `$n` the same value.
    let ids = (1..=messages.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let rows =
        both_tables("message_id", &format!("message_id in ({ids}) and roles >= 0 and hour = -1 and channel = ''"));
    let sql = format!("select message_id, {} group by message_id", summed(&rows));
    #[derive(sqlx::FromRow)]
    struct Total {
        message_id: Uuid,
        #[sqlx(flatten)]
        counts: Counts,
    }
    let rows: Vec<Total> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql));
        for m in messages {
            q = q.bind(m.as_uuid());
        }
        q.fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|t| (MessageId::from_uuid(t.message_id), t.counts)).collect())
}

/// Sums up to `limit` of the differences appended so far (the oldest) into the counts;
/// returns how many it folded. A caller folds in several transactions so that a large
/// release's differences do not hold SQLite's one writer for long. PostgreSQL deletes and
/// sums in one statement, so a difference committed meanwhile waits for the next fold;
/// SQLite's single writer lets nothing in between two.
pub async fn fold(tx: &mut Tx, limit: u32) -> Result<u64> {
    let (columns, aggregates) = (value_columns(), aggregates());
    let mut add: Vec<String> =
        COUNT_COLUMNS.iter().map(|c| format!("{c} = message_rollups.{c} + excluded.{c}")).collect();
    // The later of two times, either of which may be missing: PostgreSQL's `greatest`
    // skips nulls, SQLite's two-argument `max` returns null if either is.
    add.push(match tx.dialect() {
        Dialect::Postgres => "last_acknowledged_at = greatest(message_rollups.last_acknowledged_at, \
            excluded.last_acknowledged_at)"
            .to_owned(),
        Dialect::Sqlite => "last_acknowledged_at = max(coalesce(message_rollups.last_acknowledged_at, \
            excluded.last_acknowledged_at), coalesce(excluded.last_acknowledged_at, \
            message_rollups.last_acknowledged_at))"
            .to_owned(),
    });
    let upsert = format!("on conflict (message_id, {KEY_COLUMNS}) do update set {}", add.join(", "));
    let limit = limit.max(1);
    match tx.dialect() {
        Dialect::Postgres => {
            let sql = format!(
                "with d as (delete from message_rollup_deltas where ctid = any(array(\
                 select ctid from message_rollup_deltas limit {limit})) returning *), \
                 folded as (insert into message_rollups (message_id, {KEY_COLUMNS}, {columns}) \
                 select message_id, {KEY_COLUMNS}, {aggregates} from d group by message_id, {KEY_COLUMNS} \
                 order by message_id, {KEY_COLUMNS} {upsert}) \
                 select count(*) from d"
            );
            let n: i64 = on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(sql)).fetch_one(c).await)?;
            Ok(n.unsigned_abs())
        }
        Dialect::Sqlite => {
            let last: Option<i64> = on_tx!(tx, |c| sqlx::query_scalar(AssertSqlSafe(format!(
                "select max(rowid) from (select rowid from message_rollup_deltas order by rowid limit {limit})"
            )))
            .fetch_one(c)
            .await)?;
            let Some(last) = last else { return Ok(0) };
            let sql = format!(
                "insert into message_rollups (message_id, {KEY_COLUMNS}, {columns}) \
                 select message_id, {KEY_COLUMNS}, {aggregates} from message_rollup_deltas where rowid <= $1 \
                 group by message_id, {KEY_COLUMNS} {upsert}"
            );
            on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql)).bind(last).execute(c).await.map(|_| ()))?;
            Ok(on_tx!(tx, |c| sqlx::query("delete from message_rollup_deltas where rowid <= $1")
                .bind(last)
                .execute(c)
                .await
                .map(|r| r.rows_affected()))?)
        }
    }
}

/// Builds a message's counts again from its copies and deliveries (after a backup is
/// restored or rows are written by hand); the same statements as the migration that
/// brought the counts in.
pub async fn recount(tx: &mut Tx, message: MessageId) -> Result<()> {
    let m = message.as_uuid();
    for table in ["message_rollups", "message_rollup_deltas"] {
        let sql = format!("delete from {table} where message_id = $1");
        on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql)).bind(m).execute(c).await.map(|_| ()))?;
    }
    let people = "recipients, opened, clicked, read, acknowledged, machine_opened, scanner_clicked, unsubscribed, \
        last_acknowledged_at";
    let counted = "count(*), count(opened_at), count(clicked_at), count(read_at), count(acknowledged_at), \
         count(machine_opened_at), count(scanner_clicked_at), count(unsubscribed_at), max(acknowledged_at)";
    let statements = [
        format!(
            "insert into message_rollups (message_id, {KEY_COLUMNS}, {people}) \
             select $1, coalesce(partner_id, $2), -1, -1, '', '', {counted} \
             from recipients where message_id = $1 group by coalesce(partner_id, $2)"
        ),
        format!(
            "insert into message_rollups (message_id, {KEY_COLUMNS}, {people}) \
             select $1, $2, roles, -1, '', '', {counted} from recipients where message_id = $1 group by roles"
        ),
        format!(
            "insert into message_rollups (message_id, {KEY_COLUMNS}, opened, clicked, read, acknowledged) \
             select $1, $2, -1, hour, '', '', sum(opened), sum(clicked), sum(read), sum(acknowledged) from ( \
             select opened_at / {HOUR_MS} as hour, 1 as opened, 0 as clicked, 0 as read, 0 as acknowledged \
             from recipients where message_id = $1 and opened_at is not null \
             union all select clicked_at / {HOUR_MS}, 0, 1, 0, 0 from recipients where message_id = $1 and clicked_at is not null \
             union all select read_at / {HOUR_MS}, 0, 0, 1, 0 from recipients where message_id = $1 and read_at is not null \
             union all select acknowledged_at / {HOUR_MS}, 0, 0, 0, 1 from recipients \
             where message_id = $1 and acknowledged_at is not null) steps group by hour"
        ),
        format!(
            "insert into message_rollups (message_id, {KEY_COLUMNS}, deliveries) \
             select $1, $2, -1, -1, channel, status, count(*) from (select channel, \
             case when status in ('queued', 'sending', 'unknown') then 'queued' else status end as status \
             from deliveries where message_id = $1) d group by channel, status"
        ),
        format!(
            "insert into message_rollups (message_id, {KEY_COLUMNS}, recipients, read, acknowledged) \
             select $1, $2, -1, -1, d.channel, '', count(*), count(r.read_at), count(r.acknowledged_at) \
             from deliveries d join recipients r on r.message_id = d.message_id and r.member_id = d.member_id \
             where d.message_id = $1 and d.purpose = 'initial' group by d.channel"
        ),
    ];
    for sql in statements {
        on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql)).bind(m).bind(Uuid::nil()).execute(c).await.map(|_| ()))?;
    }
    Ok(())
}
