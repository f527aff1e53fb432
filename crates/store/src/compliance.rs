//! Who has and has not acknowledged a message: totals, by partner (from the inbox copies,
//! which name each member's partner at release, through an index that covers the count),
//! the members of one partner, and the evidence of every copy, in pages.

use sqlx::AssertSqlSafe;
use tidings_core::{MemberId, MessageId, PartnerId, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Result, Tx};

/// How far one message's acknowledgments have come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub recipients: i64,
    pub read: i64,
    pub acknowledged: i64,
}

impl Tally {
    pub fn outstanding(&self) -> i64 {
        self.recipients - self.acknowledged
    }
}

/// The tallies of several messages at once (a list page), from the report's counts.
pub async fn tallies(tx: &mut Tx, messages: &[MessageId]) -> Result<Vec<(MessageId, Tally)>> {
    let totals = crate::rollups::totals(tx, messages).await?;
    Ok(messages
        .iter()
        .filter_map(|m| {
            totals.get(m).map(|c| (*m, Tally { recipients: c.recipients, read: c.read, acknowledged: c.acknowledged }))
        })
        .collect())
}

/// One partner's standing on a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartnerStanding {
    pub partner_id: PartnerId,
    /// `None` for a partner deleted since.
    pub name: Option<String>,
    pub partner_type: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub tally: Tally,
    pub last_acknowledged_at: Option<Timestamp>,
}

type PartnerRow = (Uuid, Option<String>, Option<String>, Option<String>, Option<String>, i64, i64, i64, Option<i64>);

/// Every partner the message reached, those with the most outstanding first.
pub async fn by_partner(tx: &mut Tx, message: MessageId) -> Result<Vec<PartnerStanding>> {
    let rows: Vec<PartnerRow> = on_tx!(tx, |c| sqlx::query_as(
        "select t.partner_id, p.name, p.partner_type, p.tier, p.region, t.recipients, t.readers, t.acknowledged, \
         t.last_ack from (select partner_id, count(*) as recipients, count(read_at) as readers, \
         count(acknowledged_at) as acknowledged, max(acknowledged_at) as last_ack from recipients \
         where message_id = $1 and partner_id is not null group by partner_id) t \
         left join partners p on p.id = t.partner_id \
         order by t.recipients - t.acknowledged desc, p.name, t.partner_id"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, partner_type, tier, region, recipients, read, acknowledged, last)| PartnerStanding {
            partner_id: PartnerId::from_uuid(id),
            name,
            partner_type,
            tier,
            region,
            tally: Tally { recipients, read, acknowledged },
            last_acknowledged_at: last.map(Timestamp::from_millis),
        })
        .collect())
}

/// One member's copy of the message, with the evidence of their acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Standing {
    pub member_id: MemberId,
    pub partner_id: Option<PartnerId>,
    /// `None` for a member erased since: their copy is counted, nothing of them is shown.
    pub name: Option<String>,
    pub email: Option<String>,
    pub roles: Roles,
    pub released_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub evidence: Option<Evidence>,
}

/// What the acknowledgment recorded: which text (locale, statement, the SHA-256 of the
/// variant shown) and from where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evidence {
    pub locale: String,
    pub statement: String,
    pub content_hash: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(sqlx::FromRow)]
struct StandingRow {
    member_id: Uuid,
    partner_id: Option<Uuid>,
    name: Option<String>,
    email: Option<String>,
    roles: Option<i64>,
    released_at: i64,
    read_at: Option<i64>,
    acknowledged_at: Option<i64>,
    locale: Option<String>,
    statement: Option<String>,
    content_hash: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
}

impl From<StandingRow> for Standing {
    fn from(r: StandingRow) -> Self {
        let evidence = match (r.locale, r.statement, r.content_hash) {
            (Some(locale), Some(statement), Some(content_hash)) => {
                Some(Evidence { locale, statement, content_hash, ip: r.ip, user_agent: r.user_agent })
            }
            _ => None,
        };
        Self {
            member_id: MemberId::from_uuid(r.member_id),
            partner_id: r.partner_id.map(PartnerId::from_uuid),
            name: r.name,
            email: r.email,
            roles: Roles::from_bits(r.roles.unwrap_or_default()),
            released_at: Timestamp::from_millis(r.released_at),
            read_at: r.read_at.map(Timestamp::from_millis),
            acknowledged_at: r.acknowledged_at.map(Timestamp::from_millis),
            evidence,
        }
    }
}

const STANDING: &str = "select r.member_id, r.partner_id, m.name, m.email, m.roles, r.released_at, r.read_at, \
     r.acknowledged_at, a.locale, a.statement, a.content_hash, a.ip, a.user_agent from recipients r \
     left join members m on m.id = r.member_id \
     left join acknowledgments a on a.message_id = r.message_id and a.member_id = r.member_id";

/// The members of one partner the message reached: those who have not acknowledged first.
pub async fn of_partner(tx: &mut Tx, message: MessageId, partner: PartnerId) -> Result<Vec<Standing>> {
    let sql = format!(
        "{STANDING} where r.message_id = $1 and r.partner_id = $2 \
         order by case when r.acknowledged_at is null then 0 else 1 end, m.name, r.member_id"
    );
    let rows: Vec<StandingRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(partner.as_uuid())
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(Standing::from).collect())
}

/// Every copy of the message in member id order, `limit` at a time after `after`: the
/// evidence export streams through these pages.
pub async fn page(tx: &mut Tx, message: MessageId, after: Option<MemberId>, limit: i64) -> Result<Vec<Standing>> {
    let sql = format!("{STANDING} where r.message_id = $1 and r.member_id > $2 order by r.member_id limit $3");
    let rows: Vec<StandingRow> = on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(after.map_or(Uuid::nil(), |a| a.as_uuid()))
        .bind(limit)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(Standing::from).collect())
}
