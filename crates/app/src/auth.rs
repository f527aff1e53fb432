//! Who is asking. Staff API tokens are random 32-byte secrets shown once; only their
//! SHA-256 is stored, so lookups need no constant-time comparison and a leaked database
//! leaks no token.

use sha2::{Digest, Sha256};
use tidings_core::{Action, StaffId, StaffRole, TokenId};
use tidings_store::tokens::{self, ApiToken};

use crate::{App, AppError, audit};
pub use tidings_store::tokens::TokenListing;

const TOKEN_PREFIX: &str = "tid_";

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub role: StaffRole,
    /// The API token the caller presented.
    pub token: Option<TokenId>,
    /// The staff person signed in to the console.
    pub staff: Option<StaffId>,
    pub name: String,
    /// The `x-request-id` of the HTTP request acting, kept with what it changes.
    pub request_id: Option<String>,
}

impl Caller {
    /// The operator at the command line, who holds the database itself.
    pub fn operator() -> Self {
        Self { role: StaffRole::Admin, token: None, staff: None, name: "operator".into(), request_id: None }
    }

    /// A staff person signed in to the console.
    pub fn staff(person: &tidings_core::Staff) -> Self {
        Self { role: person.role, token: None, staff: Some(person.id), name: person.name.clone(), request_id: None }
    }

    /// The caller acting within the HTTP request with this id (bounded, as the header is the client's to set).
    pub fn in_request(mut self, id: Option<&str>) -> Self {
        self.request_id = id.filter(|i| !i.is_empty()).map(|i| i.chars().take(100).collect());
        self
    }

    pub fn require(&self, action: Action, doing: &'static str) -> Result<(), AppError> {
        if self.role.may(action) { Ok(()) } else { Err(AppError::Forbidden(doing)) }
    }
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh secret: `prefix` and 32 random bytes in hex. Store only its [`hash_token`].
pub(crate) fn new_secret(prefix: &str) -> Result<String, AppError> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!("{prefix}{}", hex::encode(secret)))
}

/// Finds the caller behind a bearer token.
pub async fn authenticate(app: &App, bearer: &str) -> Result<Caller, AppError> {
    if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 200 {
        return Err(AppError::Unauthorized);
    }
    let mut tx = app.db.read().await?;
    let token = tokens::find_live_by_hash(&mut tx, &hash_token(bearer)).await?.ok_or(AppError::Unauthorized)?;
    Ok(Caller { role: token.role, token: Some(token.id), staff: None, name: token.name, request_id: None })
}

/// Creates a token and returns it with its secret, which is never shown again.
pub async fn create_token(
    app: &App,
    caller: &Caller,
    name: &str,
    role: StaffRole,
    created_by: Option<StaffId>,
) -> Result<(ApiToken, String), AppError> {
    caller.require(Action::ManageTokens, "create API tokens")?;
    let name = tidings_core::text::identifier(name, 100)
        .map_err(|e| AppError::invalid("name", e.to_string()))?
        .ok_or_else(|| AppError::invalid("name", "is required"))?;
    let plain = new_secret(TOKEN_PREFIX)?;
    let token = ApiToken { id: TokenId::new(), name, role, created_by, created_at: app.clock.now() };
    let mut tx = app.db.begin().await?;
    tokens::insert(&mut tx, &token, &hash_token(&plain)).await?;
    audit::entry(caller, "token.create", token.id.as_uuid()).after(&token).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok((token, plain))
}

/// Revokes the tokens named `name` and creates a fresh one (used by the demo at each start).
pub async fn rotate_token(app: &App, name: &str, role: StaffRole) -> Result<String, AppError> {
    let mut tx = app.db.begin().await?;
    tokens::revoke_by_name(&mut tx, name, app.clock.now()).await?;
    tx.commit().await?;
    let (_, plain) = create_token(app, &Caller::operator(), name, role, None).await?;
    Ok(plain)
}

/// Every API token (never a secret), for those who manage them.
pub async fn list_tokens(app: &App, caller: &Caller) -> Result<Vec<TokenListing>, AppError> {
    caller.require(Action::ManageTokens, "manage API tokens")?;
    Ok(tokens::list(&mut app.db.read().await?).await?)
}

/// Revokes a token: calls made with it are refused from now on.
pub async fn revoke_token(app: &App, caller: &Caller, id: TokenId) -> Result<(), AppError> {
    caller.require(Action::ManageTokens, "revoke API tokens")?;
    let mut tx = app.db.begin().await?;
    tokens::revoke(&mut tx, id, app.clock.now()).await.map_err(crate::error::not_found("live token"))?;
    audit::entry(caller, "token.revoke", id.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}
