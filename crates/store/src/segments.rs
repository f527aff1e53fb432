//! Saved segments. The rule is stored as its text; it is parsed (and so checked against
//! the current catalog) whenever it is used.

use sqlx::AssertSqlSafe;
use tidings_core::{SegmentId, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, found};
use crate::{Error, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub id: SegmentId,
    pub name: String,
    pub description: String,
    pub rule: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct SegmentRow {
    id: Uuid,
    name: String,
    description: String,
    rule: String,
    created_at: i64,
    updated_at: i64,
}

impl From<SegmentRow> for Segment {
    fn from(r: SegmentRow) -> Self {
        Segment {
            id: SegmentId::from_uuid(r.id),
            name: r.name,
            description: r.description,
            rule: r.rule,
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        }
    }
}

const SELECT: &str = "select id, name, description, rule, created_at, updated_at from segments";

pub async fn insert(tx: &mut Tx, s: &Segment) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into segments (id, name, description, rule, created_at, updated_at) values ($1, $2, $3, $4, $5, $6)"
    )
    .bind(s.id.as_uuid())
    .bind(s.name.clone())
    .bind(s.description.clone())
    .bind(s.rule.clone())
    .bind(s.created_at.as_millis())
    .bind(s.updated_at.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn update(tx: &mut Tx, s: &Segment) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query(
        "update segments set name = $2, description = $3, rule = $4, updated_at = $5 where id = $1"
    )
    .bind(s.id.as_uuid())
    .bind(s.name.clone())
    .bind(s.description.clone())
    .bind(s.rule.clone())
    .bind(s.updated_at.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    found(done)
}

pub async fn get(tx: &mut Tx, id: SegmentId) -> Result<Segment> {
    let sql = format!("{SELECT} where id = $1");
    let row: Option<SegmentRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    Ok(row.ok_or(Error::NotFound)?.into())
}

pub async fn list(tx: &mut Tx, after: Option<&str>, limit: Option<u32>) -> Result<Page<Segment>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id > {n}"));
    }
    let sql = format!("{SELECT} {} order by id limit {}", f.sql(), limit + 1);
    let rows: Vec<SegmentRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    Ok(Page::from_rows(rows.into_iter().map(Segment::from).collect(), limit, |s| s.id.to_string()))
}

pub async fn delete(tx: &mut Tx, id: SegmentId) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("delete from segments where id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}
