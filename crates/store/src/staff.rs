//! The vendor's staff.

use tidings_core::{Email, Staff, StaffId, StaffRole, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    created_at: i64,
}

impl TryFrom<StaffRow> for Staff {
    type Error = Error;
    fn try_from(r: StaffRow) -> Result<Self> {
        Ok(Staff {
            id: StaffId::from_uuid(r.id),
            email: Email::parse(&r.email).map_err(Error::corrupt)?,
            name: r.name,
            role: r.role.parse::<StaffRole>().map_err(Error::corrupt)?,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

pub async fn insert(tx: &mut Tx, staff: &Staff) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("insert into staff (id, email, name, role, created_at) values ($1, $2, $3, $4, $5)")
        .bind(staff.id.as_uuid())
        .bind(staff.email.as_str().to_owned())
        .bind(staff.name.clone())
        .bind(staff.role.as_str())
        .bind(staff.created_at.as_millis())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn find_by_email(tx: &mut Tx, email: &Email) -> Result<Option<Staff>> {
    let row: Option<StaffRow> =
        on_tx!(tx, |c| sqlx::query_as("select id, email, name, role, created_at from staff where email = $1")
            .bind(email.as_str().to_owned())
            .fetch_optional(c)
            .await)?;
    row.map(Staff::try_from).transpose()
}

pub async fn list(tx: &mut Tx) -> Result<Vec<Staff>> {
    let rows: Vec<StaffRow> =
        on_tx!(tx, |c| sqlx::query_as("select id, email, name, role, created_at from staff order by id")
            .fetch_all(c)
            .await)?;
    rows.into_iter().map(Staff::try_from).collect()
}

pub async fn get(tx: &mut Tx, id: StaffId) -> Result<Option<Staff>> {
    let row: Option<StaffRow> =
        on_tx!(tx, |c| sqlx::query_as("select id, email, name, role, created_at from staff where id = $1")
            .bind(id.as_uuid())
            .fetch_optional(c)
            .await)?;
    row.map(Staff::try_from).transpose()
}

pub async fn set_role(tx: &mut Tx, id: StaffId, role: StaffRole) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("update staff set role = $2 where id = $1")
        .bind(id.as_uuid())
        .bind(role.as_str())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}

/// Removes a staff person; their password goes with them, partners they managed keep no
/// manager, tokens they made stay (revoke those apart).
pub async fn delete(tx: &mut Tx, id: StaffId) -> Result<()> {
    let done = on_tx!(tx, |c| sqlx::query("delete from staff where id = $1")
        .bind(id.as_uuid())
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}
