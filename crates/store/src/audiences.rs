//! Audience rules compiled to SQL over `members m join partners p`. Every condition
//! becomes a boolean that is never NULL, so `not` means what it means in memory
//! (`tidings_core::audiences`); values are always bound. The dialect differences (JSON
//! access, ASCII case folding, substring search) are the named fragments below.

use sqlx::AssertSqlSafe;
use tidings_core::audiences::{CmpOp, Condition, Field, MemberField, PartnerField, Rule, Test, Value, fold};
use tidings_core::{MemberId, Role, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::sql::{self, Filter, bind_as};
use crate::{Dialect, Result, Tx};

const DAY_MS: i64 = 86_400_000;
const FROM: &str = "from members m join partners p on p.id = m.partner_id";

/// How many members the rule selects.
pub async fn count_members(tx: &mut Tx, rule: &Rule, now: Timestamp) -> Result<i64> {
    let mut f = Filter::default();
    let condition = compile(rule, tx.dialect(), now, &mut f);
    let sql = format!("select count(*) {FROM} where {condition}");
    let (count,): (i64,) = on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_one(c).await)?;
    Ok(count)
}

/// The ids of the members the rule selects, in id order, a page at a time.
pub async fn member_ids(
    tx: &mut Tx,
    rule: &Rule,
    now: Timestamp,
    after: Option<MemberId>,
    limit: usize,
) -> Result<Vec<MemberId>> {
    let mut f = Filter::default();
    let condition = compile(rule, tx.dialect(), now, &mut f);
    let after = after.map(|a| f.bind(sql::Value::Uuid(a.as_uuid())));
    let after = after.map(|n| format!(" and m.id > {n}")).unwrap_or_default();
    let sql = format!("select m.id {FROM} where ({condition}){after} order by m.id limit {limit}");
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|(id,)| MemberId::from_uuid(id)).collect())
}

/// How an audience splits by partner type, tier and region and by member role.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Breakdown {
    pub partner_type: Vec<Bucket>,
    pub tier: Vec<Bucket>,
    /// Partners without a region count under "none".
    pub region: Vec<Bucket>,
    /// A member with several roles counts once under each.
    pub role: Vec<Bucket>,
    /// The members' time zones: where a scheduled send or a due time falls on their clocks.
    pub time_zone: Vec<Bucket>,
}

/// One value and how many members have it, largest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Bucket {
    pub value: String,
    pub count: i64,
}

pub async fn breakdown(tx: &mut Tx, rule: &Rule, now: Timestamp) -> Result<Breakdown> {
    let mut out = Breakdown::default();
    for (column, slot) in [("p.partner_type", 0), ("p.tier", 1), ("coalesce(p.region, 'none')", 2), ("m.time_zone", 3)]
    {
        let mut f = Filter::default();
        let condition = compile(rule, tx.dialect(), now, &mut f);
        let sql = format!(
            "select {column} as value, count(*) as count {FROM} where {condition} group by {column} \
             order by count(*) desc, {column}"
        );
        let rows: Vec<Bucket> =
            on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
        match slot {
            0 => out.partner_type = rows,
            1 => out.tier = rows,
            2 => out.region = rows,
            _ => out.time_zone = rows,
        }
    }
    // One pass for every role: the bit of each role is a constant of the code, not input.
    let sums: Vec<String> = Role::ALL
        .iter()
        .map(|r| {
            format!(
                "coalesce(sum(case when (m.roles & {}) <> 0 then 1 else 0 end), 0)",
                std::iter::once(*r).collect::<Roles>().bits()
            )
        })
        .collect();
    let mut f = Filter::default();
    let condition = compile(rule, tx.dialect(), now, &mut f);
    let sql = format!("select {} {FROM} where {condition}", sums.join(", "));
    let counts: Vec<i64> = on_tx!(tx, |c| {
        let row = bind_as(sqlx::query_as::<_, RoleCounts>(AssertSqlSafe(sql)), &f.values).fetch_one(c).await;
        row.map(|r| r.0)
    })?;
    out.role = Role::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(r, count)| Bucket { value: r.as_str().to_owned(), count })
        .collect();
    out.role.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    Ok(out)
}

/// The role sums of [`breakdown`], read by position.
struct RoleCounts(Vec<i64>);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for RoleCounts
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        (0..row.len()).map(|i| row.try_get::<i64, _>(i)).collect::<std::result::Result<Vec<_>, _>>().map(Self)
    }
}

