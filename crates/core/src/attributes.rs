//! Custom attributes: the vendor's own fields on partners and members (`trained`,
//! `certification_level`), as a small map of scalar values with normalized keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub const MAX_ATTRIBUTES: usize = 100;
pub const MAX_VALUE_CHARS: usize = 1000;

/// An attribute name: lower-case letters, digits and `_`, starting with a letter, up to 64.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
pub struct AttrKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a valid attribute name: use up to 64 lower-case letters, digits and '_', starting with a letter")]
pub struct AttrKeyError(String);

impl AttrKey {
    pub fn parse(text: &str) -> Result<Self, AttrKeyError> {
        let valid = (1..=64).contains(&text.len())
            && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && text.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        if !valid {
            return Err(AttrKeyError(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    /// Turns a spreadsheet header such as `Sales Region` or `Trained?` into `sales_region`/`trained`.
    pub fn from_header(header: &str) -> Result<Self, AttrKeyError> {
        let mut key = String::with_capacity(header.len());
        for c in header.trim().chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                key.push(c);
            } else if !key.is_empty() && !key.ends_with('_') {
                key.push('_');
            }
        }
        let key = key.trim_end_matches('_');
        Self::parse(key).map_err(|_| AttrKeyError(header.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AttrKey {
    type Error = AttrKeyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}
impl From<AttrKey> for String {
    fn from(k: AttrKey) -> String {
        k.0
    }
}
impl fmt::Display for AttrKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A scalar value. Text from CSV files stays text: guessing numbers would turn a
/// postcode such as `01067` into `1067`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AttrValue {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl Eq for AttrValue {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrError {
    #[error(transparent)]
    Key(#[from] AttrKeyError),
    #[error("attribute '{0}' must be text, a number or true/false")]
    NotScalar(String),
    #[error("attribute '{0}' is longer than {MAX_VALUE_CHARS} characters")]
    TooLong(String),
    #[error("attribute '{0}' is not a finite number")]
    NotFinite(String),
    #[error("at most {MAX_ATTRIBUTES} attributes are allowed")]
    TooMany,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attributes(BTreeMap<AttrKey, AttrValue>);

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&AttrKey, &AttrValue)> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sets one attribute; `None` (an empty cell, a JSON null or "") removes it.
    pub fn set(&mut self, key: AttrKey, value: Option<AttrValue>) -> Result<(), AttrError> {
        match value {
            None => {
                self.0.remove(&key);
            }
            Some(AttrValue::Text(t)) if t.trim().is_empty() => {
                self.0.remove(&key);
            }
            Some(AttrValue::Text(t)) if t.chars().count() > MAX_VALUE_CHARS => {
                return Err(AttrError::TooLong(key.0));
            }
            Some(AttrValue::Number(n)) if !n.is_finite() => {
                return Err(AttrError::NotFinite(key.0));
            }
            Some(v) => {
                self.0.insert(key, v);
            }
        }
        if self.0.len() > MAX_ATTRIBUTES {
            return Err(AttrError::TooMany);
        }
        Ok(())
    }

    /// Applies a JSON object as a merge patch: keys set to null or "" are removed.
    pub fn merge_json(&mut self, patch: &BTreeMap<String, serde_json::Value>) -> Result<(), AttrError> {
        for (name, value) in patch {
            let key = AttrKey::parse(name)?;
            let value = match value {
                serde_json::Value::Null => None,
                serde_json::Value::Bool(b) => Some(AttrValue::Bool(*b)),
                serde_json::Value::Number(n) => {
                    Some(AttrValue::Number(n.as_f64().ok_or_else(|| AttrError::NotFinite(name.clone()))?))
                }
                serde_json::Value::String(s) => Some(AttrValue::Text(s.clone())),
                _ => return Err(AttrError::NotScalar(name.clone())),
            };
            self.set(key, value)?;
        }
        Ok(())
    }
}

/// The type an attribute column holds in a CSV file, declared after its name
/// (`trained:bool`, `annual_target_usd:number`); a column without one holds text. The
/// export declares the type of every attribute that is not text, so a file imports back
/// to the same values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttrKind {
    Text,
    Number,
    Bool,
}

impl AttrKind {
    /// A header split into the attribute's name and its declared type.
    pub fn split_header(header: &str) -> (&str, Self) {
        match header.trim().rsplit_once(':') {
            Some((name, "number")) => (name, Self::Number),
            Some((name, "bool")) => (name, Self::Bool),
            Some((name, "text")) => (name, Self::Text),
            _ => (header, Self::Text),
        }
    }

    /// The header the export writes for an attribute of this type.
    pub fn header(self, key: &str) -> String {
        match self {
            Self::Text => key.to_owned(),
            Self::Number => format!("{key}:number"),
            Self::Bool => format!("{key}:bool"),
        }
    }

    /// A cell of this type as the JSON value the attributes take; `Err` with why.
    pub fn cell(self, cell: &str) -> Result<serde_json::Value, String> {
        let cell = cell.trim();
        if cell.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        match self {
            Self::Text => Ok(serde_json::Value::String(cell.to_owned())),
            Self::Number => cell
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .ok_or_else(|| format!("'{cell}' is not a number")),
            Self::Bool => match cell.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(serde_json::Value::Bool(true)),
                "false" | "no" | "0" => Ok(serde_json::Value::Bool(false)),
                _ => Err(format!("'{cell}' is not true or false")),
            },
        }
    }
}

impl AttrValue {
    pub fn kind(&self) -> AttrKind {
        match self {
            Self::Bool(_) => AttrKind::Bool,
            Self::Number(_) => AttrKind::Number,
            Self::Text(_) => AttrKind::Text,
        }
    }
}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_headers_become_attribute_names() {
        let key = |h: &str| AttrKey::from_header(h).ok().map(String::from);
        assert_eq!(key("Sales Region"), Some("sales_region".into()));
        assert_eq!(key(" Trained? "), Some("trained".into()));
        assert_eq!(key("2024 target"), None);
        assert_eq!(key("!!!"), None);
    }

    #[test]
    fn a_merge_patch_sets_and_removes_values() {
        let mut attrs = Attributes::new();
        let patch: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(r#"{"trained": true, "level": 3, "note": "x"}"#).unwrap_or_default();
        assert!(attrs.merge_json(&patch).is_ok());
        assert_eq!(attrs.len(), 3);
        let patch: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(r#"{"note": null, "level": ""}"#).unwrap_or_default();
        assert!(attrs.merge_json(&patch).is_ok());
        assert_eq!(attrs.get("trained"), Some(&AttrValue::Bool(true)));
        assert_eq!(attrs.len(), 1);
    }

    #[test]
    fn nested_values_and_bad_names_are_refused() {
        let mut attrs = Attributes::new();
        let patch: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(r#"{"nested": {"a": 1}}"#).unwrap_or_default();
        assert!(matches!(attrs.merge_json(&patch), Err(AttrError::NotScalar(_))));
        let patch: BTreeMap<String, serde_json::Value> = serde_json::from_str(r#"{"Bad Name": 1}"#).unwrap_or_default();
        assert!(matches!(attrs.merge_json(&patch), Err(AttrError::Key(_))));
    }
}
