//! Events about a partner or one of its people, as the vendor's CRM or PRM posts them.
//! Each type says what its data holds: the built-in ones below, and custom types an
//! admin declares with a schema of their own. An event is checked against its type's
//! schema before it is stored, so a trigger never meets a rejection without a reason.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{AttrKey, AttrValue, Attributes, FieldErrors, MemberId, PartnerEventId, PartnerId, Timestamp};

/// The most an event's data may weigh as JSON: a CRM record's summary, not a document.
pub const MAX_DATA_BYTES: usize = 16 * 1024;
/// The longest idempotency key.
pub const MAX_KEY_CHARS: usize = 200;

/// An event's type: a built-in one (`deal.rejected`) or a custom one an admin declared
/// (`quote.sent`): lower-case words joined by dots, at least two.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(as = PartnerEventType, value_type = String, example = "deal.rejected")
)]
pub struct EventType(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not an event type name: use lower-case words of letters, digits and '_' joined by dots, such as deal.rejected (at most 64 characters)"
)]
pub struct EventTypeError(String);

impl EventType {
    pub fn parse(text: &str) -> Result<Self, EventTypeError> {
        let text = text.trim();
        let words: Vec<&str> = text.split('.').collect();
        let word_ok = |w: &&str| AttrKey::parse(w).is_ok();
        if text.len() > 64 || words.len() < 2 || !words.iter().all(word_ok) {
            return Err(EventTypeError(text.to_owned()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The schema of a built-in type; `None` for a custom one.
    pub fn built_in(&self) -> Option<EventSchema> {
        BUILT_IN.iter().find(|t| t.name == self.0).map(BuiltIn::schema)
    }
}

impl TryFrom<String> for EventType {
    type Error = EventTypeError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<EventType> for String {
    fn from(t: EventType) -> Self {
        t.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What sort of value a data field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DataKind {
    Text,
    Number,
    Boolean,
    /// An RFC 3339 time or a date, given as text.
    Time,
}

impl DataKind {
    fn describe(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "a number",
            Self::Boolean => "true or false",
            Self::Time => "a time (RFC 3339, such as 2026-12-24T09:00:00Z) or a date",
        }
    }
}

/// One field of an event's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldSpec {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "reason"))]
    pub name: AttrKey,
    #[serde(rename = "type")]
    pub kind: DataKind,
    #[serde(default)]
    pub required: bool,
}

/// What an event type's data holds. Fields it does not name may come along (a template
/// can show them); the named ones are checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventSchema {
    pub fields: Vec<FieldSpec>,
}

/// The most fields a declared schema names.
const MOST_FIELDS: usize = 50;

impl EventSchema {
    /// Checks a declared schema: distinct names, not too many.
    pub fn validate(&self, errors: &mut FieldErrors) {
        if self.fields.len() > MOST_FIELDS {
            errors.add("schema.fields", format!("may name at most {MOST_FIELDS} fields"));
        }
        for (i, f) in self.fields.iter().enumerate() {
            if self.fields[..i].iter().any(|g| g.name == f.name) {
                errors.add(&format!("schema.fields[{i}].name"), format!("'{}' is named twice", f.name.as_str()));
            }
        }
    }

    /// Checks `data` (a JSON object) against the schema, naming each field at fault as
    /// `data.<name>`.
    pub fn check(&self, data: &serde_json::Value, errors: &mut FieldErrors) {
        let Some(object) = data.as_object() else {
            errors.add("data", "must be a JSON object");
            return;
        };
        if serde_json::to_vec(data).map_or(0, |v| v.len()) > MAX_DATA_BYTES {
            errors.add("data", format!("must be at most {} kB as JSON", MAX_DATA_BYTES / 1024));
        }
        for spec in &self.fields {
            let at = format!("data.{}", spec.name.as_str());
            match object.get(spec.name.as_str()) {
                None | Some(serde_json::Value::Null) => {
                    if spec.required {
                        errors.add(&at, format!("is required: {}", spec.kind.describe()));
                    }
                }
                Some(serde_json::Value::String(s)) if spec.required && s.trim().is_empty() => {
                    errors.add(&at, "is required and must not be empty");
                }
                Some(value) => {
                    if !holds(spec.kind, value) {
                        errors.add(&at, format!("must be {}", spec.kind.describe()));
                    }
                }
            }
        }
    }

    /// Sample data with every field filled, to check a template against before any event
    /// of the type has come in.
    pub fn sample(&self) -> serde_json::Value {
        let fields = self.fields.iter().map(|f| {
            let value = match f.kind {
                DataKind::Text => serde_json::json!("sample"),
                DataKind::Number => serde_json::json!(1),
                DataKind::Boolean => serde_json::json!(true),
                DataKind::Time => serde_json::json!("2026-12-24T09:00:00Z"),
            };
            (f.name.as_str().to_owned(), value)
        });
        serde_json::Value::Object(fields.collect())
    }

    /// The data as a template reads it: every field the schema names is there (an absent
    /// optional one as ""), so `{{ event.amount }}` never fails on an event that left it out.
    pub fn for_template(&self, data: &serde_json::Value) -> serde_json::Value {
        let mut object = data.as_object().cloned().unwrap_or_default();
        for f in &self.fields {
            let absent = object.get(f.name.as_str()).is_none_or(serde_json::Value::is_null);
            if absent {
                object.insert(f.name.as_str().to_owned(), serde_json::json!(""));
            }
        }
        serde_json::Value::Object(object)
    }
}

fn holds(kind: DataKind, value: &serde_json::Value) -> bool {
    match (kind, value) {
        (DataKind::Text, serde_json::Value::String(s)) => s.chars().count() <= 2_000,
        (DataKind::Number, serde_json::Value::Number(n)) => n.as_f64().is_some_and(f64::is_finite),
        (DataKind::Boolean, serde_json::Value::Bool(_)) => true,
        (DataKind::Time, serde_json::Value::String(s)) => Timestamp::parse(s).is_ok(),
        _ => false,
    }
}

/// The data's top-level text, number and true/false fields, as a trigger's condition reads
/// them (`event.progress >= 0.8`); nested values and names that are not attribute names
/// are left out.
pub fn condition_fields(data: &serde_json::Value) -> Attributes {
    let mut out = Attributes::new();
    for (name, value) in data.as_object().into_iter().flatten() {
        let Ok(key) = AttrKey::parse(name) else { continue };
        let value = match value {
            serde_json::Value::String(s) => AttrValue::Text(s.clone()),
            serde_json::Value::Number(n) => match n.as_f64() {
                Some(n) => AttrValue::Number(n),
                None => continue,
            },
            serde_json::Value::Bool(b) => AttrValue::Bool(*b),
            _ => continue,
        };
        // Too long a text or an odd number is left out rather than failing the event.
        let _ = out.set(key, Some(value));
    }
    out
}

/// A built-in type: its name, what it means, and its fields.
#[derive(Debug, Clone, Copy)]
pub struct BuiltIn {
    pub name: &'static str,
    pub description: &'static str,
    /// (name, kind, required)
    pub fields: &'static [(&'static str, DataKind, bool)],
}

impl BuiltIn {
    pub fn schema(&self) -> EventSchema {
        let fields = self
            .fields
            .iter()
            .filter_map(|(name, kind, required)| {
                AttrKey::parse(name).ok().map(|name| FieldSpec { name, kind: *kind, required: *required })
            })
            .collect();
        EventSchema { fields }
    }
}

use DataKind::{Number, Text, Time};

/// The event types every Tidings knows.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        name: "deal.registered",
        description: "A partner registered a deal.",
        fields: &[
            ("deal_id", Text, true),
            ("deal_name", Text, false),
            ("customer", Text, false),
            ("amount", Number, false),
            ("currency", Text, false),
        ],
    },
    BuiltIn {
        name: "deal.approved",
        description: "The vendor approved a registered deal.",
        fields: &[
            ("deal_id", Text, true),
            ("deal_name", Text, false),
            ("customer", Text, false),
            ("amount", Number, false),
            ("currency", Text, false),
            ("expires_on", Time, false),
        ],
    },
    BuiltIn {
        name: "deal.rejected",
        description: "The vendor rejected a registered deal, and says why.",
        fields: &[
            ("deal_id", Text, true),
            ("reason", Text, true),
            ("deal_name", Text, false),
            ("customer", Text, false),
        ],
    },
    BuiltIn {
        name: "incentive.progress",
        description: "How far a partner (or member) is towards an incentive's target, as a fraction (0.8 is 80 %).",
        fields: &[
            ("program", Text, true),
            ("progress", Number, true),
            ("target", Number, false),
            ("achieved", Number, false),
            ("ends_on", Time, false),
        ],
    },
    BuiltIn {
        name: "claim.deadline",
        description: "A claim (rebate, MDF, warranty) must be filed by a deadline.",
        fields: &[
            ("claim_id", Text, true),
            ("deadline", Time, true),
            ("program", Text, false),
            ("amount", Number, false),
            ("currency", Text, false),
        ],
    },
    BuiltIn {
        name: "training.completed",
        description: "A member completed a training course.",
        fields: &[("course", Text, true), ("score", Number, false)],
    },
    BuiltIn { name: "partner.created", description: "A partner joined the program.", fields: &[] },
    BuiltIn { name: "member.created", description: "A person at a partner got access.", fields: &[] },
];

