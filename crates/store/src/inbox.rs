//! A member's inbox: the recipient rows a release wrote, joined to their messages, newest
//! first; what the member viewed, read and acknowledged; and the acknowledgment evidence.
//! Every query here is scoped by member id: the caller decides whose inbox it is.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::AssertSqlSafe;
use tidings_core::attestation::Answers;
use tidings_core::messages::{Importance, Message};
use tidings_core::{MemberId, MessageId, PartnerId, Roles, Timestamp, TopicId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::partners::escape_like;
use crate::reports::{self, Step};
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit};
use crate::{Error, Result, Tx};

/// One member's copy of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recipient {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub released_at: Timestamp,
    pub viewed_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct RecipientRow {
    message_id: Uuid,
    member_id: Uuid,
    released_at: i64,
    viewed_at: Option<i64>,
    read_at: Option<i64>,
    acknowledged_at: Option<i64>,
}

impl From<RecipientRow> for Recipient {
    fn from(r: RecipientRow) -> Self {
        Self {
            message_id: MessageId::from_uuid(r.message_id),
            member_id: MemberId::from_uuid(r.member_id),
            released_at: Timestamp::from_millis(r.released_at),
            viewed_at: r.viewed_at.map(Timestamp::from_millis),
            read_at: r.read_at.map(Timestamp::from_millis),
            acknowledged_at: r.acknowledged_at.map(Timestamp::from_millis),
        }
    }
}

const RECIPIENT: &str =
    "select message_id, member_id, released_at, viewed_at, read_at, acknowledged_at from recipients";

/// The member's copy of the message; `NotFound` when the message never reached them.
pub async fn get(tx: &mut Tx, message: MessageId, member: MemberId) -> Result<Recipient> {
    let sql = format!("{RECIPIENT} where message_id = $1 and member_id = $2");
    let row: Option<RecipientRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .fetch_optional(c)
        .await)?;
    Ok(row.ok_or(Error::NotFound)?.into())
}

/// Sets the time of the first view; `true` when this is the first. (Reports do not count
/// views; the steps they count go through `reports::reach`.)
pub async fn mark_viewed(tx: &mut Tx, message: MessageId, member: MemberId, now: Timestamp) -> Result<bool> {
    let done = on_tx!(tx, |c| sqlx::query(
        "update recipients set viewed_at = $3 where message_id = $1 and member_id = $2 and viewed_at is null"
    )
    .bind(message.as_uuid())
    .bind(member.as_uuid())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done > 0)
}

pub async fn mark_read(tx: &mut Tx, message: MessageId, member: MemberId, now: Timestamp) -> Result<bool> {
    reports::reach(tx, message, member, Step::Read, now).await
}

/// Narrows an inbox; every field that is set must hold.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub topic_id: Option<TopicId>,
    pub importance: Option<Importance>,
    pub unread: bool,
    /// Messages asking for an acknowledgment the member has not given.
    pub needs_acknowledgment: bool,
    /// Words in the message's text (any locale), case-insensitive.
    pub q: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InboxItem {
    pub message: Message,
    pub recipient: Recipient,
}

/// The member's inbox, newest first. The cursor is opaque.
pub async fn list(
    tx: &mut Tx,
    member: MemberId,
    filter: &InboxFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<InboxItem>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    let n = f.bind(Value::Uuid(member.as_uuid()));
    f.push(format!("r.member_id = {n}"));
    if let Some(topic) = filter.topic_id {
        let n = f.bind(Value::Uuid(topic.as_uuid()));
        f.push(format!("msg.topic_id = {n}"));
    }
    if let Some(importance) = filter.importance {
        let n = f.bind(Value::Text(importance.as_str().to_owned()));
        f.push(format!("msg.importance = {n}"));
    }
    if filter.unread {
        f.push("r.read_at is null".into());
    }
    if filter.needs_acknowledgment {
        f.push("msg.acknowledgment is not null and r.acknowledged_at is null".into());
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let n = f.bind(Value::Text(format!("%{}%", escape_like(&q.to_lowercase()))));
        let text = match tx.dialect() {
            crate::Dialect::Sqlite => "msg.content",
            crate::Dialect::Postgres => "msg.content::text",
        };
        f.push(format!("lower({text}) like {n} escape '\\'"));
    }
    if let Some((at, id)) = after.and_then(parse_cursor) {
        let a = f.bind(Value::Int(at));
        let b = f.bind(Value::Uuid(id));
        f.push(format!("(r.released_at < {a} or (r.released_at = {a} and r.message_id < {b}))"));
    }
    let sql = format!(
        "select r.message_id, r.member_id, r.released_at, r.viewed_at, r.read_at, r.acknowledged_at \
         from recipients r join messages msg on msg.id = r.message_id {} \
         order by r.released_at desc, r.message_id desc limit {}",
        f.sql(),
        limit + 1
    );
    let rows: Vec<RecipientRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let recipients: Vec<Recipient> = rows.into_iter().map(Recipient::from).collect();
    let ids: Vec<MessageId> = recipients.iter().map(|r| r.message_id).collect();
    let mut messages = crate::messages::get_many(tx, &ids).await?;
    let items = recipients
        .into_iter()
        .filter_map(|recipient| messages.remove(&recipient.message_id).map(|message| InboxItem { message, recipient }))
        .collect();
    Ok(Page::from_rows(items, limit, |i| format!("{}_{}", i.recipient.released_at.as_millis(), i.message.id)))
}

