//! Members (partner users). Bulk paths insert many rows per statement.

use std::borrow::Borrow;

use sqlx::AssertSqlSafe;
use sqlx::types::Json;
use tidings_core::{
    Attributes, Email, Locale, Member, MemberId, MemberProfile, MemberStatus, PartnerId, Phone, Role, Roles, TimeZone,
    Timestamp,
};
use uuid::Uuid;

use crate::db::on_tx;
use crate::partners::escape_like;
use crate::sql::{Filter, Page, Value, bind_as, clamp_limit, cursor, found, placeholders};
use crate::{Dialect, Error, Result, Tx};

/// A member as stored; read from rows, or (SQLite, in bulk) from the JSON of [`AS_JSON_ARRAY`].
#[derive(sqlx::FromRow, serde::Deserialize)]
struct MemberRow {
    id: Uuid,
    partner_id: Uuid,
    external_id: Option<String>,
    email: String,
    phone: Option<String>,
    name: String,
    roles: i64,
    locale: String,
    time_zone: String,
    working_hours: Option<String>,
    status: String,
    attributes: Json<Attributes>,
    last_seen_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

const COLUMNS: &str = "id, partner_id, external_id, email, phone, name, roles, locale, time_zone, status, \
    attributes, last_seen_at, created_at, updated_at, working_hours";
const COLUMN_COUNT: usize = 15;
/// Rows per multi-row insert: 15 values each stays far below both engines' bind limits.
pub const INSERT_BATCH: usize = 500;

impl TryFrom<MemberRow> for Member {
    type Error = Error;
    fn try_from(r: MemberRow) -> Result<Self> {
        Ok(Member {
            id: MemberId::from_uuid(r.id),
            profile: MemberProfile {
                partner_id: PartnerId::from_uuid(r.partner_id),
                external_id: r.external_id,
                email: Email::parse(&r.email).map_err(Error::corrupt)?,
                phone: r.phone.map(|p| Phone::parse(&p)).transpose().map_err(Error::corrupt)?,
                name: r.name,
                roles: Roles::from_bits(r.roles),
                locale: Locale::parse(&r.locale).map_err(Error::corrupt)?,
                time_zone: TimeZone::parse(&r.time_zone).map_err(Error::corrupt)?,
                working_hours: r.working_hours.map(|w| w.parse()).transpose().map_err(Error::corrupt)?,
                status: r.status.parse::<MemberStatus>().map_err(Error::corrupt)?,
                attributes: r.attributes.0,
                last_seen_at: r.last_seen_at.map(Timestamp::from_millis),
            },
            created_at: Timestamp::from_millis(r.created_at),
            updated_at: Timestamp::from_millis(r.updated_at),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    pub partner_id: Option<PartnerId>,
    pub status: Option<MemberStatus>,
    pub role: Option<Role>,
    /// Part of the email or name, or the exact external id.
    pub q: Option<String>,
}

pub async fn insert(tx: &mut Tx, member: &Member) -> Result<()> {
    insert_many(tx, std::slice::from_ref(member)).await
}

/// Inserts members: on PostgreSQL with `COPY`, on SQLite up to [`INSERT_BATCH`] with one
/// statement.
pub async fn insert_many<M: Borrow<Member> + Sync>(tx: &mut Tx, members: &[M]) -> Result<()> {
    if let crate::db::TxInner::Postgres(t) = &mut tx.0 {
        return copy_members(t, members).await;
    }
    for chunk in members.chunks(INSERT_BATCH) {
        let rows = crate::sql::value_rows(tx.dialect(), chunk.len(), COLUMN_COUNT);
        let sql = format!("insert into members ({COLUMNS}) values {rows}");
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for m in chunk {
                let m: &Member = m.borrow();
                let p = &m.profile;
                q = q
                    .bind(m.id.as_uuid())
                    .bind(p.partner_id.as_uuid())
                    .bind(p.external_id.as_deref())
                    .bind(p.email.as_str())
                    .bind(p.phone.as_ref().map(|v| v.as_str()))
                    .bind(p.name.as_str())
                    .bind(p.roles.bits())
                    .bind(p.locale.as_str())
                    .bind(p.time_zone.as_str())
                    .bind(p.status.as_str())
                    .bind(Json(&p.attributes))
                    .bind(p.last_seen_at.map(Timestamp::as_millis))
                    .bind(m.created_at.as_millis())
                    .bind(m.updated_at.as_millis())
                    .bind(p.working_hours.map(|w| w.to_string()));
            }
            q.execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

async fn copy_members<M: Borrow<Member>>(conn: &mut sqlx::PgConnection, members: &[M]) -> Result<()> {
    if members.is_empty() {
        return Ok(());
    }
    let mut rows = crate::copy_in::Rows::with_capacity(members.len() * 256);
    for m in members {
        let m: &Member = m.borrow();
        let p = &m.profile;
        let attributes = serde_json::to_string(&p.attributes).map_err(Error::corrupt)?;
        rows.plain(m.id.as_uuid())
            .plain(p.partner_id.as_uuid())
            .optional_text(p.external_id.as_deref())
            .text(p.email.as_str())
            .optional_text(p.phone.as_ref().map(|v| v.as_str()))
            .text(&p.name)
            .plain(p.roles.bits())
            .text(p.locale.as_str())
            .text(p.time_zone.as_str())
            .text(p.status.as_str())
            .text(&attributes)
            .optional_plain(p.last_seen_at.map(Timestamp::as_millis))
            .plain(m.created_at.as_millis())
            .plain(m.updated_at.as_millis())
            .optional_text(p.working_hours.map(|w| w.to_string()).as_deref())
            .end_row();
    }
    rows.copy_into(conn, "members", COLUMNS).await
}

pub async fn update(tx: &mut Tx, member: &Member) -> Result<()> {
    let p = &member.profile;
    let done = on_tx!(tx, |c| {
        sqlx::query(
            "update members set partner_id = $2, external_id = $3, email = $4, phone = $5, name = $6, roles = $7, \
         locale = $8, time_zone = $9, status = $10, attributes = $11, last_seen_at = $12, updated_at = $13, \
         working_hours = $14 where id = $1",
        )
        .bind(member.id.as_uuid())
        .bind(p.partner_id.as_uuid())
        .bind(p.external_id.clone())
        .bind(p.email.as_str().to_owned())
        .bind(p.phone.as_ref().map(|v| v.as_str().to_owned()))
        .bind(p.name.clone())
        .bind(p.roles.bits())
        .bind(p.locale.as_str().to_owned())
        .bind(p.time_zone.as_str().to_owned())
        .bind(p.status.as_str())
        .bind(Json(p.attributes.clone()))
        .bind(p.last_seen_at.map(Timestamp::as_millis))
        .bind(member.updated_at.as_millis())
        .bind(p.working_hours.map(|w| w.to_string()))
        .execute(c)
        .await
        .map(|r| r.rows_affected())
    })?;
    found(done)
}

pub async fn get(tx: &mut Tx, id: MemberId) -> Result<Member> {
    let sql = format!("select {COLUMNS} from members where id = $1");
    let row: Option<MemberRow> =
        on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql)).bind(id.as_uuid()).fetch_optional(c).await)?;
    row.ok_or(Error::NotFound)?.try_into()
}

/// The members with these ids (those that exist), for a worker's batch.
/// The members with this phone number (E.164), oldest first.
pub async fn ids_by_phone(tx: &mut Tx, phone: &str) -> Result<Vec<MemberId>> {
    let rows: Vec<(Uuid,)> = on_tx!(tx, |c| sqlx::query_as("select id from members where phone = $1 order by id")
        .bind(phone)
        .fetch_all(c)
        .await)?;
    Ok(rows.into_iter().map(|(id,)| MemberId::from_uuid(id)).collect())
}

pub async fn get_many(tx: &mut Tx, ids: &[MemberId]) -> Result<Vec<Member>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!("select {COLUMNS} from members where id in ({})", placeholders(tx.dialect(), 1, chunk.len()));
        let values: Vec<Value> = chunk.iter().map(|id| Value::Uuid(id.as_uuid())).collect();
        let rows: Vec<MemberRow> =
            on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
        for row in rows {
            out.push(Member::try_from(row)?);
        }
    }
    Ok(out)
}

/// Members whose external id or email is among those given: the candidates an import
/// batch may update.
pub async fn find_by_keys(tx: &mut Tx, external_ids: &[String], emails: &[String]) -> Result<Vec<Member>> {
    if external_ids.is_empty() && emails.is_empty() {
        return Ok(Vec::new());
    }
    let ext = (!external_ids.is_empty()).then(|| placeholders(tx.dialect(), 1, external_ids.len()));
    let email = (!emails.is_empty()).then(|| placeholders(tx.dialect(), external_ids.len() + 1, emails.len()));
    let by = |column: &str, keys: &Option<String>| keys.as_ref().map(|k| format!("{column} in ({k})"));
    let condition = match tx.dialect() {
        // SQLite answers an OR of two indexed lookups with both indexes.
        Dialect::Sqlite => {
            [by("external_id", &ext), by("email", &email)].into_iter().flatten().collect::<Vec<_>>().join(" or ")
        }
        // PostgreSQL plans that OR as a sequential scan whenever its statistics lag behind
        // the table, as they do while an import fills it (17 ms a batch instead of 2): one
        // lookup per key instead, the second skipping what the first found. Numbered
        // parameters can be used twice.
        Dialect::Postgres => {
            let by_email = match (&email, &ext) {
                (Some(e), Some(x)) => {
                    Some(format!("email in ({e}) and (external_id is null or external_id not in ({x}))"))
                }
                (Some(e), None) => Some(format!("email in ({e})")),
                (None, _) => None,
            };
            [by("external_id", &ext), by_email]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(&format!(" union all select {COLUMNS} from members where "))
        }
    };
    let values: Vec<Value> = external_ids.iter().chain(emails).cloned().map(Value::Text).collect();
    if tx.dialect() == Dialect::Sqlite {
        // Thousands of members as one JSON value: sqlx copies each column of each SQLite
        // row it hands over, which made reading members back most of an import's time.
        let sql = format!("select {AS_JSON_ARRAY} from members where {condition}");
        let (json,): (String,) =
            on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_one(c).await)?;
        let rows: Vec<MemberRow> = serde_json::from_str(&json).map_err(Error::corrupt)?;
        return rows.into_iter().map(Member::try_from).collect();
    }
    let sql = format!("select {COLUMNS} from members where {condition}");
    let rows: Vec<MemberRow> = on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &values).fetch_all(c).await)?;
    rows.into_iter().map(Member::try_from).collect()
}

