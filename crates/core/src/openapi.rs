//! OpenAPI schemas for the value types, which travel as plain JSON strings.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::{PartialSchema, ToSchema};

use crate::{Country, Email, Id, Locale, Phone, Slug, TimeZone, Timestamp};

fn string(format: Option<SchemaFormat>, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(format)
        .description(Some(description))
        .examples([serde_json::Value::String(example.to_owned())])
        .into()
}

impl<T> PartialSchema for Id<T> {
    fn schema() -> RefOr<Schema> {
        string(
            Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)),
            "A UUIDv7 identifier",
            "01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b",
        )
    }
}
impl<T> ToSchema for Id<T> {}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string(
            Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)),
            "An RFC 3339 time in UTC",
            "2026-05-01T10:00:00Z",
        )
    }
}
impl ToSchema for Timestamp {}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string(
            Some(SchemaFormat::KnownFormat(KnownFormat::Email)),
            "An email address, stored in lower case",
            "ana.silva@acme.example",
        )
    }
}
impl ToSchema for Email {}

impl PartialSchema for Phone {
    fn schema() -> RefOr<Schema> {
        string(None, "A phone number in E.164 form", "+4930123456")
    }
}
impl ToSchema for Phone {}

impl PartialSchema for Locale {
    fn schema() -> RefOr<Schema> {
        string(None, "A BCP 47 language tag", "de-DE")
    }
}
impl ToSchema for Locale {}

impl PartialSchema for TimeZone {
    fn schema() -> RefOr<Schema> {
        string(None, "An IANA time zone", "Europe/Berlin")
    }
}
impl ToSchema for TimeZone {}

impl PartialSchema for Country {
    fn schema() -> RefOr<Schema> {
        string(None, "An ISO 3166-1 alpha-2 country code", "DE")
    }
}
impl ToSchema for Country {}

impl PartialSchema for Slug {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z0-9][a-z0-9_-]{0,63}$"))
            .description(Some(
                "A key: 1 to 64 lower-case letters, digits, '-' and '_', starting with a letter or digit",
            ))
            .examples([serde_json::Value::String("emea-pilot".to_owned())])
            .into()
    }
}
impl ToSchema for Slug {}
