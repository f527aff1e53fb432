//! Evidence that holds up without trusting Tidings: an append-only Merkle log of what was
//! released, delivered, read and acknowledged, and signed checkpoints of it.

pub mod facts;
pub mod note;
pub mod tlog;
