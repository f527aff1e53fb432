//! Webhook endpoints, their subscriptions (`endpoints`) and the outbox of signed requests
//! to them (`outbox`): written in the transaction of the change each reports.

mod endpoints;
mod outbox;

pub use endpoints::{Endpoint, EndpointChange, delete, get, insert, list, secret, update};
pub use outbox::{
    Claimed, Scope, Settled, WebhookDelivery, any_subscribed, claim, enqueue, enqueue_test, log, settle, webhook_id,
};
