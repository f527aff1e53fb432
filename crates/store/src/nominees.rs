//! Who answers for a role at a partner: one member per role, named by the partner's lead
//! or by staff. An escalation ladder reminds the nominee, not everyone in the role, for
//! what the role owes (see `deliveries::chase`).

use tidings_core::{MemberId, PartnerId, Role, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Nominee {
    pub role: Role,
    pub member_id: MemberId,
    /// Who named them: a staff name or the lead's email.
    pub nominated_by: String,
    pub nominated_at: Timestamp,
}

/// The role's bit, as obligation quotas and members' roles hold it.
fn bit(role: Role) -> i64 {
    std::iter::once(role).collect::<Roles>().bits()
}

/// Names `member` as the one who answers for `role` at `partner`, in place of anyone
/// named before.
pub async fn put(tx: &mut Tx, partner: PartnerId, nominee: &Nominee) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into role_nominees (partner_id, role, member_id, nominated_by, nominated_at) \
         values ($1, $2, $3, $4, $5) on conflict (partner_id, role) do update set \
         member_id = excluded.member_id, nominated_by = excluded.nominated_by, nominated_at = excluded.nominated_at"
    )
    .bind(partner.as_uuid())
    .bind(bit(nominee.role))
    .bind(nominee.member_id.as_uuid())
    .bind(&nominee.nominated_by)
    .bind(nominee.nominated_at.as_millis())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Takes back the nomination for `role`; returns whether there was one.
pub async fn remove(tx: &mut Tx, partner: PartnerId, role: Role) -> Result<bool> {
    let gone = on_tx!(tx, |c| sqlx::query("delete from role_nominees where partner_id = $1 and role = $2")
        .bind(partner.as_uuid())
        .bind(bit(role))
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(gone > 0)
}

/// The partner's nominees, by role.
pub async fn of_partner(tx: &mut Tx, partner: PartnerId) -> Result<Vec<Nominee>> {
    let rows: Vec<(i64, Uuid, String, i64)> = on_tx!(tx, |c| sqlx::query_as(
        "select role, member_id, nominated_by, nominated_at from role_nominees where partner_id = $1 order by role"
    )
    .bind(partner.as_uuid())
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(bit, member, by, at)| {
            let role = Role::ALL
                .into_iter()
                .find(|r| self::bit(*r) == bit)
                .ok_or_else(|| Error::corrupt(format!("a nominee for role bit {bit}")))?;
            Ok(Nominee {
                role,
                member_id: MemberId::from_uuid(member),
                nominated_by: by,
                nominated_at: Timestamp::from_millis(at),
            })
        })
        .collect()
}