/// The selected members as one JSON array (SQLite), ids in hex.
const AS_JSON_ARRAY: &str = "json_group_array(json_object('id', hex(id), 'partner_id', hex(partner_id), \
    'external_id', external_id, 'email', email, 'phone', phone, 'name', name, 'roles', roles, 'locale', locale, \
    'time_zone', time_zone, 'status', status, 'attributes', json(attributes), 'last_seen_at', last_seen_at, \
    'created_at', created_at, 'updated_at', updated_at, 'working_hours', working_hours))";

pub async fn list(tx: &mut Tx, filter: &MemberFilter, after: Option<&str>, limit: Option<u32>) -> Result<Page<Member>> {
    let limit = clamp_limit(limit);
    let mut f = Filter::default();
    if let Some(partner) = filter.partner_id {
        let n = f.bind(Value::Uuid(partner.as_uuid()));
        f.push(format!("partner_id = {n}"));
    }
    if let Some(status) = filter.status {
        let n = f.bind(Value::Text(status.as_str().to_owned()));
        f.push(format!("status = {n}"));
    }
    if let Some(role) = filter.role {
        let bits = std::iter::once(role).collect::<Roles>().bits();
        let n = f.bind(Value::Int(bits));
        f.push(format!("(roles & {n}) <> 0"));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let like = f.bind(Value::Text(format!("%{}%", escape_like(&q.to_lowercase()))));
        let exact = f.bind(Value::Text(q.to_owned()));
        f.push(format!(
            "(email like {like} escape '\\' or lower(name) like {like} escape '\\' or external_id = {exact})"
        ));
    }
    if let Some(after) = cursor(after) {
        let n = f.bind(Value::Uuid(after));
        f.push(format!("id > {n}"));
    }
    let sql = format!("select {COLUMNS} from members {} order by id limit {}", f.sql(), limit + 1);
    let rows: Vec<MemberRow> =
        on_tx!(tx, |c| bind_as(sqlx::query_as(AssertSqlSafe(sql)), &f.values).fetch_all(c).await)?;
    let members = rows.into_iter().map(Member::try_from).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_rows(members, limit, |m| m.id.to_string()))
}