/// Streams the ids of every member the rule selects, in id order, to `visit` in chunks of
/// `chunk`: one query, read as it arrives, so memory holds one chunk whatever the audience.
pub async fn stream_member_ids<E>(
    tx: &mut Tx,
    rule: &Rule,
    now: Timestamp,
    chunk: usize,
    mut visit: impl FnMut(&[MemberId]) -> std::result::Result<(), E>,
) -> Result<std::result::Result<u64, E>> {
    use futures_util::TryStreamExt;
    let mut f = Filter::default();
    let condition = compile(rule, tx.dialect(), now, &mut f);
    let sql = format!("select m.id {FROM} where {condition} order by m.id");
    let mut buffer = Vec::with_capacity(chunk);
    let mut total = 0u64;
    let outcome = on_tx!(tx, |c| {
        let mut rows = bind_as(sqlx::query_as::<_, (Uuid,)>(AssertSqlSafe(sql)), &f.values).fetch(c);
        let mut outcome = Ok(());
        while let Some((id,)) = rows.try_next().await? {
            buffer.push(MemberId::from_uuid(id));
            if buffer.len() == chunk {
                total += buffer.len() as u64;
                if let Err(e) = visit(&buffer) {
                    outcome = Err(e);
                    break;
                }
                buffer.clear();
            }
        }
        Ok::<_, crate::Error>(outcome)
    })?;
    if let Err(e) = outcome {
        return Ok(Err(e));
    }
    if !buffer.is_empty() {
        total += buffer.len() as u64;
        if let Err(e) = visit(&buffer) {
            return Ok(Err(e));
        }
    }
    Ok(Ok(total))
}

/// The SQL boolean for `rule`, binding its values into `f`.
pub(crate) fn compile(rule: &Rule, d: Dialect, now: Timestamp, f: &mut Filter) -> String {
    match rule {
        // Empty lists keep their logical meaning: all of nothing holds, any of nothing does not.
        Rule::And(rules) if rules.is_empty() => "(1 = 1)".into(),
        Rule::Or(rules) if rules.is_empty() => "(1 = 0)".into(),
        Rule::And(rules) => join(rules, " and ", d, now, f),
        Rule::Or(rules) => join(rules, " or ", d, now, f),
        Rule::Not(inner) => format!("(not {})", compile(inner, d, now, f)),
        Rule::Condition(c) => condition(c, d, now, f),
    }
}

fn join(rules: &[Rule], word: &str, d: Dialect, now: Timestamp, f: &mut Filter) -> String {
    let parts: Vec<String> = rules.iter().map(|r| compile(r, d, now, f)).collect();
    format!("({})", parts.join(word))
}

fn condition(c: &Condition, d: Dialect, now: Timestamp, f: &mut Filter) -> String {
    match &c.field {
        Field::Partner(PartnerField::Group) => group(&c.test, f),
        Field::Member(MemberField::Role) => role(&c.test, f),
        Field::Partner(PartnerField::Attribute(k)) => attribute("p.attributes", k.as_str(), &c.test, d, f),
        Field::Member(MemberField::Attribute(k)) => attribute("m.attributes", k.as_str(), &c.test, d, f),
        Field::Member(MemberField::LastSeen) => time("m.last_seen_at", &c.test, now, f),
        Field::Partner(PartnerField::Id) => ids("p.id", &c.test, f),
        Field::Member(MemberField::Id) => ids("m.id", &c.test, f),
        // The parser lets event fields into trigger conditions only, which are never compiled.
        Field::Event(_) => "(1 = 0)".into(),
        field => text(&column(field, d), folds(field), &c.test, d, f),
    }
}

fn column(field: &Field, d: Dialect) -> String {
    match field {
        Field::Partner(PartnerField::Type) => "p.partner_type".into(),
        Field::Partner(PartnerField::Tier) => "p.tier".into(),
        Field::Partner(PartnerField::Region) => "p.region".into(),
        Field::Partner(PartnerField::Country) => "p.country".into(),
        Field::Partner(PartnerField::Stage) => "p.lifecycle_stage".into(),
        Field::Partner(PartnerField::Name) => "p.name".into(),
        Field::Partner(PartnerField::ExternalId) => "p.external_id".into(),
        Field::Member(MemberField::Locale) => "m.locale".into(),
        Field::Member(MemberField::Status) => "m.status".into(),
        Field::Member(MemberField::Email) => "m.email".into(),
        Field::Member(MemberField::Language) => match d {
            Dialect::Sqlite => "substr(m.locale, 1, instr(m.locale || '-', '-') - 1)".into(),
            Dialect::Postgres => "split_part(m.locale, '-', 1)".into(),
        },
        _ => "null".into(),
    }
}

