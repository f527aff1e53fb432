//! The audit log: one row per staff action, newest first when read.

use serde::Serialize;
use sqlx::AssertSqlSafe;
use tidings_core::{ActorKind, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor};
use crate::{Error, Result, Tx};

/// Who acted: a staff person in the console, an API token, or the operator at the
/// command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: Timestamp,
    pub actor: Actor,
    /// What was done, as `subject.verb`: `topic.update`, `message.release`.
    pub action: String,
    /// The kind of record acted on: `topic`, `member`, `message`, ...
    pub subject_kind: String,
    pub subject_id: Option<Uuid>,
    /// The record before the action (a JSON object, or for a change of state the state it
    /// left, such as `"draft"`); absent for a creation.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub before: Option<serde_json::Value>,
    /// The record after the action, or what the action did (any JSON value); absent for a
    /// deletion.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Value>))]
    pub after: Option<serde_json::Value>,
    /// The `x-request-id` of the HTTP request that did it (absent for the command line and
    /// for entries written before request ids were kept).
    pub request_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    at: i64,
    actor_kind: String,
    actor_id: Option<Uuid>,
    actor_name: String,
    action: String,
    subject_kind: String,
    subject_id: Option<Uuid>,
    before: Option<String>,
    after: Option<String>,
    request_id: Option<String>,
}

impl TryFrom<Row> for AuditEntry {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self> {
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Ok(Self {
            id: r.id,
            at: Timestamp::from_millis(r.at),
            actor: Actor { kind: r.actor_kind.parse().map_err(Error::corrupt)?, id: r.actor_id, name: r.actor_name },
            action: r.action,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            before: json(r.before),
            after: json(r.after),
            request_id: r.request_id,
        })
    }
}

const COLUMNS: &str =
    "id, at, actor_kind, actor_id, actor_name, action, subject_kind, subject_id, before, after, request_id";

pub async fn insert(tx: &mut Tx, e: &AuditEntry) -> Result<()> {
    let text = |v: &Option<serde_json::Value>| v.as_ref().map(serde_json::Value::to_string);
    let sql = format!("insert into audit_log ({COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    on_tx!(tx, |c| sqlx::query(AssertSqlSafe(sql))
        .bind(e.id)
        .bind(e.at.as_millis())
        .bind(e.actor.kind.as_str())
        .bind(e.actor.id)
        .bind(&e.actor.name)
        .bind(&e.action)
        .bind(&e.subject_kind)
        .bind(e.subject_id)
        .bind(text(&e.before))
        .bind(text(&e.after))
        .bind(e.request_id.as_deref())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

/// Which entries to list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub subject_id: Option<Uuid>,
    /// An action (`message.release`) or every action on a kind of subject (`message`).
    pub action: Option<String>,
    pub actor_name: Option<String>,
}

/// Entries newest first; `after` is the id of the last entry seen.
pub async fn list(
    tx: &mut Tx,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<AuditEntry>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(subject) = filter.subject_id {
        let n = f.bind(Value::Uuid(subject));
        f.push(format!("subject_id = {n}"));
    }
    if let Some(action) = filter.action.as_deref() {
        if action.contains('.') {
            let n = f.bind(Value::Text(action.to_owned()));
            f.push(format!("action = {n}"));
        } else {
            let n = f.bind(Value::Text(action.to_owned()));
            f.push(format!("subject_kind = {n}"));
        }
    }
    if let Some(actor) = filter.actor_name.as_deref() {
        let n = f.bind(Value::Text(actor.to_owned()));
        f.push(format!("actor_name = {n}"));
    }
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id < {n}"));
    }
    let sql = format!("select {COLUMNS} from audit_log {} order by id desc limit {}", f.sql(), limit + 1);
    let rows: Vec<Row> = on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let entries = rows.into_iter().map(AuditEntry::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(entries, limit, |e| e.id.to_string()))
}

/// Blanks what earlier entries recorded of an erased subject; the entries themselves (who
/// did what, when) stay.
pub async fn redact_subject(tx: &mut Tx, subject: Uuid) -> Result<u64> {
    let done = on_tx!(tx, |c| sqlx::query("update audit_log set before = null, after = null where subject_id = $1")
        .bind(subject)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(done)
}

/// The request id of the latest `action` on `subject` (which request scheduled a message,
/// for the job that releases it).
pub async fn request_of(tx: &mut Tx, subject: Uuid, action: &str) -> Result<Option<String>> {
    let id: Option<Option<String>> = on_tx!(tx, |c| sqlx::query_scalar(
        "select request_id from audit_log where subject_id = $1 and action = $2 order by id desc limit 1"
    )
    .bind(subject)
    .bind(action)
    .fetch_optional(c)
    .await)?;
    Ok(id.flatten())
}