fn parse_cursor(text: &str) -> Option<(i64, Uuid)> {
    let (at, id) = text.split_once('_')?;
    Some((at.parse().ok()?, Uuid::parse_str(id).ok()?))
}

/// The evidence of one acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AcknowledgmentRecord))]
pub struct Acknowledgment {
    pub message_id: MessageId,
    /// The message's version acknowledged: 1 as released, more after corrections.
    pub version: u32,
    pub member_id: MemberId,
    pub partner_id: PartnerId,
    /// The member's roles when they acknowledged.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub roles: Roles,
    /// The locale of the variant shown.
    pub locale: String,
    /// The statement the member confirmed.
    pub statement: String,
    /// SHA-256 of the exact rendered variant shown.
    pub content_hash: String,
    pub acknowledged_at: Timestamp,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The answers to the message's attestation form, when it has one.
    pub attestation: Option<Answers>,
}

#[derive(sqlx::FromRow)]
pub(crate) struct AckRow {
    message_id: Uuid,
    version: i64,
    member_id: Uuid,
    partner_id: Uuid,
    roles: i64,
    locale: String,
    statement: String,
    content_hash: String,
    acknowledged_at: i64,
    ip: Option<String>,
    user_agent: Option<String>,
    attestation: Option<String>,
}

impl From<AckRow> for Acknowledgment {
    fn from(r: AckRow) -> Self {
        Self {
            message_id: MessageId::from_uuid(r.message_id),
            version: u32::try_from(r.version).unwrap_or(u32::MAX),
            member_id: MemberId::from_uuid(r.member_id),
            partner_id: PartnerId::from_uuid(r.partner_id),
            roles: Roles::from_bits(r.roles),
            locale: r.locale,
            statement: r.statement,
            content_hash: r.content_hash,
            acknowledged_at: Timestamp::from_millis(r.acknowledged_at),
            ip: r.ip,
            user_agent: r.user_agent,
            // Written from checked answers: a row that does not read back is shown as none
            // (and the evidence audit names it).
            attestation: r.attestation.and_then(|a| serde_json::from_str(&a).ok()),
        }
    }
}

/// What recording an acknowledgment did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// False for a second acknowledgment, which changes nothing.
    pub new: bool,
    /// It met its partner's obligation on the message.
    pub partner_met: bool,
    /// The partner the copy was counted for at release.
    pub partner: Option<PartnerId>,
}

