//! Messages: what a vendor says to partners, how much it matters, and where it is in its
//! life. Rendering, personalization and delivery build on these types.

mod content;
mod importance;
mod lifecycle;

pub use content::{Acknowledgment, CallToAction, Content, ContentDraft, Variant, VariantDraft};
pub use importance::Importance;
pub use lifecycle::{MessageError, MessageState};