/// Names and external ids compare as folded text (see `fold`).
fn folds(field: &Field) -> bool {
    matches!(field, Field::Partner(PartnerField::Name | PartnerField::ExternalId))
}

/// ASCII-only lower case with spaces trimmed: SQLite's `lower()` folds only ASCII, so
/// PostgreSQL must not fold more.
fn fold_sql(expr: &str, d: Dialect) -> String {
    match d {
        Dialect::Sqlite => format!("lower(trim({expr}, ' '))"),
        Dialect::Postgres => {
            format!("translate(btrim({expr}, ' '), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')")
        }
    }
}

/// Whether `needle` occurs in `haystack` (both already folded).
fn contains_sql(haystack: &str, needle: &str, d: Dialect) -> String {
    match d {
        Dialect::Sqlite => format!("instr({haystack}, {needle}) > 0"),
        Dialect::Postgres => format!("strpos({haystack}, {needle}) > 0"),
    }
}

fn text(col: &str, folded: bool, test: &Test, d: Dialect, f: &mut Filter) -> String {
    let lhs = if folded { fold_sql(col, d) } else { col.to_owned() };
    let bind = |f: &mut Filter, v: &Value| {
        let t = match v {
            Value::Text(t) if folded => fold(t),
            Value::Text(t) => t.clone(),
            other => other.to_string(),
        };
        f.bind(sql::Value::Text(t))
    };
    match test {
        Test::Eq(v) => {
            let n = bind(f, v);
            format!("({col} is not null and {lhs} = {n})")
        }
        Test::In(list) => {
            let ns: Vec<String> = list.iter().map(|v| bind(f, v)).collect();
            format!("({col} is not null and {lhs} in ({}))", ns.join(", "))
        }
        Test::Contains(part) => {
            let n = f.bind(sql::Value::Text(fold(part)));
            format!("({col} is not null and {})", contains_sql(&fold_sql(col, d), &n, d))
        }
        Test::Exists => format!("({col} is not null and {col} <> '')"),
        Test::Compare(..) => "(1 = 0)".into(),
    }
}

/// `partner.id` and `member.id`: bound as UUIDs, which the id columns hold on both engines.
fn ids(col: &str, test: &Test, f: &mut Filter) -> String {
    let values: Vec<&Value> = match test {
        Test::Eq(v) => vec![v],
        Test::In(list) => list.iter().collect(),
        Test::Exists => return "(1 = 1)".into(),
        _ => return "(1 = 0)".into(),
    };
    let ns: Vec<String> = values
        .into_iter()
        .filter_map(|v| if let Value::Text(t) = v { Uuid::parse_str(t).ok() } else { None })
        .map(|u| f.bind(sql::Value::Uuid(u)))
        .collect();
    if ns.is_empty() {
        return "(1 = 0)".into();
    }
    format!("({col} in ({}))", ns.join(", "))
}

fn role_bits(values: &[&str]) -> i64 {
    values.iter().filter_map(|v| v.parse::<Role>().ok()).collect::<Roles>().bits()
}

fn role(test: &Test, f: &mut Filter) -> String {
    let bits = match test {
        Test::Eq(Value::Text(t)) => role_bits(&[t]),
        Test::Contains(t) => role_bits(&[&fold(t)]),
        Test::In(list) => role_bits(
            &list
                .iter()
                .filter_map(|v| if let Value::Text(t) = v { Some(t.as_str()) } else { None })
                .collect::<Vec<_>>(),
        ),
        Test::Exists => return "(m.roles <> 0)".into(),
        _ => 0,
    };
    let n = f.bind(sql::Value::Int(bits));
    format!("((m.roles & {n}) <> 0)")
}

fn group(test: &Test, f: &mut Filter) -> String {
    let keys: Vec<String> = match test {
        Test::Eq(Value::Text(t)) => vec![t.clone()],
        Test::Contains(t) => vec![fold(t)],
        Test::In(list) => {
            list.iter().filter_map(|v| if let Value::Text(t) = v { Some(t.clone()) } else { None }).collect()
        }
        Test::Exists => {
            return "exists (select 1 from partner_group_members gm where gm.partner_id = p.id)".into();
        }
        _ => return "(1 = 0)".into(),
    };
    let ns: Vec<String> = keys.into_iter().map(|k| f.bind(sql::Value::Text(k))).collect();
    format!(
        "exists (select 1 from partner_group_members gm join partner_groups g on g.id = gm.group_id \
         where gm.partner_id = p.id and g.key in ({}))",
        ns.join(", ")
    )
}

