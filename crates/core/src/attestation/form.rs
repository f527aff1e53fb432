//! The short form a must-know message can ask members to fill in when they acknowledge
//! ("units quarantined: 14"): up to ten fields, each a whole number, a choice, a text,
//! serial numbers or a file reference. Authors write it as JSON, or in the console one
//! field a line: `key | Label | type [details] | optional`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Slug, text};

pub const FIELDS_MAX: usize = 10;
pub const LABEL_MAX: usize = 200;
pub const OPTIONS_MAX: usize = 20;
pub const OPTION_MAX: usize = 100;
/// A text answer's length when the field sets none.
pub const TEXT_MAX: u32 = 1_000;
pub const SERIALS_MAX: u32 = 1_000;

/// What a field asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FieldKind {
    /// A whole number, within the bounds given.
    Number { min: Option<i64>, max: Option<i64> },
    /// One of the options, or several with `multiple`.
    Choice {
        options: Vec<String>,
        #[serde(default)]
        multiple: bool,
    },
    /// Free text, at most `max_length` characters (1,000 when not given).
    Text { max_length: Option<u32> },
    /// Serial numbers (letters, digits, `-`, `_`, `.`, `/`), at most `max` of them.
    Serials { max: Option<u32> },
    /// Where a document is: an http(s) URL or a reference such as `DMS-2026-0042`.
    FileReference,
}

/// A field. Unknown names are refused by its kind, which takes every name the field
/// does not (serde cannot refuse them here, beside a flattened kind).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttestationField {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "units_quarantined"))]
    pub key: Slug,
    pub label: String,
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Whether an acknowledgment needs an answer to it (true unless said otherwise).
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// The form: its fields in the order members see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttestationForm {
    pub fields: Vec<AttestationField>,
}

impl AttestationForm {
    /// Checks the form as an author gave it; errors name `at.fields.N.part`.
    pub fn validate(&self, at: &str, errors: &mut FieldErrors) -> Option<Self> {
        let before = errors.len();
        if self.fields.is_empty() || self.fields.len() > FIELDS_MAX {
            errors.add(&format!("{at}.fields"), format!("must have 1 to {FIELDS_MAX} fields"));
        }
        let mut fields = Vec::with_capacity(self.fields.len());
        for (i, f) in self.fields.iter().enumerate() {
            let here = |part: &str| format!("{at}.fields.{i}.{part}");
            if self.fields[..i].iter().any(|g| g.key == f.key) {
                errors.add(&here("key"), format!("'{}' is used twice", f.key));
            }
            let label = errors.check(&here("label"), text::required(&f.label, LABEL_MAX));
            match &f.kind {
                FieldKind::Number { min: Some(min), max: Some(max) } if min > max => {
                    errors.add(&here("max"), "is below min");
                }
                FieldKind::Choice { options, .. } => {
                    if options.is_empty() || options.len() > OPTIONS_MAX {
                        errors.add(&here("options"), format!("must have 1 to {OPTIONS_MAX} options"));
                    }
                    for (j, o) in options.iter().enumerate() {
                        match text::required(o, OPTION_MAX) {
                            Ok(t) if t != *o => errors.add(&here("options"), format!("'{o}' has spaces around it")),
                            Ok(_) if options[..j].contains(o) => {
                                errors.add(&here("options"), format!("'{o}' is listed twice"));
                            }
                            Ok(_) => {}
                            Err(e) => errors.add(&here("options"), e.to_string()),
                        }
                    }
                }
                FieldKind::Text { max_length: Some(0) } | FieldKind::Serials { max: Some(0) } => {
                    errors.add(&here("max"), "must be at least 1");
                }
                FieldKind::Text { max_length: Some(n) } if *n > 20_000 => {
                    errors.add(&here("max_length"), "must be at most 20000");
                }
                FieldKind::Serials { max: Some(n) } if *n > SERIALS_MAX => {
                    errors.add(&here("max"), format!("must be at most {SERIALS_MAX}"));
                }
                _ => {}
            }
            if let Some(label) = label {
                fields.push(AttestationField { label, ..f.clone() });
            }
        }
        (errors.len() == before).then_some(Self { fields })
    }

