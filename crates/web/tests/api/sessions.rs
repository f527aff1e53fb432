//! The portal's session store on both engines: records round-trip, an id is never shared,
//! expired and deleted sessions are gone.

use std::collections::HashMap;

use tidings_web::sessions::DbSessionStore;
use tower_sessions::cookie::time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::SessionStore;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(sessions_round_trip_and_expire);

async fn sessions_round_trip_and_expire(app: TestApp) -> TestApp {
    let store = DbSessionStore::new(app.app.clone());
    let now = OffsetDateTime::from_unix_timestamp(app.app.clock.now().as_millis() / 1000).unwrap();
    let data = HashMap::from([("member".to_owned(), serde_json::json!("0195b3c2-0000-7000-8000-000000000001"))]);
    let mut record = Record { id: Id::default(), data: data.clone(), expiry_date: now + Duration::hours(1) };
    store.create(&mut record).await.unwrap();
    let loaded = store.load(&record.id).await.unwrap().expect("the session");
    assert_eq!((loaded.data, loaded.expiry_date), (data, record.expiry_date));

    // Creating with an id that is taken draws another instead of overwriting.
    let mut twin = Record { id: record.id, data: HashMap::new(), expiry_date: now + Duration::hours(1) };
    store.create(&mut twin).await.unwrap();
    assert_ne!(twin.id, record.id);
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().data.len(), 1);

    record.data.insert("csrf".into(), serde_json::json!("t0k3n"));
    store.save(&record).await.unwrap();
    assert_eq!(store.load(&record.id).await.unwrap().unwrap().data.len(), 2);

    let expired = Record { id: Id::default(), data: HashMap::new(), expiry_date: now - Duration::seconds(1) };
    store.save(&expired).await.unwrap();
    assert!(store.load(&expired.id).await.unwrap().is_none(), "an expired session does not load");

    store.delete(&record.id).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
    app
}
