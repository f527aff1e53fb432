//! Messages: what a vendor says to partners, how much it matters, and where it is in its
//! life. Rendering, personalization and delivery build on these types.

mod content;
mod correction;
pub mod diff;
mod importance;
mod lifecycle;
mod message;
mod render;

pub use content::absolute_web_url;
pub use content::{Acknowledgment, CallToAction, Content, ContentDraft, Variant, VariantDraft};
pub use correction::{Correction, CorrectionDraft, CorrectionKind};
pub use importance::Importance;
pub use lifecycle::{MessageError, MessageState};
pub use message::{AcknowledgmentDraft, Message, MessageDraft, TriggeredBy};
pub use render::{
    MemberFields, PartnerFields, Personalization, RenderError, Rendered, check, headline, render, template_tags,
};