fn time(col: &str, test: &Test, now: Timestamp, f: &mut Filter) -> String {
    let (op, bound) = match test {
        Test::Exists => return format!("({col} is not null)"),
        Test::Compare(op, Value::DaysAgo(days)) => (op, now.as_millis() - days * DAY_MS),
        Test::Compare(op, Value::Time(ms)) => (op, *ms),
        _ => return "(1 = 0)".into(),
    };
    let n = f.bind(sql::Value::Int(bound));
    format!("({col} is not null and {col} {} {n})", cmp(op))
}

fn cmp(op: &CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

/// The JSON pieces of one attribute: its type, as text, and as a number (or NULL).
struct Json {
    is_text: String,
    text: String,
    number: String,
    boolean: String,
    present: String,
}

fn json(column: &str, key: &str, d: Dialect, f: &mut Filter) -> Json {
    match d {
        Dialect::Sqlite => {
            let path = f.bind(sql::Value::Text(format!("$.\"{key}\"")));
            let typ = format!("json_type({column}, {path})");
            let val = format!("json_extract({column}, {path})");
            let trimmed = format!("trim({val}, ' ')");
            let integer_text = format!(
                "(({trimmed} not glob '*[^0-9]*' and length({trimmed}) between 1 and 15) or \
                 ({trimmed} glob '-*' and substr({trimmed}, 2) not glob '*[^0-9]*' and length({trimmed}) between 2 and 16))"
            );
            Json {
                is_text: format!("{typ} = 'text'"),
                text: val.clone(),
                number: format!(
                    "(case when {typ} in ('integer', 'real') then {val} \
                     when {typ} = 'text' and {integer_text} then cast({trimmed} as integer) end)"
                ),
                boolean: format!(
                    "(case {typ} when 'true' then 1 when 'false' then 0 when 'text' then \
                     (case lower({trimmed}) when 'true' then 1 when 'false' then 0 end) end)"
                ),
                present: format!("({typ} is not null)"),
            }
        }
        Dialect::Postgres => {
            let k = f.bind(sql::Value::Text(key.to_owned()));
            let typ = format!("jsonb_typeof({column} -> {k})");
            let val = format!("({column} ->> {k})");
            let trimmed = format!("btrim({val}, ' ')");
            Json {
                is_text: format!("{typ} = 'string'"),
                text: val.clone(),
                // CASE keeps the cast from ever seeing text that is not a number.
                number: format!(
                    "(case when {typ} = 'number' then {val}::float8 \
                     when {typ} = 'string' and {trimmed} ~ '^-?[0-9]{{1,15}}$' then {trimmed}::float8 end)"
                ),
                boolean: format!(
                    "(case {typ} when 'boolean' then (case {val} when 'true' then 1 else 0 end) when 'string' then \
                     (case {} when 'true' then 1 when 'false' then 0 end) end)",
                    fold_sql(&val, d)
                ),
                present: format!("({column} -> {k} is not null)"),
            }
        }
    }
}

fn attribute(column: &str, key: &str, test: &Test, d: Dialect, f: &mut Filter) -> String {
    let j = json(column, key, d, f);
    let eq = |f: &mut Filter, v: &Value| match v {
        Value::Text(t) => {
            let n = f.bind(sql::Value::Text(fold(t)));
            format!("coalesce({} and {} = {n}, false)", j.is_text, fold_sql(&j.text, d))
        }
        Value::Number(x) => {
            let n = f.bind(sql::Value::Float(*x));
            format!("coalesce({} = {n}, false)", j.number)
        }
        Value::Bool(b) => {
            let n = f.bind(sql::Value::Int(i64::from(*b)));
            format!("coalesce({} = {n}, false)", j.boolean)
        }
        _ => "(1 = 0)".into(),
    };
    match test {
        Test::Exists => j.present.clone(),
        Test::Eq(v) => eq(f, v),
        Test::In(list) => {
            let parts: Vec<String> = list.iter().map(|v| eq(f, v)).collect();
            format!("({})", parts.join(" or "))
        }
        Test::Contains(part) => {
            let n = f.bind(sql::Value::Text(fold(part)));
            format!("coalesce({} and {}, false)", j.is_text, contains_sql(&fold_sql(&j.text, d), &n, d))
        }
        Test::Compare(op, Value::Number(x)) => {
            let n = f.bind(sql::Value::Float(*x));
            format!("coalesce({} {} {n}, false)", j.number, cmp(op))
        }
        Test::Compare(..) => "(1 = 0)".into(),
    }
}