/// An event as posted: `POST /api/v1/events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventInput {
    /// Unique to this event in the sender's system (its CRM record and change, say). A
    /// repeat with the same key and body is answered with the stored event and applied
    /// once; the same key with another body is refused.
    pub idempotency_key: Option<String>,
    /// `deal.registered`, `deal.approved`, `deal.rejected`, `incentive.progress`,
    /// `claim.deadline`, `training.completed`, `partner.created`, `member.created`, or a
    /// declared custom type.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// The partner: its id or external id. May be left out when `member` is given.
    pub partner: Option<String>,
    /// The member: id, external id or email; they must belong to `partner` when both are given.
    pub member: Option<String>,
    /// RFC 3339; when it was received if not given.
    pub occurred_at: Option<String>,
    /// The event's details, checked against its type's schema.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: Option<serde_json::Value>,
}

/// An event as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerEvent {
    pub id: PartnerEventId,
    pub idempotency_key: String,
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub partner_id: PartnerId,
    pub member_id: Option<MemberId>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Value,
    pub occurred_at: Timestamp,
    pub received_at: Timestamp,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn schema_of(name: &str) -> EventSchema {
        EventType::parse(name).unwrap().built_in().unwrap()
    }

    #[test]
    fn type_names_are_dotted_lower_case_words() {
        assert!(EventType::parse("deal.rejected").is_ok());
        assert!(EventType::parse("quote.sent_out").is_ok());
        for bad in ["deal", "Deal.Rejected", "deal..x", ".deal", "deal.", "deal rejected", "deal.1x"] {
            assert!(EventType::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rejection_must_say_why() {
        let schema = schema_of("deal.rejected");
        let mut errors = FieldErrors::new();
        schema.check(&serde_json::json!({"deal_id": "D-1"}), &mut errors);
        assert_eq!(errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["data.reason"]);
        let mut errors = FieldErrors::new();
        schema.check(&serde_json::json!({"deal_id": "D-1", "reason": "  "}), &mut errors);
        assert_eq!(errors.len(), 1);
        let mut errors = FieldErrors::new();
        schema.check(&serde_json::json!({"deal_id": "D-1", "reason": "Duplicate", "extra": [1]}), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn kinds_are_checked() {
        let schema = schema_of("incentive.progress");
        let mut errors = FieldErrors::new();
        schema.check(&serde_json::json!({"program": "Q4", "progress": "80%", "ends_on": "soon"}), &mut errors);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["data.progress", "data.ends_on"]);
        let mut errors = FieldErrors::new();
        schema.check(&serde_json::json!([1]), &mut errors);
        assert_eq!(errors.iter().next().unwrap().field, "data");
    }

    #[test]
    fn templates_see_every_named_field_and_conditions_the_flat_ones() {
        let schema = schema_of("deal.approved");
        let data = schema.for_template(&serde_json::json!({"deal_id": "D-1", "amount": 5}));
        assert_eq!(data["customer"], "");
        assert_eq!(data["amount"], 5);
        let fields = condition_fields(&serde_json::json!({"progress": 0.8, "Bad Key": 1, "nested": {"a": 1}}));
        assert_eq!(fields.get("progress"), Some(&AttrValue::Number(0.8)));
        assert_eq!(fields.len(), 1);
    }

    #[test]
    fn declared_schemas_name_each_field_once() {
        let mut errors = FieldErrors::new();
        let schema: EventSchema = serde_json::from_value(serde_json::json!({"fields": [
            {"name": "quote_id", "type": "text", "required": true}, {"name": "quote_id", "type": "number"}]}))
        .unwrap();
        schema.validate(&mut errors);
        assert_eq!(errors.len(), 1);
    }
}
