//! Topics.

use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::consent::TopicPolicies;
use tidings_core::{Keyed, Slug, Timestamp, Topic, TopicId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::keyed::{self, Table};
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, found};
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct TopicRow {
    id: Uuid,
    key: String,
    name: String,
    description: String,
    policies: Json<TopicPolicies>,
    created_at: i64,
    updated_at: i64,
}

const SELECT: &str = "select id, key, name, description, policies, created_at, updated_at from topics";

impl TryFrom<TopicRow> for Topic {
    type Error = Error;
    fn try_from(r: TopicRow) -> Result<Self> {
        Ok(Topic {
            id: TopicId::from_uuid(r.id),
            key: Slug::parse(&r.key).map_err(Error::corrupt)?,
            name: r.name,
            description: r.description,
            policies: r.policies.0,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

pub async fn insert(tx: &mut Tx, id: TopicId, topic: &Keyed, now: Timestamp) -> Result<()> {
    keyed::insert(tx, Table::Topics, id.as_uuid(), topic, now).await
}

/// Sets the topic's policy per role.
pub async fn set_policies(tx: &mut Tx, id: TopicId, policies: &TopicPolicies) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("update topics set policies = $2 where id = $1")
        .bind(id.as_uuid())
        .bind(Json(policies.clone()))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}

pub async fn update(tx: &mut Tx, id: TopicId, topic: &Keyed, now: Timestamp) -> Result<()> {
    keyed::update(tx, Table::Topics, id.as_uuid(), topic, now).await
}

pub async fn delete(tx: &mut Tx, id: TopicId) -> Result<()> {
    keyed::delete(tx, Table::Topics, id.as_uuid()).await
}

pub async fn get(tx: &mut Tx, id: TopicId) -> Result<Topic> {
    let sql = format!("{SELECT} where id = $1");
    let row: Option<TopicRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

pub async fn get_by_key(tx: &mut Tx, key: &str) -> Result<Topic> {
    let sql = format!("{SELECT} where key = $1");
    let row: Option<TopicRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(key.to_owned()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

pub async fn list(tx: &mut Tx, after: Option<&str>, limit: Option<u32>) -> Result<Page<Topic>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id > {n}"));
    }
    let sql = format!("{SELECT} {} order by id limit {}", f.sql(), limit + 1);
    let rows: Vec<TopicRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let topics = rows.into_iter().map(Topic::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(topics, limit, |t| t.id.to_string()))
}
