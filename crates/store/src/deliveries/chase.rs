//! An escalation ladder's step in SQL: reminders to the members who still owe an
//! acknowledgment, and notices to their partner's lead, queued with one `INSERT ...
//! SELECT` each, and the queued ones withdrawn the moment they are no longer needed (the
//! member acknowledged, the partner met its obligation).
//!
//! A member owes while their copy is unacknowledged, their partner has an obligation
//! quota left that the member's roles count toward (for a role the partner named someone
//! to answer for: that someone only), and no partner manager exempted or snoozed the
//! partner. Each reminder goes on the member's next open channel: the n-th
//! reminder on the n-th of the ladder's channels the member may be reached on, round again
//! when they run out; a member with none open is left out (the lead's notice says so).

use sqlx::AssertSqlSafe;
use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::{MessageId, PartnerId, Role, Roles, Slug, Timestamp};

use super::fan_out::{channel_condition, topic_channel_condition};
use crate::db::on_tx;
use crate::reports::{self, Counts, Key};
use crate::sql::{Filter, Value, bind_as, bind_query};
use crate::{Error, Result, Tx};

/// One step's sends.
#[derive(Debug, Clone, Copy)]
pub struct Chase<'a> {
    pub message_id: MessageId,
    pub topic_key: &'a Slug,
    pub purpose: Purpose,
    /// Which open channel the member's send lands on (the n-th reminder: n).
    pub turn: u16,
    /// The channels, in the order reminders go through them.
    pub channels: &'a [Channel],
    /// When members of each time zone and working hours may be chased (their next
    /// working-hours slot); anyone else at `due_at`.
    pub slots: &'a [Slot],
    pub due_at: Timestamp,
    pub now: Timestamp,
    /// Only this partner's people (a partner manager's "escalate now").
    pub partner: Option<PartnerId>,
}

/// When the members of one time zone and working hours may next be chased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub time_zone: String,
    /// The member's own, else their partner's, as stored; `None`: the instance's.
    pub working_hours: Option<String>,
    pub at: Timestamp,
}

/// A member's working hours: their own, else their partner's.
const MEMBER_HOURS: &str =
    "coalesce(m.working_hours, (select p.working_hours from partners p where p.id = m.partner_id))";

/// `m` answers for the quota `op`: it asks anyone, or it asks for a role of theirs that
/// nobody else active at the partner was nominated to answer for.
const ANSWERS_FOR_QUOTA: &str = "(op.role_mask = 0 or ((m.roles & op.role_mask) <> 0 \
    and not exists (select 1 from role_nominees n join members nm on nm.id = n.member_id \
    where n.partner_id = m.partner_id and n.role = op.role_mask and n.member_id <> m.id \
    and nm.status <> 'disabled')))";

/// When a send to member `m` is due: their slot among `slots` (by time zone, and by
/// working hours when any slot names some), else `default` (a bound parameter).
pub(super) fn due_expression(f: &mut Filter, slots: &[Slot], default: &str) -> String {
    // Only when someone has hours of their own is the slot looked up by zone and hours.
    let own_hours = slots.iter().any(|s| s.working_hours.is_some());
    let mut due = String::new();
    for slot in slots {
        let key = match (&slot.working_hours, own_hours) {
            (_, false) => slot.time_zone.clone(),
            (hours, true) => format!("{}|{}", slot.time_zone, hours.as_deref().unwrap_or_default()),
        };
        let key = f.bind(Value::Text(key));
        let at = f.bind(Value::Int(slot.at.as_millis()));
        due.push_str(&format!(" when {key} then {at}"));
    }
    if due.is_empty() {
        return default.to_owned();
    }
    let subject = if own_hours {
        format!("m.time_zone || '|' || coalesce({MEMBER_HOURS}, '')")
    } else {
        "m.time_zone".to_owned()
    };
    format!("case {subject}{due} else {default} end")
}

