//! Partners and their partner-group memberships.

use std::collections::{BTreeSet, HashMap};

use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::{
    Attributes, Country, Email, LifecycleStage, Partner, PartnerId, PartnerProfile, PartnerTier, PartnerType, Region,
    Slug, Timestamp,
};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, found, placeholders};
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: Uuid,
    external_id: Option<String>,
    name: String,
    partner_type: String,
    tier: String,
    region: Option<String>,
    country: Option<String>,
    lifecycle_stage: String,
    attributes: Json<Attributes>,
    partner_manager: Option<String>,
    working_hours: Option<String>,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "select p.id, p.external_id, p.name, p.partner_type, p.tier, p.region, p.country, \
    p.lifecycle_stage, p.attributes, s.email as partner_manager, p.working_hours, p.created_at, p.updated_at \
    from partners p left join staff s on s.id = p.partner_manager_id";

impl PartnerRow {
    fn into_partner(self, groups: BTreeSet<Slug>) -> Result<Partner> {
        let slug = |s: String| Slug::parse(&s).map_err(Error::corrupt);
        Ok(Partner {
            id: PartnerId::from_uuid(self.id),
            profile: PartnerProfile {
                external_id: self.external_id,
                name: self.name,
                partner_type: PartnerType::stored(slug(self.partner_type)?),
                tier: PartnerTier::stored(slug(self.tier)?),
                region: self.region.map(slug).transpose()?.map(Region::stored),
                country: self.country.map(|c| Country::parse(&c)).transpose().map_err(Error::corrupt)?,
                lifecycle_stage: self.lifecycle_stage.parse::<LifecycleStage>().map_err(Error::corrupt)?,
                attributes: self.attributes.0,
                groups,
                partner_manager: self.partner_manager.map(|e| Email::parse(&e)).transpose().map_err(Error::corrupt)?,
                working_hours: self.working_hours.map(|w| w.parse()).transpose().map_err(Error::corrupt)?,
            },
            created_at: Timestamp::from_millis(self.created_at),
            updated_at: Timestamp::from_millis(self.updated_at),
        })
    }
}

/// Filters for listing partners; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub partner_type: Option<String>,
    pub tier: Option<String>,
    pub region: Option<String>,
    pub country: Option<String>,
    pub lifecycle_stage: Option<String>,
    /// A partner group key.
    pub group: Option<String>,
    /// Part of the name, or the exact external id.
    pub q: Option<String>,
}

