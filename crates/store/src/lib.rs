//! The only crate that knows SQL. One API over SQLite (the embedded default) and
//! PostgreSQL; each query is written once in the subset both engines accept, and the few
//! dialect differences are named side by side where they occur.

mod backup;
mod copy_in;
mod db;
mod error;
mod keyed;
mod migrations;
mod sql;

pub mod approvals;
pub mod audiences;
pub mod audit;
pub mod channel_setup;
pub mod compliance;
pub mod consent;
pub mod corrections;
pub mod deliveries;
pub mod engagement;
pub mod events;
pub mod evidence;
pub mod groups;
pub mod inbox;
pub mod jobs;
pub mod ladders;
pub mod members;
pub mod messages;
pub mod nodes;
pub mod nominees;
pub mod obligations;
pub mod partner_channels;
pub mod partner_defaults;
pub mod partner_events;
pub mod partners;
pub mod passwords;
pub mod push;
pub mod references;
pub mod reports;
pub mod segments;
pub mod sequences;
pub mod sessions;
pub mod settings;
pub mod sign_in;
pub mod sign_in_attempts;
pub mod staff;
pub mod staff_notices;
pub mod statistics;
pub mod suppressions;
pub mod system;
pub mod tasks;
pub mod team;
pub mod tokens;
pub mod topics;
pub mod triggers;
pub mod versions;
pub mod waivers;
pub mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Db, Dialect, PoolUse, Tx, migration_names};
pub use error::{Error, Result};
pub use migrations::Migration;
pub use sql::Page;