/// The partner of `m` still owes (a quota unmet, not exempt or snoozed); with
/// `counted_by_member`, a quota the member's roles count toward.
fn owing(f: &mut Filter, message: &str, now: Timestamp, counted_by_member: bool) -> String {
    let now = f.bind(Value::Int(now.as_millis()));
    let scope = if counted_by_member { format!(" and {ANSWERS_FOR_QUOTA}") } else { String::new() };
    // The waiver is looked up per quota row (a few per partner), not per member.
    format!(
        "exists (select 1 from obligation_progress op where op.message_id = {message} \
         and op.partner_id = m.partner_id and op.in_scope > 0 and op.met_at is null \
         and not exists (select 1 from obligation_waivers w where w.message_id = op.message_id \
         and w.partner_id = op.partner_id and (w.kind = 'exempt' or w.until > {now})){scope})"
    )
}

/// Queues the step's reminder to each member who still owes; returns how many.
pub async fn remind_members(tx: &mut Tx, c: &Chase<'_>) -> Result<u64> {
    let mut f = Filter::default();
    let message = f.bind(Value::Uuid(c.message_id.as_uuid()));
    let owing = owing(&mut f, &message, c.now, true);
    let source = format!(
        "from recipients r join members m on m.id = r.member_id \
         left join member_preferences mp on mp.member_id = m.id \
         where r.message_id = {message} and r.acknowledged_at is null and m.status <> 'disabled' and {owing}"
    );
    queue(tx, c, f, &message, &source, true).await
}

/// Queues the step's notice to the lead of each partner that still owes; returns how many.
pub async fn notify_leads(tx: &mut Tx, c: &Chase<'_>) -> Result<u64> {
    let mut f = Filter::default();
    let message = f.bind(Value::Uuid(c.message_id.as_uuid()));
    let owing = owing(&mut f, &message, c.now, false);
    let lead = std::iter::once(Role::PartnerLead).collect::<Roles>().bits();
    let source = format!(
        "from members m left join member_preferences mp on mp.member_id = m.id \
         where (m.roles & {lead}) <> 0 and m.status <> 'disabled' and {owing}"
    );
    queue(tx, c, f, &message, &source, false).await
}

/// The one `INSERT ... SELECT` of a step: the members of `source` (over `members m` and
/// `member_preferences mp`), each on the channel of their turn, due at their zone's slot.
async fn queue(tx: &mut Tx, c: &Chase<'_>, mut f: Filter, message: &str, source: &str, topic: bool) -> Result<u64> {
    if c.channels.is_empty() {
        return Ok(0);
    }
    let mut flags = Vec::with_capacity(c.channels.len());
    for (i, channel) in c.channels.iter().enumerate() {
        let Some(own) = channel_condition(tx.dialect(), *channel) else { continue };
        let cond = if topic {
            format!("{own} and {}", topic_channel_condition(tx.dialect(), c.topic_key, *channel, &mut f))
        } else {
            own
        };
        flags.push((format!("o{i}"), *channel, cond));
    }
    let partner = match c.partner {
        Some(p) => format!(" and m.partner_id = {}", f.bind(Value::Uuid(p.as_uuid()))),
        None => String::new(),
    };
    let default = f.bind(Value::Int(c.due_at.as_millis()));
    let due = due_expression(&mut f, c.slots, &default);
    let columns: String =
        flags.iter().map(|(o, _, cond)| format!(", case when {cond} then 1 else 0 end as {o}")).collect();
    let open: Vec<&str> = flags.iter().map(|(o, _, _)| o.as_str()).collect();
    let sum = open.join(" + ");
    let turn = i64::from(c.turn.max(1)) - 1;
    let mut choice = String::from("case");
    for (i, (o, channel, _)) in flags.iter().enumerate() {
        let before = if i == 0 { "0".to_owned() } else { open[..i].join(" + ") };
        choice.push_str(&format!(" when {o} = 1 and t = {before} then '{}'", channel.as_str()));
    }
    choice.push_str(" end");
    let purpose = f.bind(Value::Text(c.purpose.to_string()));
    let now = f.bind(Value::Int(c.now.as_millis()));
    // The fence keeps each channel's condition (with its lookups) evaluated once a row:
    // unfenced, both engines copy it into every expression that names its flag.
    let fence = match tx.dialect() {
        crate::Dialect::Sqlite => " limit -1 offset 0",
        crate::Dialect::Postgres => " offset 0",
    };
    // A reminder's purpose is written only by its own step, in the transaction that moves
    // the ladder on, so none of its rows can exist yet; an escalation may (a partner
    // escalated early has its lead's row of that step).
    let conflict = if matches!(c.purpose, Purpose::Reminder(_)) { "" } else { " on conflict do nothing" };
    let sql = format!(
        "insert into deliveries (message_id, member_id, channel, purpose, status, attempts, due_at, updated_at) \
         select {message}, id, ch, {purpose}, 'queued', 0, due, {now} from ( \
         select id, due, {choice} as ch from ( \
         select x.*, {turn} % ({sum}) as t from ( \
         select m.id, {due} as due{columns} {source}{partner}{fence}) x where {sum} > 0) y) z \
         where ch is not null{conflict}"
    );
    let queued = on_tx!(tx, |conn| bind_query(sqlx::query(AssertSqlSafe(sql)), &f.values)
        .execute(conn)
        .await
        .map(|r| r.rows_affected()))?;
    if queued > 0 {
        count_queued(tx, c).await?;
    }
    Ok(queued)
}