    /// The form from the console's lines, one field a line:
    /// `key | Label | type [details] | optional`, where type is `number [MIN..MAX]`,
    /// `choice A, B, C`, `choices A, B, C` (several may be chosen), `text [MAX]`,
    /// `serials [MAX]` or `file`. Blank lines are skipped; errors name the line.
    pub fn parse_lines(text: &str) -> Result<Option<Self>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut fields = Vec::new();
        for (n, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())) {
            if line.is_empty() {
                continue;
            }
            match parse_line(line) {
                Ok(f) => fields.push(f),
                Err(e) => errors.add("acknowledgment.attestation", format!("line {n}: {e}")),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if fields.is_empty() {
            return Ok(None);
        }
        let form = Self { fields };
        form.validate("acknowledgment.attestation", &mut errors).map(Some).ok_or(errors)
    }
}

fn parse_line(line: &str) -> Result<AttestationField, String> {
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    let (key, label, kind, rest) = match parts.as_slice() {
        [key, label, kind, rest @ ..] => (key, label, kind, rest),
        _ => return Err("write key | Label | type, such as: units | Units quarantined | number 0..100000".into()),
    };
    let key = Slug::parse(key).map_err(|e| e.to_string())?;
    let required = match rest {
        [] => true,
        ["optional"] => false,
        _ => return Err("after the type only 'optional' may follow".into()),
    };
    let (name, details) = kind.split_once(char::is_whitespace).map_or((*kind, ""), |(n, d)| (n, d.trim()));
    let whole = |s: &str| s.trim().parse::<i64>().map_err(|_| format!("'{s}' is not a whole number"));
    let count = |s: &str| s.trim().parse::<u32>().map_err(|_| format!("'{s}' is not a whole number"));
    let kind = match name {
        "number" if details.is_empty() => FieldKind::Number { min: None, max: None },
        "number" => {
            let (min, max) = details.split_once("..").ok_or("give bounds as MIN..MAX, such as 0..100000")?;
            let bound = |s: &str| if s.trim().is_empty() { Ok(None) } else { whole(s).map(Some) };
            FieldKind::Number { min: bound(min)?, max: bound(max)? }
        }
        "choice" | "choices" => FieldKind::Choice {
            options: details.split(',').map(str::trim).filter(|o| !o.is_empty()).map(str::to_owned).collect(),
            multiple: name == "choices",
        },
        "text" => FieldKind::Text { max_length: (!details.is_empty()).then(|| count(details)).transpose()? },
        "serials" => FieldKind::Serials { max: (!details.is_empty()).then(|| count(details)).transpose()? },
        "file" => FieldKind::FileReference,
        other => return Err(format!("'{other}' is not a field type: number, choice, choices, text, serials or file")),
    };
    Ok(AttestationField { key, label: (*label).to_owned(), kind, required })
}

/// The console's lines for a form, which `parse_lines` reads back.
impl fmt::Display for AttestationForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for field in &self.fields {
            let kind = match &field.kind {
                FieldKind::Number { min: None, max: None } => "number".to_owned(),
                FieldKind::Number { min, max } => format!(
                    "number {}..{}",
                    min.map(|m| m.to_string()).unwrap_or_default(),
                    max.map(|m| m.to_string()).unwrap_or_default()
                ),
                FieldKind::Choice { options, multiple } => {
                    format!("{} {}", if *multiple { "choices" } else { "choice" }, options.join(", "))
                }
                FieldKind::Text { max_length: None } => "text".to_owned(),
                FieldKind::Text { max_length: Some(n) } => format!("text {n}"),
                FieldKind::Serials { max: None } => "serials".to_owned(),
                FieldKind::Serials { max: Some(n) } => format!("serials {n}"),
                FieldKind::FileReference => "file".to_owned(),
            };
            let optional = if field.required { "" } else { " | optional" };
            writeln!(f, "{} | {} | {kind}{optional}", field.key, field.label)?;
        }
        Ok(())
    }
}
