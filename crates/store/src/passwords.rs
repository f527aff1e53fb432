//! Passwords, as argon2id hashes only: members' optional portal passwords and staff
//! passwords for the admin console.

use tidings_core::{MemberId, StaffId, Timestamp};

use crate::Result;
use crate::Tx;
use crate::db::on_tx;

pub async fn get(tx: &mut Tx, member: MemberId) -> Result<Option<String>> {
    let hash: Option<String> =
        on_tx!(tx, |c| sqlx::query_scalar("select hash from member_passwords where member_id = $1")
            .bind(member.as_uuid())
            .fetch_optional(c)
            .await)?;
    Ok(hash)
}

pub async fn set(tx: &mut Tx, member: MemberId, hash: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into member_passwords (member_id, hash, updated_at) values ($1, $2, $3) \
         on conflict (member_id) do update set hash = excluded.hash, updated_at = excluded.updated_at"
    )
    .bind(member.as_uuid())
    .bind(hash.to_owned())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn delete(tx: &mut Tx, member: MemberId) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from member_passwords where member_id = $1")
        .bind(member.as_uuid())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn get_staff(tx: &mut Tx, staff: StaffId) -> Result<Option<String>> {
    let hash: Option<String> =
        on_tx!(tx, |c| sqlx::query_scalar("select hash from staff_passwords where staff_id = $1")
            .bind(staff.as_uuid())
            .fetch_optional(c)
            .await)?;
    Ok(hash)
}

pub async fn set_staff(tx: &mut Tx, staff: StaffId, hash: &str, now: Timestamp) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into staff_passwords (staff_id, hash, updated_at) values ($1, $2, $3) \
         on conflict (staff_id) do update set hash = excluded.hash, updated_at = excluded.updated_at"
    )
    .bind(staff.as_uuid())
    .bind(hash.to_owned())
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}
