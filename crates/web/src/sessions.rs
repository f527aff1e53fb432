//! Portal sessions for tower-sessions, kept in the database through the app (one table
//! on either engine), so any server node can serve any member and a restart signs nobody
//! out. The session id is tower-sessions' random 128-bit id; its data is stored as JSON.

use std::collections::HashMap;

use async_trait::async_trait;
use tidings_app::App;
use tidings_app::sessions::{self, Owner};
use tidings_core::{MemberId, StaffId, Timestamp};
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore {
    app: App,
}

impl DbSessionStore {
    pub fn new(app: App) -> Self {
        Self { app }
    }
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

fn expiry(record: &Record) -> Timestamp {
    Timestamp::from_millis((record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The person the session signs in: the portal keeps a member under `member`, the console
/// a staff person under `staff`.
fn owner(record: &Record) -> Option<Owner> {
    let id = |key: &str| record.data.get(key).and_then(|v| serde_json::from_value::<uuid::Uuid>(v.clone()).ok());
    id(crate::portal::visitor::MEMBER)
        .map(|m| Owner::Member(MemberId::from_uuid(m)))
        .or_else(|| id(crate::admin::console::STAFF).map(|s| Owner::Staff(StaffId::from_uuid(s))))
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// Draws a new id until one is free: two sessions never share an id.
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        while !sessions::create(&self.app, &record.id.to_string(), &data, expiry(record), owner(record))
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let id = record.id.to_string();
        sessions::save(&self.app, &id, &encode(record)?, expiry(record), owner(record)).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some((data, expires)) = sessions::load(&self.app, &id.to_string()).await.map_err(backend)? else {
            return Ok(None);
        };
        let data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires.as_millis()) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::delete(&self.app, &id.to_string()).await.map_err(backend)
    }
}