/// Records acknowledgments, each once: a second one changes nothing. Each recipient row
/// is marked acknowledged (and read), each partner's obligation moved, and the chase
/// stopped, in the caller's transaction, with a few statements for the whole group (a
/// group commit). Every record of a message is counted at its first record's time: the
/// group's one moment. `in_log`: each will have its leaf in the evidence log. The
/// answers are in the records' order.
pub async fn acknowledge_many(tx: &mut Tx, records: &[Acknowledgment], in_log: bool) -> Result<Vec<Recorded>> {
    let mut out = vec![Recorded { new: false, partner_met: false, partner: None }; records.len()];
    let mut messages: Vec<MessageId> = records.iter().map(|a| a.message_id).collect();
    messages.sort_unstable_by_key(|m| m.as_uuid());
    messages.dedup();
    for message in messages {
        let group: Vec<usize> = (0..records.len()).filter(|&i| records[i].message_id == message).collect();
        let at = records[group[0]].acknowledged_at;
        crate::obligations::lock_for_acknowledgment(tx, message).await?;
        let new = insert_acknowledgments(tx, group.iter().map(|&i| &records[i]), in_log).await?;
        let mut members: Vec<MemberId> = new.iter().copied().collect();
        members.sort_unstable_by_key(|m| m.as_uuid());
        // Acknowledging is reading too, for one who acknowledges from an email's link.
        let copies = reports::reach_many(tx, message, &members, Step::Acknowledged, at).await?;
        reports::reach_many(tx, message, &members, Step::Read, at).await?;
        // The obligation counts the copy's partner and roles, as at release.
        let counted: Vec<(PartnerId, Roles)> = copies.iter().filter_map(|c| Some((c.partner?, c.roles))).collect();
        let met = crate::obligations::acknowledged_many(tx, message, &counted, at).await?;
        // Chasing stops at once: the members' queued reminders, and once a partner has
        // met its obligation, every reminder and escalation to its people.
        crate::deliveries::chase::withdraw_for_members(tx, message, &members, at).await?;
        for partner in &met {
            let why = "the partner met its obligation before this was sent";
            crate::deliveries::chase::withdraw_for_partner(tx, message, *partner, at, why).await?;
        }
        let partner_of: HashMap<MemberId, Option<PartnerId>> = copies.iter().map(|c| (c.member, c.partner)).collect();
        let mut unreported: HashSet<PartnerId> = met.into_iter().collect();
        let mut unanswered = new;
        for i in group {
            if !unanswered.remove(&records[i].member_id) {
                continue;
            }
            let partner = partner_of.get(&records[i].member_id).copied().flatten();
            let partner_met = partner.is_some_and(|p| unreported.remove(&p));
            out[i] = Recorded { new: true, partner_met, partner };
        }
    }
    Ok(out)
}

/// Inserts the rows not there yet; returns the members whose row is new.
async fn insert_acknowledgments<'a>(
    tx: &mut Tx,
    records: impl Iterator<Item = &'a Acknowledgment>,
    in_log: bool,
) -> Result<HashSet<MemberId>> {
    const COLUMNS: usize = 13;
    let records: Vec<&Acknowledgment> = records.collect();
    let mut new = HashSet::new();
    for chunk in records.chunks(500) {
        let rows = crate::sql::value_rows(tx.dialect(), chunk.len(), COLUMNS);
        let sql = format!(
            "insert into acknowledgments (message_id, member_id, partner_id, roles, locale, statement, content_hash, \
             acknowledged_at, ip, user_agent, in_log, version, attestation) values {rows} \
             on conflict do nothing returning member_id"
        );
        let inserted: Vec<(Uuid,)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for a in chunk {
                q = q
                    .bind(a.message_id.as_uuid())
                    .bind(a.member_id.as_uuid())
                    .bind(a.partner_id.as_uuid())
                    .bind(a.roles.bits())
                    .bind(a.locale.clone())
                    .bind(a.statement.clone())
                    .bind(a.content_hash.clone())
                    .bind(a.acknowledged_at.as_millis())
                    .bind(a.ip.clone())
                    .bind(a.user_agent.clone())
                    .bind(i64::from(in_log))
                    .bind(i64::from(a.version))
                    .bind(a.attestation.as_ref().map(Answers::to_json));
            }
            q.fetch_all(c).await
        })?;
        new.extend(inserted.into_iter().map(|(m,)| MemberId::from_uuid(m)));
    }
    Ok(new)
}

/// The columns an `AckRow` reads, from `acknowledgments` or `superseded_acknowledgments`.
pub(crate) const ACK_COLUMNS: &str = "message_id, version, member_id, partner_id, roles, locale, statement, \
    content_hash, acknowledged_at, ip, user_agent, attestation";

pub async fn acknowledgment(tx: &mut Tx, message: MessageId, member: MemberId) -> Result<Option<Acknowledgment>> {
    let sql = format!("select {ACK_COLUMNS} from acknowledgments where message_id = $1 and member_id = $2");
    let row: Option<AckRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(member.as_uuid())
        .fetch_optional(c)
        .await)?;
    Ok(row.map(Acknowledgment::from))
}