/// The report's counts of the step's deliveries, by channel.
async fn count_queued(tx: &mut Tx, c: &Chase<'_>) -> Result<()> {
    let mut f = Filter::default();
    let message = f.bind(Value::Uuid(c.message_id.as_uuid()));
    let purpose = f.bind(Value::Text(c.purpose.to_string()));
    let now = f.bind(Value::Int(c.now.as_millis()));
    // Only the rows this run wrote: a partner escalated early has rows of the purpose already.
    let sql = format!(
        "select channel, count(*) from deliveries where message_id = {message} and purpose = {purpose} \
         and status = 'queued' and attempts = 0 and updated_at = {now} group by channel"
    );
    let rows: Vec<(String, i64)> =
        on_tx!(tx, |conn| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(conn).await)?;
    let mut deltas = Vec::with_capacity(rows.len());
    for (channel, n) in rows {
        let channel = channel.parse::<Channel>().map_err(Error::corrupt)?;
        let key = Key::Delivery { channel, status: DeliveryStatus::Queued };
        deltas.push((c.message_id, key, Counts { deliveries: n, ..Counts::default() }));
    }
    reports::add(tx, &deltas).await
}

/// Withdraws the queued reminders of `message` to these members, who acknowledged it.
pub async fn withdraw_for_members(
    tx: &mut Tx,
    message: MessageId,
    members: &[tidings_core::MemberId],
    now: Timestamp,
) -> Result<()> {
    let d = tx.dialect();
    for chunk in members.chunks(500) {
        // Numbered and anonymous parameters do not mix on SQLite: bound in text order.
        let [at, first] = [1, 2].map(|i| crate::sql::placeholders(d, i, 1));
        let ids = crate::sql::placeholders(d, 3, chunk.len());
        let sql = format!(
            "update deliveries set status = 'suppressed', due_at = null, updated_at = {at}, \
             error = 'acknowledged before the reminder was sent' \
             where message_id = {first} and member_id in ({ids}) and purpose like 'reminder-%' \
             and status = 'queued' returning channel"
        );
        let channels: Vec<(String,)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(now.as_millis()).bind(message.as_uuid());
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        count_withdrawn(tx, message, channels).await?;
    }
    Ok(())
}

/// Withdraws every queued reminder and escalation of `message` to the partner's people,
/// saying `why` (the partner met its obligation, or was exempted or snoozed).
pub async fn withdraw_for_partner(
    tx: &mut Tx,
    message: MessageId,
    partner: PartnerId,
    now: Timestamp,
    why: &str,
) -> Result<()> {
    let sql = "update deliveries set status = 'suppressed', due_at = null, updated_at = $3, error = $4 \
               where message_id = $1 and member_id in (select id from members where partner_id = $2) \
               and (purpose like 'reminder-%' or purpose like 'escalation-%') and status = 'queued' \
               returning channel";
    let channels: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(sql)
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .bind(now.as_millis())
        .bind(why)
        .fetch_all(c)
        .await)?;
    count_withdrawn(tx, message, channels).await
}

async fn count_withdrawn(tx: &mut Tx, message: MessageId, channels: Vec<(String,)>) -> Result<()> {
    let mut deltas = Vec::new();
    for (channel,) in channels {
        let channel = channel.parse::<Channel>().map_err(Error::corrupt)?;
        deltas.extend(reports::delivery_moved(message, channel, DeliveryStatus::Queued, DeliveryStatus::Suppressed, 1));
    }
    reports::add(tx, &deltas).await
}

