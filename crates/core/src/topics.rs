//! A topic: what a message is about (Announcements, Incentives...). Members choose topics;
//! per-role policies arrive with audiences.

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Slug, Timestamp, TopicId, text};

pub type TopicKey = Slug;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Topic {
    pub id: TopicId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key: TopicKey,
    pub name: String,
    pub description: String,
    /// How the topic applies to each member role.
    pub policies: crate::consent::TopicPolicies,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Raw input for a topic.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicDraft {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Replaces the topic's policy per role; roles not listed take `default`.
    pub policies: Option<crate::consent::TopicPolicies>,
}

impl TopicDraft {
    pub fn keyed(&self) -> KeyedDraft {
        KeyedDraft { key: self.key.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}

/// Raw input for a partner group (and the shared part of a topic).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyedDraft {
    pub key: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// The validated fields of a topic or a partner group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    pub key: Slug,
    pub name: String,
    pub description: String,
}

impl KeyedDraft {
    pub fn validate(&self, base: Option<&Keyed>) -> Result<Keyed, FieldErrors> {
        let mut errors = FieldErrors::new();
        let key = match (&self.key, base) {
            (Some(v), _) => errors.check("key", Slug::parse(v)),
            (None, Some(b)) => Some(b.key.clone()),
            (None, None) => errors.check("key", Err::<Slug, _>(text::TextError::Missing)),
        };
        let name = match (&self.name, base) {
            (Some(v), _) => errors.check("name", text::required(v, 100)),
            (None, Some(b)) => Some(b.name.clone()),
            (None, None) => errors.check("name", Err::<String, _>(text::TextError::Missing)),
        };
        let description = match &self.description {
            Some(v) => errors.check("description", text::optional(v, 1000)).flatten().unwrap_or_default(),
            None => base.map(|b| b.description.clone()).unwrap_or_default(),
        };
        errors.finish(|| Some(Keyed { key: key?, name: name?, description }))
    }
}

impl Topic {
    pub fn keyed(&self) -> Keyed {
        Keyed { key: self.key.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topic_needs_a_key_and_a_name() {
        let errors = KeyedDraft::default().validate(None).err().unwrap_or_default();
        assert_eq!(errors.to_string(), "key: is required; name: is required");
        let draft = KeyedDraft { key: Some("Support Desk".into()), name: Some("Support".into()), description: None };
        assert!(draft.validate(None).is_err());
    }
}
