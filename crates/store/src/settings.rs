//! Instance-wide values the program creates once and keeps, such as its signing key.

use crate::db::on_tx;
use crate::{Result, Tx};

/// The value under `key`, storing `make()` first if there is none. Two processes racing
/// agree on whichever value was stored first.
pub async fn get_or_insert(tx: &mut Tx, key: &str, make: impl FnOnce() -> String) -> Result<String> {
    on_tx!(tx, |c| sqlx::query("insert into settings (key, value) values ($1, $2) on conflict do nothing")
        .bind(key)
        .bind(make())
        .execute(c)
        .await
        .map(|_| ()))?;
    let value: String =
        on_tx!(tx, |c| sqlx::query_scalar("select value from settings where key = $1").bind(key).fetch_one(c).await)?;
    Ok(value)
}

/// Replaces the value under `key` (or stores it).
pub async fn put(tx: &mut Tx, key: &str, value: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query(
        "insert into settings (key, value) values ($1, $2) on conflict (key) do update set value = excluded.value"
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// Removes the value under `key`, if any.
pub async fn delete(tx: &mut Tx, key: &str) -> Result<()> {
    on_tx!(tx, |c| sqlx::query("delete from settings where key = $1").bind(key).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// The value under `key`, if any.
pub async fn get(tx: &mut Tx, key: &str) -> Result<Option<String>> {
    let value: Option<String> = on_tx!(tx, |c| sqlx::query_scalar("select value from settings where key = $1")
        .bind(key)
        .fetch_optional(c)
        .await)?;
    Ok(value)
}

/// A setting kept as JSON: the value under `key`, or the default when none is stored.
pub async fn get_json<T: serde::de::DeserializeOwned + Default>(tx: &mut Tx, key: &str) -> Result<T> {
    match get(tx, key).await? {
        Some(text) => serde_json::from_str(&text).map_err(|e| crate::Error::corrupt(format!("setting {key}: {e}"))),
        None => Ok(T::default()),
    }
}

/// Replaces a setting kept as JSON.
pub async fn put_json<T: serde::Serialize>(tx: &mut Tx, key: &str, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| crate::Error::corrupt(format!("setting {key}: {e}")))?;
    put(tx, key, &text).await
}