pub async fn count(tx: &mut Tx) -> Result<i64> {
    Ok(on_tx!(tx, |c| sqlx::query_scalar("select count(*) from members").fetch_one(c).await)?)
}

pub async fn delete(tx: &mut Tx, id: MemberId) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("delete from members where id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    found(done)
}

/// Moves the member's last activity on to `at` (never back): a sign-in, a read, an
/// acknowledgment, a person's open or click.
pub async fn touch(tx: &mut Tx, id: MemberId, at: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "update members set last_seen_at = $2 where id = $1 and (last_seen_at is null or last_seen_at < $2)"
    )
    .bind(id.as_uuid())
    .bind(at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// `touch` for many members at once.
pub async fn touch_many(tx: &mut Tx, ids: &[MemberId], at: Timestamp) -> Result<()> {
    let d = tx.dialect();
    for chunk in ids.chunks(500) {
        // Numbered and anonymous parameters do not mix on SQLite: bound in text order.
        let [first, second] = [1, 2].map(|i| crate::sql::placeholders(d, i, 1));
        let list = crate::sql::placeholders(d, 3, chunk.len());
        let sql = format!(
            "update members set last_seen_at = {first} where (last_seen_at is null or last_seen_at < {second}) \
             and id in ({list})"
        );
        on_tx!(tx, |c| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(at.as_millis()).bind(at.as_millis());
            for id in chunk {
                q = q.bind(id.as_uuid());
            }
            q.execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}
