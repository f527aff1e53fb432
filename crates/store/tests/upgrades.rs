//! Upgrades keep what was there: each test fills a database as an earlier version left it,
//! applies the remaining migrations, and reads the rows back through the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use tidings_core::consent::Channel;
use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::{MemberId, MessageId};
use tidings_store::deliveries::{self, DeliveryKey};
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Dialect, reports};

#[tokio::test]
async fn sqlite_deliveries_from_before_purposes_are_first_sends() {
    deliveries_from_before_purposes_are_first_sends(Engine::Sqlite).await;
}

#[tokio::test]
async fn postgres_deliveries_from_before_purposes_are_first_sends() {
    deliveries_from_before_purposes_are_first_sends(Engine::Postgres).await;
}

async fn deliveries_from_before_purposes_are_first_sends(engine: Engine) {
    let Some(t) = TestDb::new_at(engine, 16).await else { return };
    let (message, member) = (MessageId::new(), MemberId::new());
    let uuid = |id: uuid::Uuid| match t.db.dialect() {
        Dialect::Sqlite => format!("x'{}'", id.simple()),
        Dialect::Postgres => format!("'{id}'::uuid"),
    };
    let (m, r) = (uuid(message.as_uuid()), uuid(member.as_uuid()));
    t.db.execute_raw(&format!(
        "insert into deliveries (message_id, member_id, channel, status, attempts, due_at, provider_id, error, \
         updated_at) values ({m}, {r}, 'email', 'sent', 2, null, 'pid-1', null, 1000); \
         insert into message_rollups (message_id, partner_id, roles, hour, channel, status, deliveries) \
         values ({m}, {nil}, -1, -1, 'email', 'sent', 1); \
         insert into events (message_id, member_id, channel, kind, at) values ({m}, {r}, 'email', 'sent', 1000)",
        nil = uuid(uuid::Uuid::nil()),
    ))
    .await
    .unwrap();
    t.db.migrate().await.unwrap();

    let mut tx = t.db.read().await.unwrap();
    let key =
        DeliveryKey { message_id: message, member_id: member, channel: Channel::Email, purpose: Purpose::Initial };
    let d = deliveries::get(&mut tx, key).await.unwrap();
    assert_eq!((d.status, d.attempts, d.provider_id.as_deref()), (DeliveryStatus::Sent, 2, Some("pid-1")));
    assert_eq!(deliveries::of_message(&mut tx, message).await.unwrap().len(), 1);
    let counts = reports::of_message(&mut tx, message).await.unwrap();
    let sent = counts
        .iter()
        .find(|(k, _)| matches!(k, reports::Key::Delivery { status: DeliveryStatus::Sent, .. }))
        .map(|(_, c)| c.deliveries);
    assert_eq!(sent, Some(1), "{counts:?}");
    let events = tidings_store::events::list(&mut tx, message, &Default::default(), None, None).await.unwrap();
    assert_eq!(events.items.len(), 1);
    assert_eq!(events.items[0].purpose, None);
    drop(tx);
    t.cleanup().await;
}
