//! The audience rule language: who a message is for, as a small typed expression over
//! partner and member fields, such as
//! `partner.tier in ("strategic", "growth") and member.role = "support" and not partner.group = "emea-pilot"`.
//!
//! One typed AST ([`Rule`]) with two consumers: evaluated in memory here (previews and
//! "why is this member in or out"), and compiled to parameterized SQL in the store.

mod ast;
mod audience;
mod draft;
pub(crate) mod eval;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub use ast::{CmpOp, Condition, Field, FieldKind, MemberField, PartnerField, Rule, Test, Value};
pub use audience::{Audience, AudienceExplanation, ConditionOutcome, Part, PartOutcome};
pub use draft::AudienceDraft;
pub use eval::{Explanation, Subject, attribute_number, fold};
pub use parser::{RuleError, parse, parse_condition};
