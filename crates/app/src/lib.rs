//! Use cases: each public function checks who is asking, applies the domain rules and
//! writes through the store in one transaction.

pub mod audiences;
pub mod auth;
pub mod clock;
pub mod consent;
pub mod demo;
mod error;
pub mod export;
pub mod groups;
pub mod import;
pub mod members;
pub mod messages;
pub mod partners;
pub mod segments;
pub mod topics;

use std::sync::Arc;

use tidings_core::Catalog;
use tidings_core::audiences::Rule;
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
    /// Members no audience ever includes (configured), such as the vendor's own sales reps.
    pub default_exclusion: Option<Arc<Rule>>,
    /// Accepting the terms and conditions also opts the member in to email (when the
    /// terms the vendor shows say so).
    pub terms_imply_email_opt_in: bool,
}

impl App {
    pub fn new(db: Db, catalog: Catalog) -> Self {
        Self {
            db,
            clock: Clock::System,
            catalog: Arc::new(catalog),
            default_exclusion: None,
            terms_imply_email_opt_in: false,
        }
    }

    /// Sets the default exclusion from rule text, refusing a rule that does not parse.
    pub fn with_default_exclusion(mut self, rule: Option<&str>) -> Result<Self, tidings_core::audiences::RuleError> {
        self.default_exclusion = match rule.map(str::trim).filter(|r| !r.is_empty()) {
            Some(text) => Some(Arc::new(tidings_core::audiences::parse(text, &self.catalog)?)),
            None => None,
        };
        Ok(self)
    }
}
