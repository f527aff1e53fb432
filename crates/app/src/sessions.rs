//! Browser sessions (portal and console) kept in the database: the web layer's session
//! store calls these, each in its own transaction.

use tidings_core::Timestamp;
use tidings_store::sessions as store;

use crate::{App, AppError};

/// Stores a new session under `id`; `false` when the id is taken (draw another).
pub async fn create(app: &App, id: &str, data: &str, expires_at: Timestamp) -> Result<bool, AppError> {
    let mut tx = app.db.begin().await?;
    let created = store::create(&mut tx, id, data, expires_at).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn save(app: &App, id: &str, data: &str, expires_at: Timestamp) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    store::save(&mut tx, id, data, expires_at).await?;
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