/// How many messages these members received in all since `since` (the noise check).
pub async fn received_since(tx: &mut Tx, members: &[MemberId], since: Timestamp) -> Result<i64> {
    let mut total = 0;
    for chunk in members.chunks(500) {
        // Numbered and anonymous parameters do not mix on SQLite: both are `?` there.
        let sql = format!(
            "select count(*) from recipients where released_at >= {} and member_id in ({})",
            crate::sql::placeholders(tx.dialect(), 1, 1),
            crate::sql::placeholders(tx.dialect(), 2, chunk.len())
        );
        let n: i64 = on_tx!(tx, |c| {
            let mut q = sqlx::query_scalar(AssertSqlSafe(sql)).bind(since.as_millis());
            for m in chunk {
                q = q.bind(m.as_uuid());
            }
            q.fetch_one(c).await
        })?;
        total += n;
    }
    Ok(total)
}

/// Of the (message, member) copies given, those the member has read: what a digest leaves
/// out.
pub async fn read_among(tx: &mut Tx, copies: &[(MessageId, MemberId)]) -> Result<HashSet<(MessageId, MemberId)>> {
    let mut read = HashSet::new();
    for chunk in copies.chunks(400) {
        let members: HashSet<Uuid> = chunk.iter().map(|(_, m)| m.as_uuid()).collect();
        let sql = format!(
            "select message_id, member_id from recipients where read_at is not null and member_id in ({})",
            crate::sql::placeholders(tx.dialect(), 1, members.len())
        );
        let rows: Vec<(Uuid, Uuid)> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for m in &members {
                q = q.bind(*m);
            }
            q.fetch_all(c).await
        })?;
        let wanted: HashSet<(MessageId, MemberId)> = chunk.iter().copied().collect();
        read.extend(
            rows.into_iter()
                .map(|(message, member)| (MessageId::from_uuid(message), MemberId::from_uuid(member)))
                .filter(|copy| wanted.contains(copy)),
        );
    }
    Ok(read)
}

/// A person's first open or click of the email, kept on their copy for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engagement {
    Opened,
    Clicked,
}

pub async fn mark_engaged(
    tx: &mut Tx,
    message: MessageId,
    member: MemberId,
    what: Engagement,
    at: Timestamp,
) -> Result<()> {
    // A click is an open too: the pixel of an email shown without images never loads.
    let steps: &[Step] = match what {
        Engagement::Opened => &[Step::Opened],
        Engagement::Clicked => &[Step::Clicked, Step::Opened],
    };
    for step in steps {
        reports::reach(tx, message, member, *step, at).await?;
    }
    Ok(())
}

/// One message in a member's timeline: when it reached them and each step they took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub message_id: MessageId,
    pub released_at: Timestamp,
    pub opened_at: Option<Timestamp>,
    pub clicked_at: Option<Timestamp>,
    pub viewed_at: Option<Timestamp>,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
}

type TimelineRow = (Uuid, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// The member's latest copies, newest first (through the inbox index).
pub async fn timeline(tx: &mut Tx, member: MemberId, limit: i64) -> Result<Vec<TimelineEntry>> {
    let rows: Vec<TimelineRow> = on_tx!(tx, |c| {
        sqlx::query_as(
        "select message_id, released_at, opened_at, clicked_at, viewed_at, read_at, acknowledged_at from recipients \
         where member_id = $1 order by released_at desc limit $2"
    )
    .bind(member.as_uuid())
    .bind(limit)
    .fetch_all(c)
    .await
    })?;
    let at = |t: Option<i64>| t.map(Timestamp::from_millis);
    Ok(rows
        .into_iter()
        .map(|(m, released, opened, clicked, viewed, read, acked)| TimelineEntry {
            message_id: MessageId::from_uuid(m),
            released_at: Timestamp::from_millis(released),
            opened_at: at(opened),
            clicked_at: at(clicked),
            viewed_at: at(viewed),
            read_at: at(read),
            acknowledged_at: at(acked),
        })
        .collect())
}

/// How many of a partner's recipients of a message have not acknowledged it, and how many
/// it has.
pub async fn partner_acknowledgments(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<(i64, i64)> {
    let row: (i64, i64) = on_tx!(tx, |c| sqlx::query_as(
        "select coalesce(sum(case when acknowledged_at is null then 1 else 0 end), 0), count(acknowledged_at) \
         from recipients where message_id = $1 and partner_id = $2"
    )
    .bind(message.as_uuid())
    .bind(partner.as_uuid())
    .fetch_one(c)
    .await)?;
    Ok(row)
}
