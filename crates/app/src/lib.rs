//! Use cases: each public function checks who is asking, applies the domain rules and
//! writes through the store in one transaction.

pub mod auth;
pub mod clock;
pub mod demo;
mod error;
pub mod export;
pub mod groups;
pub mod import;
pub mod members;
pub mod partners;
pub mod topics;

use std::sync::Arc;

use tidings_core::Catalog;
use tidings_store::Db;

pub use auth::Caller;
pub use clock::Clock;
pub use error::AppError;

/// Everything a use case needs, passed explicitly; cheap to clone.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub clock: Clock,
    pub catalog: Arc<Catalog>,
}

impl App {
    pub fn new(db: Db, catalog: Catalog) -> Self {
        Self { db, clock: Clock::System, catalog: Arc::new(catalog) }
    }
}
