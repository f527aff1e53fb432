//! Small helpers for dynamic SQL: filters add fixed fragments with numbered
//! placeholders, and values are always bound, never spliced into the text.

use serde::Serialize;
use sqlx::query::QueryAs;
use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use crate::Dialect;

/// One page of a list, with the cursor that continues it.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says there is more.
    pub(crate) fn from_rows(mut items: Vec<T>, limit: usize, cursor: impl Fn(&T) -> String) -> Self {
        let has_more = items.len() > limit;
        items.truncate(limit);
        let next = if has_more { items.last().map(cursor) } else { None };
        Self { items, next }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
    Float(f64),
    Uuid(Uuid),
}

/// A `where` clause under construction.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    clauses: Vec<String>,
    pub(crate) values: Vec<Value>,
}

impl Filter {
    /// The placeholder for the next bound value (`$3`).
    pub(crate) fn bind(&mut self, value: Value) -> String {
        self.values.push(value);
        format!("${}", self.values.len())
    }

    pub(crate) fn push(&mut self, clause: String) {
        self.clauses.push(clause);
    }

    pub(crate) fn sql(&self) -> String {
        if self.clauses.is_empty() { String::new() } else { format!("where {}", self.clauses.join(" and ")) }
    }
}

/// `count` placeholders for values bound in order, numbered from `start`.
///
/// On SQLite every value of a statement that uses these must be bound through them (or
/// another `?`): sqlx numbers the `?` from 1 whatever literal `$1` the statement also
/// holds, so a `$1` beside them binds the wrong values.
///
/// SQLite gets anonymous `?`: it finds a named or numbered parameter (`$7`) by a linear
/// scan of the statement's parameter list, so binding a 7,000-value insert with `$N`
/// spent 80% of an import in `sqlite3_bind_parameter_name`. PostgreSQL needs `$N`.
pub(crate) fn placeholders(dialect: Dialect, start: usize, count: usize) -> String {
    match dialect {
        Dialect::Sqlite => vec!["?"; count].join(", "),
        Dialect::Postgres => (start..start + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", "),
    }
}

/// `rows` parenthesised rows of `columns` placeholders each, for a multi-row `values`
/// list: `(?, ?), (?, ?)` on SQLite, `($1, $2), ($3, $4)` on PostgreSQL.
pub(crate) fn value_rows(dialect: Dialect, rows: usize, columns: usize) -> String {
    (0..rows).map(|i| format!("({})", placeholders(dialect, i * columns + 1, columns))).collect::<Vec<_>>().join(", ")
}

pub(crate) fn bind_as<'q, DB, O>(
    mut query: QueryAs<'q, DB, O, DB::Arguments>,
    values: &[Value],
) -> QueryAs<'q, DB, O, DB::Arguments>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Uuid: Encode<'q, DB> + Type<DB>,
{
    for value in values {
        query = match value {
            Value::Text(v) => query.bind(v.clone()),
            Value::Int(v) => query.bind(*v),
            Value::Float(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(*v),
        };
    }
    query
}

/// [`bind_as`] for statements that return no rows.
pub(crate) fn bind_query<'q, DB>(
    mut query: sqlx::query::Query<'q, DB, DB::Arguments>,
    values: &[Value],
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    String: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Uuid: Encode<'q, DB> + Type<DB>,
{
    for value in values {
        query = match value {
            Value::Text(v) => query.bind(v.clone()),
            Value::Int(v) => query.bind(*v),
            Value::Float(v) => query.bind(*v),
            Value::Uuid(v) => query.bind(*v),
        };
    }
    query
}

/// `Ok` when a write touched a row, `NotFound` when it touched none (no such id).
pub(crate) fn found(rows_affected: u64) -> crate::Result<()> {
    if rows_affected == 0 { Err(crate::Error::NotFound) } else { Ok(()) }
}

/// Parses a list cursor (the id of the last item seen).
pub(crate) fn cursor(after: Option<&str>) -> Option<Uuid> {
    after.and_then(|a| Uuid::parse_str(a).ok())
}

/// The limit a list actually uses: 1 to 500, 50 when not given.
pub fn clamp_limit(limit: Option<u32>) -> usize {
    limit.map_or(50, |l| l.clamp(1, 500)) as usize
}

/// The rows of `select` (with `$1` bound to `id`) as one JSON array of arrays of
/// `columns`, on SQLite. sqlx hands each SQLite row over value by value, which for the
/// ten thousand partners of a report cost three times the query itself
/// (docs/benchmarks.md); one JSON value crosses at once. Blob ids go in `columns` as
/// `hex(...)` and come back as text.
pub(crate) async fn sqlite_json_rows<T: serde::de::DeserializeOwned>(
    tx: &mut crate::Tx,
    columns: &str,
    select: &str,
    id: Uuid,
) -> crate::Result<Vec<T>> {
    let sql = format!("select json_group_array(json_array({columns})) from ({select})");
    let json: String =
        crate::db::on_tx!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(c).await)?;
    serde_json::from_str(&json).map_err(crate::Error::corrupt)
}

/// An id that `sqlite_json_rows` read as hex.
pub(crate) fn hex_id(text: &str) -> crate::Result<Uuid> {
    Uuid::try_parse(text).map_err(crate::Error::corrupt)
}
