//! The attestation form on the pages where a member acknowledges (the portal's message
//! page and the page a message's link opens): its fields as inputs, the answers read back
//! from the posted form, and the answers given shown once acknowledged.

use tidings_core::attestation::{Answers, AttestationForm, FieldKind, Given};

/// Posted fields named `answer.KEY` carry the answers.
const PREFIX: &str = "answer.";

/// One field as the page shows it.
pub(crate) struct AskedField {
    pub name: String,
    pub label: String,
    /// `number`, `choice`, `choices`, `text`, `serials` or `file`.
    pub kind: &'static str,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub options: Vec<String>,
    pub max_length: u32,
    pub required: bool,
}

pub(crate) fn fields(form: Option<&AttestationForm>) -> Vec<AskedField> {
    let Some(form) = form else { return Vec::new() };
    form.fields
        .iter()
        .map(|f| {
            let (kind, min, max, options, max_length) = match &f.kind {
                FieldKind::Number { min, max } => ("number", *min, *max, Vec::new(), 0),
                FieldKind::Choice { options, multiple } => {
                    (if *multiple { "choices" } else { "choice" }, None, None, options.clone(), 0)
                }
                FieldKind::Text { max_length } => ("text", None, None, Vec::new(), max_length.unwrap_or(1_000)),
                FieldKind::Serials { .. } => ("serials", None, None, Vec::new(), 0),
                FieldKind::FileReference => ("file", None, None, Vec::new(), 2_000),
            };
            AskedField {
                name: format!("{PREFIX}{}", f.key),
                label: f.label.clone(),
                kind,
                min,
                max,
                options,
                max_length,
                required: f.required,
            }
        })
        .collect()
}

/// The answers in a posted form: a field given once is a string, one given more often
/// (boxes ticked) a list.
pub(crate) fn answers_from(pairs: &[(String, String)]) -> Given {
    let mut given = Given::new();
    for (name, value) in pairs {
        let Some(key) = name.strip_prefix(PREFIX) else { continue };
        let value = serde_json::Value::String(value.clone());
        match given.get_mut(key) {
            None => {
                given.insert(key.to_owned(), value);
            }
            Some(serde_json::Value::Array(list)) => list.push(value),
            Some(first) => *first = serde_json::Value::Array(vec![first.take(), value]),
        }
    }
    given
}

/// The answers a member gave, label by label, as the page states them.
pub(crate) fn stated(form: Option<&AttestationForm>, answers: Option<&Answers>) -> Vec<(String, String)> {
    let (Some(form), Some(answers)) = (form, answers) else { return Vec::new() };
    form.fields.iter().filter_map(|f| answers.0.get(f.key.as_str()).map(|a| (f.label.clone(), a.display()))).collect()
}
