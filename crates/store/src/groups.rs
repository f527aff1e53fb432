//! Partner groups; memberships are written with the partner (see `partners`).

use sqlx::AssertSqlSafe;
use tidings_core::{GroupId, Keyed, PartnerGroup, Slug, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::keyed::{self, Table};
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, placeholders};
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: Uuid,
    key: String,
    name: String,
    description: String,
    partner_count: i64,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "select g.id, g.key, g.name, g.description, \
    (select count(*) from partner_group_members m where m.group_id = g.id) as partner_count, \
    g.created_at, g.updated_at from partner_groups g";

impl TryFrom<GroupRow> for PartnerGroup {
    type Error = Error;
    fn try_from(r: GroupRow) -> Result<Self> {
        Ok(PartnerGroup {
            id: GroupId::from_uuid(r.id),
            key: Slug::parse(&r.key).map_err(Error::corrupt)?,
            name: r.name,
            description: r.description,
            partner_count: r.partner_count,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

pub async fn insert(tx: &mut Tx, id: GroupId, group: &Keyed, now: Timestamp) -> Result<()> {
    keyed::insert(tx, Table::PartnerGroups, id.as_uuid(), group, now).await
}

pub async fn update(tx: &mut Tx, id: GroupId, group: &Keyed, now: Timestamp) -> Result<()> {
    keyed::update(tx, Table::PartnerGroups, id.as_uuid(), group, now).await
}

pub async fn delete(tx: &mut Tx, id: GroupId) -> Result<()> {
    keyed::delete(tx, Table::PartnerGroups, id.as_uuid()).await
}

pub async fn get(tx: &mut Tx, id: GroupId) -> Result<PartnerGroup> {
    let sql = format!("{SELECT} where g.id = $1");
    let row: Option<GroupRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// The keys among `keys` that name no partner group.
pub async fn unknown_keys(tx: &mut Tx, keys: &[&Slug]) -> Result<Vec<String>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("select key from partner_groups where key in ({})", placeholders(tx.dialect(), 1, keys.len()));
    let values: Vec<Value> = keys.iter().map(|k| Value::Text(k.as_str().to_owned())).collect();
    let found: Vec<(String,)> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    Ok(keys.iter().filter(|k| !found.iter().any(|(f,)| f == k.as_str())).map(|k| k.to_string()).collect())
}

pub async fn list(tx: &mut Tx, after: Option<&str>, limit: Option<u32>) -> Result<Page<PartnerGroup>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("g.id > {n}"));
    }
    let sql = format!("{SELECT} {} order by g.id limit {}", f.sql(), limit + 1);
    let rows: Vec<GroupRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let groups = rows.into_iter().map(PartnerGroup::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(groups, limit, |g| g.id.to_string()))
}
