//! Browser sessions (portal and console) kept in the database: the web layer's session
//! store calls these, each in its own transaction. A session names its owner, the person
//! it signs in, so a password change can sign them out everywhere else.

use tidings_core::{MemberId, StaffId, Timestamp};
use tidings_store::sessions as store;

use crate::{App, AppError};

/// Who a session signs in, as sessions name their owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Member(MemberId),
    Staff(StaffId),
}

impl Owner {
    pub fn key(self) -> String {
        match self {
            Self::Member(id) => format!("member:{id}"),
            Self::Staff(id) => format!("staff:{id}"),
        }
    }
}

/// Stores a new session under `id`; `false` when the id is taken (draw another).
pub async fn create(
    app: &App,
    id: &str,
    data: &str,
    expires_at: Timestamp,
    owner: Option<Owner>,
) -> Result<bool, AppError> {
    let mut tx = app.db.begin().await?;
    let created = store::create(&mut tx, id, data, expires_at, owner.map(Owner::key).as_deref()).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn save(
    app: &App,
    id: &str,
    data: &str,
    expires_at: Timestamp,
    owner: Option<Owner>,
) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::save(&mut tx, id, data, expires_at, owner.map(Owner::key).as_deref()).await?;
    tx.commit().await?;
    Ok(())
}

/// The session's data and when it expires, if it exists and has not expired.
pub async fn load(app: &App, id: &str) -> Result<Option<(String, Timestamp)>, AppError> {
    let mut tx = app.db.read().await?;
    Ok(store::load(&mut tx, id, app.clock.now()).await?)
}

pub async fn delete(app: &App, id: &str) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::delete(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Signs `owner` out of every session but `keep` (the one asking, if any), in `tx`.
pub(crate) async fn end_for(tx: &mut tidings_store::Tx, owner: Owner, keep: Option<&str>) -> Result<u64, AppError> {
    Ok(store::end_for(tx, &owner.key(), keep).await?)
}
