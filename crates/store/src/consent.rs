//! Consent records (append-only) and each member's current preferences.

use std::collections::{BTreeMap, HashMap};

use sqlx::AssertSqlSafe;

use sqlx::types::Json;
use tidings_core::consent::{Channel, Preferences};
use tidings_core::{MemberId, Slug, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{found, placeholders};
use crate::{Result, Tx};

/// One consent change, as it happened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConsentRecord {
    pub id: Uuid,
    pub member_id: MemberId,
    /// `email`, `sms` or `terms`.
    pub purpose: String,
    pub granted: bool,
    /// `portal`, `import`, `api`, `terms` or `unsubscribe`.
    pub source: String,
    /// `consent`, `contract` or `legitimate_interest`.
    pub lawful_basis: String,
    /// The version of the text the member agreed to (or withdrew from).
    pub text_version: String,
    /// Who made the change: `member`, or the staff token's name.
    pub recorded_by: String,
    pub recorded_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: Uuid,
    member_id: Uuid,
    purpose: String,
    granted: bool,
    source: String,
    lawful_basis: String,
    text_version: String,
    recorded_by: String,
    recorded_at: i64,
}

impl From<RecordRow> for ConsentRecord {
    fn from(r: RecordRow) -> Self {
        Self {
            id: r.id,
            member_id: MemberId::from_uuid(r.member_id),
            purpose: r.purpose,
            granted: r.granted,
            source: r.source,
            lawful_basis: r.lawful_basis,
            text_version: r.text_version,
            recorded_by: r.recorded_by,
            recorded_at: Timestamp::from_millis(r.recorded_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct PreferencesRow {
    member_id: Uuid,
    topics: Option<Json<BTreeMap<Slug, bool>>>,
    channels: Option<Json<BTreeMap<Channel, bool>>>,
    topic_channels: Option<Json<BTreeMap<Slug, BTreeMap<Channel, bool>>>>,
    email_opted_in: Option<bool>,
    sms_opted_in: Option<bool>,
    email_suppressed: bool,
    digest: Option<String>,
    partner_topics: Option<Json<BTreeMap<Slug, bool>>>,
    partner_digest: Option<String>,
}

impl From<PreferencesRow> for Preferences {
    fn from(r: PreferencesRow) -> Self {
        Self {
            topics: r.topics.map(|t| t.0).unwrap_or_default(),
            channels: r.channels.map(|c| c.0).unwrap_or_default(),
            topic_channels: r.topic_channels.map(|c| c.0).unwrap_or_default(),
            email_opted_in: r.email_opted_in.unwrap_or(false),
            sms_opted_in: r.sms_opted_in.unwrap_or(false),
            email_suppressed: r.email_suppressed,
            // The column's check holds only the three spellings.
            digest: r.digest.and_then(|d| d.parse().ok()),
            partner: tidings_core::noise::PartnerDefaults {
                topics: r.partner_topics.map(|t| t.0).unwrap_or_default(),
                digest: r.partner_digest.and_then(|d| d.parse().ok()),
            },
        }
    }
}

/// Preferences of members by id; a member who never chose anything has the defaults
/// (opted out), and suppression comes from the address's place on the suppression list.
impl ConsentRecord {
    /// The evidence log's leaf of this change, the member named by commitment.
    pub fn fact(&self, salt: &[u8; 32]) -> tidings_core::evidence::facts::Fact {
        use tidings_core::evidence::facts::{self, Committed, ConsentChanged, Fact};
        Fact::Consent(ConsentChanged {
            record: self.id,
            member: facts::commitment(salt, Committed::Member, self.member_id.as_uuid()),
            purpose: self.purpose.clone(),
            granted: self.granted,
            source: self.source.clone(),
            lawful_basis: self.lawful_basis.clone(),
            text_version: self.text_version.clone(),
            recorded_by: self.recorded_by.clone(),
            at: self.recorded_at,
        })
    }
}

const PREFERENCES: &str = "select m.id as member_id, mp.topics, mp.channels, mp.topic_channels, mp.email_opted_in, mp.sms_opted_in, \
    exists (select 1 from email_suppressions s where s.email = m.email) as email_suppressed, mp.digest, \
    pd.topics as partner_topics, pd.digest as partner_digest \
    from members m left join member_preferences mp on mp.member_id = m.id \
    left join partner_defaults pd on pd.partner_id = m.partner_id";

/// Appends a record and applies it to the member's current state, in the caller's transaction.
pub async fn record(tx: &mut Tx, r: &ConsentRecord) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into consent_records (id, member_id, purpose, granted, source, lawful_basis, text_version, recorded_by, \
         recorded_at, in_log) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1)"
    )
    .bind(r.id)
    .bind(r.member_id.as_uuid())
    .bind(r.purpose.clone())
    .bind(r.granted)
    .bind(r.source.clone())
    .bind(r.lawful_basis.clone())
    .bind(r.text_version.clone())
    .bind(r.recorded_by.clone())
    .bind(r.recorded_at.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    ensure_row(tx, r.member_id, r.recorded_at).await?;
    let salt = crate::evidence::member_salt(tx, r.member_id).await?;
    crate::evidence::append_fact(tx, &r.fact(&salt), Some(r.member_id), Some(r.id)).await?;
    // The column is named by the purpose, which the table's check constraint limits to these three.
    let sql = match r.purpose.as_str() {
        "email" => "update member_preferences set email_opted_in = $2, updated_at = $3 where member_id = $1",
        "sms" => "update member_preferences set sms_opted_in = $2, updated_at = $3 where member_id = $1",
        _ => "update member_preferences set terms_accepted = $2, updated_at = $3 where member_id = $1",
    };
    on_tx!(tx, |c| sqlx::query(sql)
        .bind(r.member_id.as_uuid())
        .bind(r.granted)
        .bind(r.recorded_at.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records many consent changes (an import's batch) in a few multi-row statements: the
/// records, then each member's current state per purpose, where the last record of a
/// member and purpose wins.
pub async fn record_many(tx: &mut Tx, records: &[&ConsentRecord]) -> Result<()> {
    const RECORD_COLUMNS: usize = 9;
    for chunk in records.chunks(500) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| format!("({}, 1)", placeholders(tx.dialect(), i * RECORD_COLUMNS + 1, RECORD_COLUMNS)))
            .collect();
        let sql = format!(
            "insert into consent_records (id, member_id, purpose, granted, source, lawful_basis, text_version, \
             recorded_by, recorded_at, in_log) values {}",
            rows.join(", ")
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.id)
                    .bind(r.member_id.as_uuid())
                    .bind(r.purpose.clone())
                    .bind(r.granted)
                    .bind(r.source.clone())
                    .bind(r.lawful_basis.clone())
                    .bind(r.text_version.clone())
                    .bind(r.recorded_by.clone())
                    .bind(r.recorded_at.as_millis());
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
        let members: Vec<MemberId> = chunk.iter().map(|r| r.member_id).collect();
        let salts = crate::evidence::salts_for(tx, &members).await?;
        let facts: Vec<_> = chunk
            .iter()
            .filter_map(|r| salts.get(&r.member_id).map(|salt| (r.fact(salt), Some(r.member_id), Some(r.id))))
            .collect();
        crate::evidence::append_facts(tx, &facts).await?;
        for (purpose, column) in [("email", "email_opted_in"), ("sms", "sms_opted_in"), ("terms", "terms_accepted")] {
            // One row per member: an upsert may not touch the same row twice.
            let latest: HashMap<MemberId, &ConsentRecord> =
                chunk.iter().filter(|r| r.purpose == purpose).map(|r| (r.member_id, *r)).collect();
            if latest.is_empty() {
                continue;
            }
            let rows = crate::sql::value_rows(tx.dialect(), latest.len(), 3);
            let sql = format!(
                "insert into member_preferences (member_id, {column}, updated_at) values {rows} \
                 on conflict (member_id) do update set {column} = excluded.{column}, updated_at = excluded.updated_at"
            );
            on_tx!(tx, |c| {
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for r in latest.values() {
                    q = q.bind(r.member_id.as_uuid()).bind(r.granted).bind(r.recorded_at.as_millis());
                }
                q.execute(c).await.map(|r| r.rows_affected())
            })?;
        }
    }
    Ok(())
}

async fn ensure_row(tx: &mut Tx, member: MemberId, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into member_preferences (member_id, updated_at) values ($1, $2) on conflict (member_id) do nothing"
    )
    .bind(member.as_uuid())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The member's consent history, oldest first.
pub async fn history(tx: &mut Tx, member: MemberId) -> Result<Vec<ConsentRecord>> {
    let rows: Vec<RecordRow> = on_tx!(tx, |c| sqlx::query_as(
        "select id, member_id, purpose, granted, source, lawful_basis, text_version, recorded_by, recorded_at \
         from consent_records where member_id = $1 order by recorded_at, id"
    )
    .bind(member.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows.into_iter().map(ConsentRecord::from).collect())
}

/// The member's preferences (the defaults for an unknown id).
pub async fn preferences(tx: &mut Tx, member: MemberId) -> Result<Preferences> {
    let sql = format!("{PREFERENCES} where m.id = $1");
    let row: Option<PreferencesRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(member.as_uuid()).fetch_optional(c).await)?;
    Ok(row.map(Preferences::from).unwrap_or_default())
}

/// The preferences of many members at once (for a worker's batch).
pub async fn preferences_many(tx: &mut Tx, members: &[MemberId]) -> Result<HashMap<MemberId, Preferences>> {
    let mut out = HashMap::with_capacity(members.len());
    for chunk in members.chunks(500) {
        let sql = format!("{PREFERENCES} where m.id in ({})", placeholders(tx.dialect(), 1, chunk.len()));
        let rows: Vec<PreferencesRow> = on_tx!(tx, |c| {
            let mut q = sqlx::query_as(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.as_uuid());
            }
            q.fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|r| (MemberId::from_uuid(r.member_id), Preferences::from(r))));
    }
    Ok(out)
}

/// Replaces the member's choices of topics and channels (and of channels per topic) and
/// their digest with those of `choices`; its consent fields are not written here (see `record`).
pub async fn set_choices(tx: &mut Tx, member: MemberId, choices: &Preferences, now: Timestamp) -> Result<()> {
    ensure_row(tx, member, now).await?;
    let done = on_tx!(tx, |c| sqlx::query(
        "update member_preferences set topics = $2, channels = $3, topic_channels = $4, updated_at = $5, \
         digest = $6 where member_id = $1"
    )
    .bind(member.as_uuid())
    .bind(Json(choices.topics.clone()))
    .bind(Json(choices.channels.clone()))
    .bind(Json(choices.topic_channels.clone()))
    .bind(now.as_millis())
    .bind(choices.digest.map(|d| d.as_str()))
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    found(done)
}
