//! What a partner's admin set for the partner's people: topics on or off and the digest.

use std::collections::BTreeMap;

use sqlx::types::Json;
use tidings_core::noise::PartnerDefaults;
use tidings_core::{PartnerId, Slug, Timestamp};

use crate::Tx;
use crate::db::on_tx;

/// A row: the topics as stored, and the digest.
type Row = (Json<BTreeMap<Slug, bool>>, Option<String>);

/// The partner's defaults; none set reads as empty.
pub async fn get(tx: &mut Tx, partner: PartnerId) -> crate::Result<PartnerDefaults> {
    let row: Option<Row> =
        on_tx!(tx, |c| sqlx::query_as("select topics, digest from partner_defaults where partner_id = $1")
            .bind(partner.as_uuid())
            .fetch_optional(c)
            .await)?;
    Ok(row
        .map(|(topics, digest)| PartnerDefaults { topics: topics.0, digest: digest.and_then(|d| d.parse().ok()) })
        .unwrap_or_default())
}

/// Replaces the partner's defaults.
pub async fn put(
    tx: &mut Tx,
    partner: PartnerId,
    defaults: &PartnerDefaults,
    by: &str,
    now: Timestamp,
) -> crate::Result<()> {
    Ok(on_tx!(tx, |c| sqlx::query(
        "insert into partner_defaults (partner_id, topics, digest, updated_at, updated_by) values ($1, $2, $3, $4, $5) \
         on conflict (partner_id) do update set topics = excluded.topics, digest = excluded.digest, \
         updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(partner.as_uuid())
    .bind(Json(&defaults.topics))
    .bind(defaults.digest.map(|d| d.as_str()))
    .bind(now.as_millis())
    .bind(by)
    .execute(c)
    .await
    .map(|_| ()))?)
}

/// Whether any member or partner chose a digest (the vendor's policy aside).
pub async fn anyone_on_a_digest(tx: &mut Tx) -> crate::Result<bool> {
    let found: Option<i64> = on_tx!(tx, |c| {
        sqlx::query_scalar(
        "select cast(1 as bigint) where exists (select 1 from member_preferences where digest in ('daily', 'weekly')) \
         or exists (select 1 from partner_defaults where digest in ('daily', 'weekly'))"
    )
    .fetch_optional(c)
    .await
    })?;
    Ok(found.is_some())
}