/// Every time zone members are in, each with every working hours that may apply there
/// (members' own, partners', none), so that each pair's next slot is worked out once. More
/// pairs than members have is harmless (a slot nobody matches); reading the directory
/// this way is two plain scans, whatever the message.
pub async fn time_zones(tx: &mut Tx) -> Result<Vec<(String, Option<String>)>> {
    let own: Vec<(String, Option<String>)> =
        on_tx!(tx, |c| sqlx::query_as("select distinct time_zone, working_hours from members").fetch_all(c).await)?;
    let partners: Vec<(String,)> =
        on_tx!(tx, |c| sqlx::query_as("select distinct working_hours from partners where working_hours is not null")
            .fetch_all(c)
            .await)?;
    let mut pairs: std::collections::BTreeSet<(String, Option<String>)> = own.iter().cloned().collect();
    for (zone, _) in &own {
        pairs.insert((zone.clone(), None));
        for (hours,) in &partners {
            pairs.insert((zone.clone(), Some(hours.clone())));
        }
    }
    Ok(pairs.into_iter().collect())
}

/// A colleague a lead's notice names: who still owes, and what their reminders came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outstanding {
    pub member_id: tidings_core::MemberId,
    /// Their name, else their email address.
    pub name: String,
    pub roles: Roles,
    /// Their latest reminder of the message: its channel, status and why it failed, if
    /// it did. `None`: never reminded (no channel open to them, or no reminder yet).
    pub last_reminder: Option<(Channel, DeliveryStatus, Option<String>)>,
}

/// The most colleagues one notice names.
const MOST_NAMED: i64 = 50;

/// The partner's people who still owe an acknowledgment of `message` (they answer for a
/// quota the partner has not met), by name, at most 50.
pub async fn outstanding(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Vec<Outstanding>> {
    let sql = format!(
        "select m.id, case when m.name = '' then m.email else m.name end, m.roles \
         from recipients r join members m on m.id = r.member_id \
         where r.message_id = $1 and r.partner_id = $2 and r.acknowledged_at is null and m.status <> 'disabled' \
         and exists (select 1 from obligation_progress op where op.message_id = $1 and op.partner_id = $2 \
         and op.in_scope > 0 and op.met_at is null and {ANSWERS_FOR_QUOTA}) \
         order by m.name, m.id limit {MOST_NAMED}"
    );
    let people: Vec<(uuid::Uuid, String, i64)> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .fetch_all(c)
        .await)?;
    if people.is_empty() {
        return Ok(Vec::new());
    }
    // Numbered and anonymous parameters do not mix on SQLite: both are `?` there.
    let first = crate::sql::placeholders(tx.dialect(), 1, 1);
    let ids = crate::sql::placeholders(tx.dialect(), 2, people.len());
    let sql = format!(
        "select member_id, channel, status, error from deliveries where message_id = {first} \
         and member_id in ({ids}) and purpose like 'reminder-%' order by updated_at"
    );
    let reminders: Vec<(uuid::Uuid, String, String, Option<String>)> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(message.as_uuid());
        for (id, _, _) in &people {
            q = q.bind(*id);
        }
        q.fetch_all(c).await
    })?;
    let mut last = std::collections::HashMap::new();
    for (member, channel, status, error) in reminders {
        let channel = channel.parse::<Channel>().map_err(Error::corrupt)?;
        let status = status.parse::<DeliveryStatus>().map_err(Error::corrupt)?;
        last.insert(member, (channel, status, error));
    }
    Ok(people
        .into_iter()
        .map(|(id, name, roles)| Outstanding {
            member_id: tidings_core::MemberId::from_uuid(id),
            name,
            roles: Roles::from_bits(roles),
            last_reminder: last.remove(&id),
        })
        .collect())
}

