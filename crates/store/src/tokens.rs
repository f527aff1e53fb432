//! Staff API tokens. Only a SHA-256 hash of each token is stored: a stolen database
//! yields no usable token.

use tidings_core::{StaffId, StaffRole, Timestamp, TokenId};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Error, Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub role: StaffRole,
    pub created_by: Option<StaffId>,
    pub created_at: Timestamp,
}

/// A token as the token list shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenListing {
    pub token: ApiToken,
    pub revoked_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    name: String,
    role: String,
    created_by: Option<Uuid>,
    created_at: i64,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = Error;
    fn try_from(r: TokenRow) -> Result<Self> {
        Ok(ApiToken {
            id: TokenId::from_uuid(r.id),
            name: r.name,
            role: r.role.parse().map_err(Error::corrupt)?,
            created_by: r.created_by.map(StaffId::from_uuid),
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

pub async fn insert(tx: &mut Tx, token: &ApiToken, token_hash: &str) -> Result<()> {
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into api_tokens (id, name, role, token_hash, created_by, created_at) values ($1, $2, $3, $4, $5, $6)"
    )
    .bind(token.id.as_uuid())
    .bind(token.name.clone())
    .bind(token.role.as_str())
    .bind(token_hash.to_owned())
    .bind(token.created_by.map(|s| s.as_uuid()))
    .bind(token.created_at.as_millis())
    .execute(c)
    .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The live (not revoked) token with this hash.
pub async fn find_live_by_hash(tx: &mut Tx, token_hash: &str) -> Result<Option<ApiToken>> {
    let row: Option<TokenRow> = on_tx!(tx, |c| {
        sqlx::query_as(
        "select id, name, role, created_by, created_at from api_tokens where token_hash = $1 and revoked_at is null"
    )
    .bind(token_hash.to_owned())
    .fetch_optional(c)
    .await
    })?;
    row.map(ApiToken::try_from).transpose()
}

/// Revokes every live token with this name; returns how many.
pub async fn revoke_by_name(tx: &mut Tx, name: &str, now: Timestamp) -> Result<u64> {
    let done =
        on_tx!(tx, |c| sqlx::query("update api_tokens set revoked_at = $2 where name = $1 and revoked_at is null")
            .bind(name.to_owned())
            .bind(now.as_millis())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    Ok(done)
}

type ListingRow = (Uuid, String, String, Option<Uuid>, i64, Option<i64>);

/// Every token, live ones first, newest first.
pub async fn list(tx: &mut Tx) -> Result<Vec<TokenListing>> {
    let rows: Vec<ListingRow> = on_tx!(tx, |c| sqlx::query_as(
        "select id, name, role, created_by, created_at, revoked_at from api_tokens \
         order by case when revoked_at is null then 0 else 1 end, created_at desc"
    )
    .fetch_all(c)
    .await)?;
    rows.into_iter()
        .map(|(id, name, role, created_by, created_at, revoked_at)| {
            Ok(TokenListing {
                token: ApiToken {
                    id: TokenId::from_uuid(id),
                    name,
                    role: role.parse().map_err(Error::corrupt)?,
                    created_by: created_by.map(StaffId::from_uuid),
                    created_at: Timestamp::from_millis(created_at),
                },
                revoked_at: revoked_at.map(Timestamp::from_millis),
            })
        })
        .collect()
}

/// Revokes one token; `NotFound` if there is no such live token.
pub async fn revoke(tx: &mut Tx, id: TokenId, now: Timestamp) -> Result<()> {
    let done =
        on_tx!(tx, |c| sqlx::query("update api_tokens set revoked_at = $2 where id = $1 and revoked_at is null")
            .bind(id.as_uuid())
            .bind(now.as_millis())
            .execute(c)
            .await
            .map(|r| r.rows_affected()))?;
    crate::sql::found(done)
}
