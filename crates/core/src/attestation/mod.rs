//! Action attestation: a must-know message asks members to state what they did when they
//! acknowledge ("units quarantined: 14"), in a short form whose answers are checked, kept
//! with the acknowledgment, hashed into its evidence leaf and added up per partner.

mod answers;
mod form;
mod rollup;

pub use answers::{Answer, Answers, Given};
pub use form::{AttestationField, AttestationForm, FieldKind};
pub use rollup::{Chosen, FieldTotal, Rollup};

#[cfg(test)]
mod tests;
