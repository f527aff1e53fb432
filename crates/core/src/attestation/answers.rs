//! A member's answers to a message's attestation form: checked against the form, kept in
//! one canonical JSON shape (keys sorted, each answer typed), and hashed for the evidence
//! log, so an acknowledgment binds exactly what was answered.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::form::{AttestationForm, FieldKind, TEXT_MAX};
use crate::{FieldErrors, text};

/// Answers as given: by field key, a number, a string or a list of strings.
pub type Given = BTreeMap<String, Value>;

/// One answer, as kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Answer {
    Number(i64),
    /// A text, a single choice or a file reference.
    Text(String),
    /// Several choices, or serial numbers.
    List(Vec<String>),
}

impl Answer {
    /// As a spreadsheet cell or a line of a page shows it.
    pub fn display(&self) -> String {
        match self {
            Self::Number(n) => n.to_string(),
            Self::Text(t) => t.clone(),
            Self::List(items) => items.join("; "),
        }
    }
}

/// Checked answers by field key, in key order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Answers(pub BTreeMap<String, Answer>);

impl Answers {
    /// The canonical JSON the hash covers and the database keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// Hex SHA-256 of a domain tag and the canonical JSON: what the acknowledgment's leaf
    /// holds.
    pub fn hash(&self) -> String {
        let digest = Sha256::new().chain_update(b"tidings attestation\n").chain_update(self.to_json()).finalize();
        hex::encode(digest)
    }
}

fn serial_ok(s: &str) -> bool {
    (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
}

/// The strings of an answer given as one string (a form's textarea: one a line, or
/// separated by commas) or as a list.
fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(s) => {
            Some(s.split(['\n', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
        }
        Value::Array(items) => items.iter().map(|v| v.as_str().map(|s| s.trim().to_owned())).collect(),
        _ => None,
    }
}

fn blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl AttestationForm {
    /// Checks answers given as JSON (from the API, or built from a form's fields) and
    /// returns them in their kept shape; errors name `answers.KEY`.
    pub fn answer(&self, given: &BTreeMap<String, Value>) -> Result<Answers, FieldErrors> {
        let mut errors = FieldErrors::new();
        for key in given.keys() {
            if !self.fields.iter().any(|f| f.key.as_str() == key) {
                errors.add(&format!("answers.{key}"), "is not a field of this form");
            }
        }
        let mut out = BTreeMap::new();
        for field in &self.fields {
            let at = format!("answers.{}", field.key);
            let value = given.get(field.key.as_str()).filter(|v| !blank(v));
            let Some(value) = value else {
                if field.required {
                    errors.add(&at, format!("{} is required", field.label));
                }
                continue;
            };
            let answer = match &field.kind {
                FieldKind::Number { min, max } => {
                    let n = match value {
                        Value::Number(n) => n.as_i64(),
                        Value::String(s) => s.trim().parse::<i64>().ok(),
                        _ => None,
                    };
                    match n {
                        None => Err("must be a whole number".to_owned()),
                        Some(n) if min.is_some_and(|m| n < m) => Err(format!("must be at least {}", min.unwrap_or(n))),
                        Some(n) if max.is_some_and(|m| n > m) => Err(format!("must be at most {}", max.unwrap_or(n))),
                        Some(n) => Ok(Answer::Number(n)),
                    }
                }
                FieldKind::Choice { options, multiple } => match strings(value) {
                    Some(chosen) if chosen.iter().any(|c| !options.contains(c)) => {
                        Err(format!("choose from: {}", options.join(", ")))
                    }
                    Some(chosen) if !multiple && chosen.len() == 1 => Ok(Answer::Text(chosen[0].clone())),
                    Some(_) if !multiple => Err("choose one".to_owned()),
                    // Kept in the form's order, once each, whatever order they came in.
                    Some(chosen) => Ok(Answer::List(options.iter().filter(|o| chosen.contains(o)).cloned().collect())),
                    None => Err(format!("choose from: {}", options.join(", "))),
                },
                FieldKind::Text { max_length } => match value.as_str() {
                    Some(t) => text::required(t, max_length.unwrap_or(TEXT_MAX) as usize)
                        .map(Answer::Text)
                        .map_err(|e| e.to_string()),
                    None => Err("must be text".to_owned()),
                },
                FieldKind::Serials { max } => match strings(value) {
                    Some(list) if list.iter().any(|s| !serial_ok(s)) => {
                        Err("each serial number is 1 to 64 letters, digits, '-', '_', '.' or '/'; one a line"
                            .to_owned())
                    }
                    Some(list) if max.is_some_and(|m| list.len() > m as usize) => {
                        Err(format!("at most {} serial numbers", max.unwrap_or_default()))
                    }
                    Some(mut list) => {
                        let mut seen = std::collections::HashSet::new();
                        list.retain(|s| seen.insert(s.clone()));
                        Ok(Answer::List(list))
                    }
                    None => Err("must be a list of serial numbers".to_owned()),
                },
                FieldKind::FileReference => match value.as_str().map(str::trim) {
                    Some(r) if r.starts_with("http://") || r.starts_with("https://") => {
                        crate::messages::absolute_web_url(r).map(Answer::Text)
                    }
                    Some(r) => text::required(r, 200).map(Answer::Text).map_err(|e| e.to_string()),
                    None => Err("must be a URL or a document reference".to_owned()),
                },
            };
            match answer {
                Ok(a) => {
                    out.insert(field.key.to_string(), a);
                }
                // Named by its label too: a member reads it beside the form, not the key.
                Err(e) => errors.add(&at, format!("{}: {e}", field.label)),
            }
        }
        errors.finish(|| Some(Answers(out)))
    }
}
