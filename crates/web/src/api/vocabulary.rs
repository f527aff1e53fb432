//! The description served by a running instance names its own vocabularies: the partner
//! types, tiers and regions its catalog holds (they are configurable), wherever a query
//! parameter or a partner draft takes one, the assigned country codes, and that a partner
//! manager is named by email address (or "", which clears it).

use serde_json::{Value, json};
use tidings_core::Catalog;

/// Fills the catalog's values into the description, as JSON.
pub fn document(spec: &mut Value, catalog: &Catalog) {
    let words = |list: &[tidings_core::Slug]| list.iter().map(|s| json!(s.as_str())).collect::<Vec<_>>();
    let vocabularies = [
        ("partner_type", words(&catalog.partner_types)),
        ("tier", words(&catalog.partner_tiers)),
        ("region", words(&catalog.regions)),
        ("country", tidings_core::Country::assigned().map(|c| json!(c)).collect()),
    ];
    // In a draft, "" clears an optional field.
    let constrain = |schema: &mut Value, name: &str, in_draft: bool| {
        if let Some((_, values)) = vocabularies.iter().find(|(n, _)| *n == name) {
            let mut values = values.clone();
            let nullable = schema["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"));
            if nullable {
                values.push(Value::Null);
            }
            if nullable && in_draft {
                values.push(json!(""));
            }
            schema["enum"] = Value::Array(values);
        }
    };
    // Read with `get_mut`: indexing a JSON value mutably adds the key when it is missing.
    let paths = spec.get_mut("paths").and_then(Value::as_object_mut);
    for item in paths.into_iter().flat_map(|paths| paths.values_mut()) {
        for operation in item.as_object_mut().into_iter().flat_map(|ops| ops.values_mut()) {
            let parameters = operation.get_mut("parameters").and_then(Value::as_array_mut);
            for parameter in parameters.into_iter().flatten() {
                let name = parameter.get("name").and_then(Value::as_str).map(str::to_owned);
                let in_query = parameter.get("in").is_some_and(|place| place == "query");
                if let (Some(name), true, Some(schema)) = (name, in_query, parameter.get_mut("schema")) {
                    constrain(schema, &name, false);
                }
            }
        }
    }
    for draft in ["PartnerDraft", "NewPartner"] {
        let properties = spec
            .get_mut("components")
            .and_then(|c| c.get_mut("schemas"))
            .and_then(|s| s.get_mut(draft))
            .and_then(|d| d.get_mut("properties"))
            .and_then(Value::as_object_mut);
        if let Some(properties) = properties {
            for (name, schema) in properties.iter_mut() {
                constrain(schema, name, true);
            }
            if let Some(manager) = properties.get_mut("partner_manager") {
                let description = manager.get("description").cloned().unwrap_or_default();
                *manager = json!({"description": description, "anyOf": [
                    {"type": "string", "format": "email"}, {"const": ""}, {"type": "null"}]});
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    #[test]
    fn the_catalogs_values_constrain_filters_and_drafts() {
        let mut spec = json!({
            "paths": {"/partners": {"get": {"parameters": [
                {"name": "tier", "in": "query", "schema": {"type": ["string", "null"]}},
                {"name": "country", "in": "query", "schema": {"type": ["string", "null"]}},
                {"name": "q", "in": "query", "schema": {"type": ["string", "null"]}}]}}},
            "components": {"schemas": {"PartnerDraft": {"properties": {"region": {"type": "string"}}}}}});
        super::document(&mut spec, &tidings_core::Catalog::default());
        assert!(spec["components"]["schemas"].get("NewPartner").is_none(), "nothing added where nothing was");
        let tier = &spec["paths"]["/partners"]["get"]["parameters"][0]["schema"];
        assert_eq!(tier["enum"], json!(["strategic", "growth", "standard", "registered", null]));
        let countries = &spec["paths"]["/partners"]["get"]["parameters"][1]["schema"]["enum"];
        assert!(
            countries.as_array().unwrap().contains(&json!("DE"))
                && !countries.as_array().unwrap().contains(&json!("AA"))
        );
        assert!(spec["paths"]["/partners"]["get"]["parameters"][2]["schema"].get("enum").is_none());
        let region = &spec["components"]["schemas"]["PartnerDraft"]["properties"]["region"];
        assert_eq!(region["enum"], json!(["amer", "latam", "emea", "apac"]));
    }
}
