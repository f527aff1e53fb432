//! What creating a record requires. A record has one draft type for creating and changing
//! it (a PATCH sends only what changes, so every field of the draft is optional); creating
//! one needs some of them. The description says so with a schema per creation: the
//! draft's, with those fields required, not null and not blank.

use serde_json::{Value, json};
use utoipa::openapi::{OpenApi, Ref, RefOr, Schema};

/// Path of the creation (POST), the draft schema it takes, the name of its creation
/// schema, and the fields a creation needs.
const CREATIONS: [(&str, &str, &str, &[&str]); 6] = [
    ("/partners", "PartnerDraft", "NewPartner", &["name", "partner_type"]),
    ("/members", "MemberDraft", "NewMember", &["partner_id", "email"]),
    ("/topics", "TopicDraft", "NewTopic", &["key", "name"]),
    ("/partner-groups", "KeyedDraft", "NewPartnerGroup", &["key", "name"]),
    ("/segments", "SegmentDraft", "NewSegment", &["name", "rule"]),
    ("/messages", "MessageDraft", "NewMessage", &["content"]),
];

pub fn document(spec: &mut OpenApi) {
    let Some(components) = spec.components.as_mut() else { return };
    for (path, draft, name, fields) in CREATIONS {
        let Some(schema) = components.schemas.get(draft).and_then(|s| serde_json::to_value(s).ok()) else {
            continue;
        };
        let Ok(schema) = serde_json::from_value::<RefOr<Schema>>(requiring(schema, fields)) else { continue };
        components.schemas.insert(name.to_owned(), schema);
        let body =
            spec.paths.paths.get_mut(path).and_then(|item| item.post.as_mut()).and_then(|o| o.request_body.as_mut());
        if let Some(RefOr::T(body)) = body
            && let Some(RefOr::T(content)) = body.content.get_mut("application/json")
        {
            content.schema = Some(RefOr::Ref(Ref::from_schema_name(name)));
        }
    }
}

/// The schema with `fields` required, none of them null, text not blank.
fn requiring(mut schema: Value, fields: &[&str]) -> Value {
    schema["required"] = json!(fields);
    for field in fields {
        if let Some(property) = schema.get_mut("properties").and_then(|p| p.get_mut(*field)) {
            *property = present(property.take());
        }
    }
    schema
}

fn present(mut property: Value) -> Value {
    let not_null = |v: &Value| v.get("type").and_then(Value::as_str) != Some("null");
    for choice in ["oneOf", "anyOf"] {
        if let Some(options) = property.get(choice).and_then(Value::as_array) {
            let kept: Vec<Value> = options.iter().filter(|o| not_null(o)).cloned().collect();
            if let [only] = kept.as_slice() {
                return present(only.clone());
            }
            property[choice] = Value::Array(kept);
        }
    }
    if let Some(types) = property.get("type").and_then(Value::as_array) {
        let kept: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
        property["type"] = if let [only] = kept.as_slice() { only.clone() } else { Value::Array(kept) };
    }
    if let Some(values) = property.get("enum").and_then(Value::as_array) {
        property["enum"] = values.iter().filter(|v| !v.is_null()).cloned().collect();
    }
    if property.get("type").and_then(Value::as_str) == Some("string")
        && property.get("format").is_none()
        && property.get("enum").is_none()
    {
        property["pattern"] = json!("\\S");
    }
    property
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn required_fields_lose_null_and_text_must_not_be_blank() {
        let draft = json!({"type": "object", "properties": {
            "name": {"type": ["string", "null"]},
            "partner_id": {"type": ["string", "null"], "format": "uuid"},
            "content": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/ContentDraft"}]},
            "note": {"type": ["string", "null"]}}});
        let created = super::requiring(draft, &["name", "partner_id", "content"]);
        assert_eq!(created["required"], json!(["name", "partner_id", "content"]));
        assert_eq!(created["properties"]["name"], json!({"type": "string", "pattern": "\\S"}));
        assert_eq!(created["properties"]["partner_id"], json!({"type": "string", "format": "uuid"}));
        assert_eq!(created["properties"]["content"], json!({"$ref": "#/components/schemas/ContentDraft"}));
        assert_eq!(created["properties"]["note"], json!({"type": ["string", "null"]}), "others stay optional");
    }
}