/// The highest escalation step the partner's people were sent for `message` (0: none).
pub async fn escalations_sent(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<u16> {
    let purposes: Vec<(String,)> = on_tx!(tx, |c| sqlx::query_as(
        "select distinct d.purpose from deliveries d join members m on m.id = d.member_id \
         where d.message_id = $1 and m.partner_id = $2 and d.purpose like 'escalation-%'"
    )
    .bind(message.as_uuid())
    .bind(partner.as_uuid())
    .fetch_all(c)
    .await)?;
    let mut most = 0;
    for (p,) in purposes {
        if let Purpose::Escalation(n) = p.parse::<Purpose>().map_err(Error::corrupt)? {
            most = most.max(n);
        }
    }
    Ok(most)
}

/// A reminder or escalation to one person: sent, waiting for their working hours, or
/// withdrawn (with why).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChaseSend {
    pub message_id: MessageId,
    pub member_id: tidings_core::MemberId,
    /// Their name, else their email address.
    pub name: String,
    pub purpose: Purpose,
    pub channel: Channel,
    pub status: DeliveryStatus,
    /// When it goes, while it waits.
    pub due_at: Option<Timestamp>,
    /// When its status last changed (when it was queued, sent, delivered, withdrawn...).
    pub updated_at: Timestamp,
    pub error: Option<String>,
}

type ChaseRow = (uuid::Uuid, uuid::Uuid, String, String, String, String, Option<i64>, i64, Option<String>);

fn chase_send(row: ChaseRow) -> Result<ChaseSend> {
    let (message, member, name, purpose, channel, status, due_at, updated_at, error) = row;
    Ok(ChaseSend {
        message_id: MessageId::from_uuid(message),
        member_id: tidings_core::MemberId::from_uuid(member),
        name,
        purpose: purpose.parse().map_err(Error::corrupt)?,
        channel: channel.parse().map_err(Error::corrupt)?,
        status: status.parse().map_err(Error::corrupt)?,
        due_at: due_at.map(Timestamp::from_millis),
        updated_at: Timestamp::from_millis(updated_at),
        error,
    })
}

const CHASE_COLUMNS: &str = "d.message_id, d.member_id, case when m.name = '' then m.email else m.name end, \
    d.purpose, d.channel, d.status, d.due_at, d.updated_at, d.error";
const CHASE_PURPOSES: &str =
    "(d.purpose like 'reminder-%' or d.purpose like 'escalation-%' or d.purpose like 'correction-%')";

/// The reminders and escalations of `message` to the partner's people, in the order they
/// were last moved, at most `limit` (read from the partner's members, so a message to a
/// million reads only this partner's rows).
pub async fn sends_to_partner(
    tx: &mut Tx,
    message: MessageId,
    partner: PartnerId,
    limit: i64,
) -> Result<Vec<ChaseSend>> {
    let sql = format!(
        "select {CHASE_COLUMNS} from members m join deliveries d on d.message_id = $1 and d.member_id = m.id \
         where m.partner_id = $2 and {CHASE_PURPOSES} order by d.updated_at, d.purpose, m.name limit $3"
    );
    let rows: Vec<ChaseRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .bind(limit)
        .fetch_all(c)
        .await)?;
    rows.into_iter().map(chase_send).collect()
}

/// The member's reminders and escalations of each of `messages`.
pub async fn sends_to_member(
    tx: &mut Tx,
    member: tidings_core::MemberId,
    messages: &[MessageId],
) -> Result<Vec<ChaseSend>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let first = crate::sql::placeholders(tx.dialect(), 1, 1);
    let ids = crate::sql::placeholders(tx.dialect(), 2, messages.len());
    let sql = format!(
        "select {CHASE_COLUMNS} from deliveries d join members m on m.id = d.member_id \
         where d.member_id = {first} and d.message_id in ({ids}) and {CHASE_PURPOSES} order by d.updated_at"
    );
    let rows: Vec<ChaseRow> = on_tx!(tx, |c| {
        let mut q = sqlx::query_as(AssertSqlSafe(sql)).bind(member.as_uuid());
        for m in messages {
            q = q.bind(m.as_uuid());
        }
        q.fetch_all(c).await
    })?;
    rows.into_iter().map(chase_send).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lead_bit_is_the_one_the_partner_leads_index_names() {
        // migrations/*/0035_partner_leads.sql indexes `(roles & 128) <> 0`; the lead step's
        // query writes the same literal, or the index is not used.
        assert_eq!(std::iter::once(Role::PartnerLead).collect::<Roles>().bits(), 128);
    }
}
