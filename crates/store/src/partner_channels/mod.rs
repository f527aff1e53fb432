//! Partners' shared Teams and Slack channels: the webhook each partner bound (`bindings`)
//! and the posts of messages to them (`posts`), a partner-level ledger beside the
//! per-member deliveries, with the same states, lease and retries.

mod bindings;
mod posts;

pub use bindings::{Binding, all, any_bound, bind, get, of_partner, unbind};
pub use posts::{
    ClaimedPost, Post, SettledPost, claim, counts, of_message, posted_partners, queue_for_release, settle,
};
