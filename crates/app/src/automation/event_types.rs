//! Event types: the built-in ones and the custom ones an admin declares, each with the
//! schema its events' data is checked against.

use serde::{Deserialize, Serialize};
use tidings_core::automation::event::BUILT_IN;
use tidings_core::automation::{EventSchema, EventType};
use tidings_core::{Action, FieldErrors};
use tidings_store::triggers::{self as store, DeclaredType};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

/// An event type as listed: built in or declared.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventTypeInfo {
    pub name: EventType,
    pub description: String,
    pub built_in: bool,
    pub schema: EventSchema,
}

/// A custom type as declared: `PUT /api/v1/event-types/{name}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventTypeDraft {
    pub description: Option<String>,
    pub schema: Option<EventSchema>,
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<EventTypeInfo>, AppError> {
    caller.require(Action::ReadDirectory, "read event types")?;
    let mut out: Vec<EventTypeInfo> = BUILT_IN
        .iter()
        .filter_map(|b| {
            let name = EventType::parse(b.name).ok()?;
            Some(EventTypeInfo { name, description: b.description.to_owned(), built_in: true, schema: b.schema() })
        })
        .collect();
    for t in store::list_types(&mut app.db.read().await?).await? {
        out.push(EventTypeInfo { name: t.name, description: t.description, built_in: false, schema: t.schema });
    }
    Ok(out)
}

fn name_of(text: &str) -> Result<EventType, AppError> {
    let name = EventType::parse(text).map_err(|e| AppError::invalid("name", e.to_string()))?;
    if name.built_in().is_some() {
        return Err(AppError::Conflict(format!("{name} is built in: it cannot be declared again or removed")));
    }
    Ok(name)
}

/// Declares (or redeclares) a custom event type (admins).
pub async fn put(app: &App, caller: &Caller, name: &str, draft: &EventTypeDraft) -> Result<EventTypeInfo, AppError> {
    caller.require(Action::Configure, "declare event types")?;
    let name = name_of(name)?;
    let mut errors = FieldErrors::new();
    let description =
        errors.check("description", tidings_core::text::optional(draft.description.as_deref().unwrap_or(""), 500));
    let schema = draft.schema.clone().unwrap_or_default();
    schema.validate(&mut errors);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let declared = DeclaredType { name, description: description.flatten().unwrap_or_default(), schema };
    let mut tx = app.db.begin().await?;
    store::put_type(&mut tx, &declared, app.clock.now()).await?;
    audit::entry(caller, "event_type.put", None).after(&declared).write(app, &mut tx).await?;
    tx.commit().await?;
    let DeclaredType { name, description, schema } = declared;
    Ok(EventTypeInfo { name, description, built_in: false, schema })
}

/// Removes a custom type; events already taken in keep their data.
pub async fn delete(app: &App, caller: &Caller, name: &str) -> Result<(), AppError> {
    caller.require(Action::Configure, "declare event types")?;
    // No custom type can have a name that is not a type name.
    let name = match name_of(name) {
        Err(AppError::Invalid(_)) => return Err(AppError::NotFound("event type")),
        other => other?,
    };
    let mut tx = app.db.begin().await?;
    let before = store::get_type(&mut tx, &name).await.map_err(not_found("event type"))?;
    store::delete_type(&mut tx, &name).await?;
    audit::entry(caller, "event_type.delete", None).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}