pub async fn insert(tx: &mut Tx, partner: &Partner) -> Result<()> {
    let p = &partner.profile;
    on_tx!(tx, |c| {
        sqlx::query(
            "insert into partners (id, external_id, name, partner_type, tier, region, country, lifecycle_stage, \
         attributes, partner_manager_id, created_at, updated_at, working_hours) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, (select id from staff where email = $10), $11, $12, $13)",
        )
        .bind(partner.id.as_uuid())
        .bind(p.external_id.clone())
        .bind(p.name.clone())
        .bind(p.partner_type.as_str().to_owned())
        .bind(p.tier.as_str().to_owned())
        .bind(p.region.as_ref().map(|r| r.as_str().to_owned()))
        .bind(p.country.as_ref().map(|c| c.as_str().to_owned()))
        .bind(p.lifecycle_stage.as_str())
        .bind(Json(p.attributes.clone()))
        .bind(p.partner_manager.as_ref().map(|e| e.as_str().to_owned()))
        .bind(partner.created_at.as_millis())
        .bind(partner.updated_at.as_millis())
        .bind(p.working_hours.map(|w| w.to_string()))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    set_groups(tx, partner.id, &p.groups).await
}

pub async fn update(tx: &mut Tx, partner: &Partner) -> Result<()> {
    let p = &partner.profile;
    let done = on_tx!(tx, |c| {
        sqlx::query(
            "update partners set external_id = $2, name = $3, partner_type = $4, tier = $5, region = $6, country = $7, \
         lifecycle_stage = $8, attributes = $9, partner_manager_id = (select id from staff where email = $10), \
         updated_at = $11, working_hours = $12 where id = $1",
        )
        .bind(partner.id.as_uuid())
        .bind(p.external_id.clone())
        .bind(p.name.clone())
        .bind(p.partner_type.as_str().to_owned())
        .bind(p.tier.as_str().to_owned())
        .bind(p.region.as_ref().map(|r| r.as_str().to_owned()))
        .bind(p.country.as_ref().map(|c| c.as_str().to_owned()))
        .bind(p.lifecycle_stage.as_str())
        .bind(Json(p.attributes.clone()))
        .bind(p.partner_manager.as_ref().map(|e| e.as_str().to_owned()))
        .bind(partner.updated_at.as_millis())
        .bind(p.working_hours.map(|w| w.to_string()))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    found(done)?;
    on_tx!(tx, |c| sqlx::query("delete from partner_group_members where partner_id = $1")
        .bind(partner.id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    set_groups(tx, partner.id, &p.groups).await
}

async fn set_groups(tx: &mut Tx, id: PartnerId, groups: &BTreeSet<Slug>) -> Result<()> {
    for key in groups {
        on_tx!(tx, |c| {
            sqlx::query(
            "insert into partner_group_members (group_id, partner_id) select id, $2 from partner_groups where key = $1"
        )
        .bind(key.as_str().to_owned())
        .bind(id.as_uuid())
        .execute(c)
        .await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

pub async fn get(tx: &mut Tx, id: PartnerId) -> Result<Partner> {
    let sql = format!("{SELECT} where p.id = $1");
    let row: Option<PartnerRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    hydrate(tx, row.into_iter().collect()).await?.pop().ok_or(Error::NotFound)
}

/// The partners with these ids (those that exist).
pub async fn get_many(tx: &mut Tx, ids: &[PartnerId]) -> Result<Vec<Partner>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{SELECT} where p.id in ({})", placeholders(tx.dialect(), 1, ids.len()));
    let values: Vec<Value> = ids.iter().map(|id| Value::Uuid(id.as_uuid())).collect();
    let rows: Vec<PartnerRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    hydrate(tx, rows).await
}

/// The partners with these external ids (those that exist).
pub async fn find_by_external_ids(tx: &mut Tx, external_ids: &[String]) -> Result<Vec<Partner>> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{SELECT} where p.external_id in ({})", placeholders(tx.dialect(), 1, external_ids.len()));
    let values: Vec<Value> = external_ids.iter().cloned().map(Value::Text).collect();
    let rows: Vec<PartnerRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    hydrate(tx, rows).await
}

/// Maps external ids to partner ids, for resolving a member import's partner column.
pub async fn ids_by_external_ids(tx: &mut Tx, external_ids: &[String]) -> Result<HashMap<String, PartnerId>> {
    if external_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select external_id, id from partners where external_id in ({})",
        placeholders(tx.dialect(), 1, external_ids.len())
    );
    let values: Vec<Value> = external_ids.iter().cloned().map(Value::Text).collect();
    let rows: Vec<(String, Uuid)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(e, id)| (e, PartnerId::from_uuid(id))).collect())
}

/// Maps partner ids to their external ids (for exports), one query for the lot.
pub async fn external_ids_of(tx: &mut Tx, ids: &[PartnerId]) -> Result<HashMap<PartnerId, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "select id, external_id from partners where external_id is not null and id in ({})",
        placeholders(tx.dialect(), 1, ids.len())
    );
    let values: Vec<Value> = ids.iter().map(|id| Value::Uuid(id.as_uuid())).collect();
    let rows: Vec<(Uuid, String)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(id, e)| (PartnerId::from_uuid(id), e)).collect())
}

pub async fn list(
    tx: &mut Tx,
    filter: &PartnerFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Partner>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    let exact = [
        ("p.partner_type", &filter.partner_type),
        ("p.tier", &filter.tier),
        ("p.region", &filter.region),
        ("p.lifecycle_stage", &filter.lifecycle_stage),
    ];
    for (column, value) in exact {
        if let Some(v) = value {
            let n = f.bind(Value::Text(v.trim().to_lowercase()));
            f.push(format!("{column} = {n}"));
        }
    }
    if let Some(country) = &filter.country {
        let n = f.bind(Value::Text(country.trim().to_uppercase()));
        f.push(format!("p.country = {n}"));
    }
    if let Some(group) = &filter.group {
        let n = f.bind(Value::Text(group.trim().to_owned()));
        f.push(format!(
            "exists (select 1 from partner_group_members m join partner_groups g on g.id = m.group_id \
             where m.partner_id = p.id and g.key = {n})"
        ));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = f.bind(Value::Text(format!("%{}%", escape_like(&q.to_lowercase()))));
        let exact = f.bind(Value::Text(q.to_owned()));
        f.push(format!("(lower(p.name) like {like} escape '\\' or p.external_id = {exact})"));
    }
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("p.id > {n}"));
    }
    let sql = format!("{SELECT} {} order by p.id limit {}", f.sql(), limit + 1);
    let rows: Vec<PartnerRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let partners = hydrate(tx, rows).await?;
    Ok(Page::from_rows(partners, limit, |p| p.id.to_string()))
}

pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub async fn member_count(tx: &mut Tx, id: PartnerId) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("select count(*) from members where partner_id = $1")
        .bind(id.as_uuid())
        .fetch_one(c)
        .await)?)
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("select count(*) from partners").fetch_one(c).await)?)
}

pub async fn delete(tx: &mut Tx, id: PartnerId) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("delete from partners where id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}

/// Loads the group keys of `rows` with one query and builds the partners.
async fn hydrate(tx: &mut Tx, rows: Vec<PartnerRow>) -> Result<Vec<Partner>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "select m.partner_id, g.key from partner_group_members m join partner_groups g on g.id = m.group_id \
         where m.partner_id in ({})",
        placeholders(tx.dialect(), 1, rows.len())
    );
    let values: Vec<Value> = rows.iter().map(|r| Value::Uuid(r.id)).collect();
    let pairs: Vec<(Uuid, String)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    let mut groups: HashMap<Uuid, BTreeSet<Slug>> = HashMap::new();
    for (partner, key) in pairs {
        groups.entry(partner).or_default().insert(Slug::parse(&key).map_err(Error::corrupt)?);
    }
    rows.into_iter()
        .map(|r| {
            let g = groups.remove(&r.id).unwrap_or_default();
            r.into_partner(g)
        })
        .collect()
}
