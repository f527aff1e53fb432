//! Who has and has not acknowledged a message: totals and by partner (from the report's
//! counts, which name each member's partner at release), the members of one partner, and
//! the evidence of every copy, in pages.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use tidings_core::{MemberId, MessageId, PartnerId, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::reports::{self, Counts, Key};
use crate::{Result, Tx};

/// How far one message's acknowledgments have come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    let totals = crate::reports::totals(tx, messages).await?;
    Ok(messages
        .iter()
        .filter_map(|m| {
            totals.get(m).map(|c| (*m, Tally { recipients: c.recipients, read: c.read, acknowledged: c.acknowledged }))
        })
        .collect())
}

/// One partner's standing on a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerStanding {
    pub partner_id: PartnerId,
    /// `None` for a partner deleted since.
    pub name: Option<String>,
    pub partner_type: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub tally: Tally,
    pub last_acknowledged_at: Option<Timestamp>,
    /// Where the partner stands on the message's obligation (`None` before the release's
    /// fan-out is done), and its progress quota by quota.
    pub obligation: Option<tidings_core::obligations::ObligationStanding>,
    pub quotas: Vec<tidings_core::obligations::QuotaProgress>,
    /// What its people stated they did, added up, when the message asks (its attestation).
    pub attestation: Option<tidings_core::attestation::Rollup>,
}

/// Every partner the message reached, those with the most outstanding first: from the
/// report's counts (`reports::of_message`, read once by the caller, who uses them for
/// more), a row per partner however many copies.
pub async fn by_partner(
    tx: &mut Tx,
    message: MessageId,
    counts: &HashMap<Key, Counts>,
) -> Result<Vec<PartnerStanding>> {
    let mut labels = reports::partner_labels(tx, message).await?;
    let mut rows: Vec<PartnerStanding> = counts
        .iter()
        .filter_map(|(key, c)| match *key {
            Key::Partner(Some(partner_id)) if c.recipients > 0 => Some((partner_id, *c)),
            _ => None,
        })
        .map(|(partner_id, c)| {
            let label = labels.remove(&partner_id);
            PartnerStanding {
                partner_id,
                name: label.as_ref().map(|l| l.name.clone()),
                partner_type: label.as_ref().map(|l| l.partner_type.clone()),
                tier: label.as_ref().map(|l| l.tier.clone()),
                region: label.and_then(|l| l.region),
                tally: Tally { recipients: c.recipients, read: c.read, acknowledged: c.acknowledged },
                last_acknowledged_at: c.last_acknowledged_at.map(Timestamp::from_millis),
                obligation: None,
                quotas: Vec::new(),
                attestation: None,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.tally
            .outstanding()
            .cmp(&a.tally.outstanding())
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.partner_id.as_uuid().cmp(&b.partner_id.as_uuid()))
    });
    Ok(rows)
}

/// One member's copy of the message, with the evidence of their acknowledgment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Standing {
    pub member_id: MemberId,
    pub partner_id: Option<PartnerId>,
    /// `None` for a member erased since: their copy is counted, nothing of them is shown.
    pub name: Option<String>,
    pub email: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub roles: Roles,
    pub released_at: Timestamp,
    pub read_at: Option<Timestamp>,
    pub acknowledged_at: Option<Timestamp>,
    pub evidence: Option<Evidence>,
}

/// What the acknowledgment recorded: which text (locale, statement, the SHA-256 of the
/// variant shown) and from where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub locale: String,
    pub statement: String,
    pub content_hash: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The answers to the message's attestation form.
    pub attestation: Option<tidings_core::attestation::Answers>,
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
    attestation: Option<String>,
}

impl From<StandingRow> for Standing {
    fn from(r: StandingRow) -> Self {
        let attestation = r.attestation.and_then(|a| serde_json::from_str(&a).ok());
        let evidence = match (r.locale, r.statement, r.content_hash) {
            (Some(locale), Some(statement), Some(content_hash)) => {
                Some(Evidence { locale, statement, content_hash, ip: r.ip, user_agent: r.user_agent, attestation })
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
     r.acknowledged_at, a.locale, a.statement, a.content_hash, a.ip, a.user_agent, a.attestation from recipients r \
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

/// Every partner's answers to the message's attestation form, as kept: the compliance
/// page adds them up per partner.
pub async fn attestations(tx: &mut Tx, message: MessageId) -> Result<Vec<(PartnerId, String)>> {
    let rows: Vec<(Uuid, String)> = on_tx!(tx, |c| sqlx::query_as(
        "select partner_id, attestation from acknowledgments where message_id = $1 and attestation is not null"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(|(p, a)| (PartnerId::from_uuid(p), a)).collect())
}
