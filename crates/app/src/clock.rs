//! Where "now" comes from: the system clock, or a fixed time in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tidings_core::Timestamp;

#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn fixed(at: Timestamp) -> Self {
        Self::Fixed(Arc::new(AtomicI64::new(at.as_millis())))
    }

    pub fn now(&self) -> Timestamp {
        match self {
            Self::System => Timestamp::now(),
            Self::Fixed(ms) => Timestamp::from_millis(ms.load(Ordering::Relaxed)),
        }
    }

    /// Moves a fixed clock forward; a system clock ignores it.
    pub fn advance(&self, millis: i64) {
        if let Self::Fixed(ms) = self {
            ms.fetch_add(millis, Ordering::Relaxed);
        }
    }
}
