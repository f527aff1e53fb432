//! Saved segments: a name and a rule, checked when saved so a broken rule never waits
//! for a send to fail.

use serde::Deserialize;
use tidings_core::audiences;
use tidings_core::{Action, FieldErrors, SegmentId, text};
use tidings_store::Page;
use tidings_store::segments;
pub use tidings_store::segments::Segment;

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SegmentDraft {
    pub name: Option<String>,
    pub description: Option<String>,
    /// An audience rule, such as `partner.tier in ("strategic", "growth") and member.role = "support"`.
    pub rule: Option<String>,
}

fn validate(draft: &SegmentDraft, base: Option<&Segment>, app: &App) -> Result<(String, String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = match (&draft.name, base) {
        (Some(n), _) => errors.check("name", text::required(n, 100)),
        (None, Some(b)) => Some(b.name.clone()),
        (None, None) => errors.check("name", Err::<String, _>(text::TextError::Missing)),
    };
    let description = match &draft.description {
        Some(d) => errors.check("description", text::optional(d, 1000)).flatten().unwrap_or_default(),
        None => base.map(|b| b.description.clone()).unwrap_or_default(),
    };
    let rule = match (&draft.rule, base) {
        (Some(r), _) => errors.check("rule", audiences::parse(r, &app.catalog)).map(|_| r.trim().to_owned()),
        (None, Some(b)) => Some(b.rule.clone()),
        (None, None) => errors.check("rule", Err::<String, _>(text::TextError::Missing)),
    };
    errors.finish(|| Some((name?, description, rule?)))
}

pub async fn create(app: &App, caller: &Caller, draft: &SegmentDraft) -> Result<Segment, AppError> {
    caller.require(Action::WriteSegments, "change segments")?;
    let (name, description, rule) = validate(draft, None, app)?;
    let now = app.clock.now();
    let segment = Segment { id: SegmentId::new(), name, description, rule, created_at: now, updated_at: now };
    let mut tx = app.db.begin().await?;
    segments::insert(&mut tx, &segment).await?;
    audit::entry(caller, "segment.create", segment.id.as_uuid()).after(&segment).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(segment)
}

pub async fn get(app: &App, caller: &Caller, id: SegmentId) -> Result<Segment, AppError> {
    caller.require(Action::ReadDirectory, "read segments")?;
    let mut tx = app.db.read().await?;
    segments::get(&mut tx, id).await.map_err(not_found("segment"))
}

pub async fn update(app: &App, caller: &Caller, id: SegmentId, draft: &SegmentDraft) -> Result<Segment, AppError> {
    caller.require(Action::WriteSegments, "change segments")?;
    let mut tx = app.db.begin().await?;
    let mut segment = segments::get(&mut tx, id).await.map_err(not_found("segment"))?;
    let (name, description, rule) = validate(draft, Some(&segment), app)?;
    let before = segment.clone();
    segment.name = name;
    segment.description = description;
    segment.rule = rule;
    segment.updated_at = app.clock.now();
    segments::update(&mut tx, &segment).await?;
    audit::entry(caller, "segment.update", id.as_uuid()).before(&before).after(&segment).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(segment)
}

pub async fn delete(app: &App, caller: &Caller, id: SegmentId) -> Result<(), AppError> {
    caller.require(Action::WriteSegments, "change segments")?;
    let mut tx = app.db.begin().await?;
    let before = segments::get(&mut tx, id).await.map_err(not_found("segment"))?;
    segments::delete(&mut tx, id).await?;
    audit::entry(caller, "segment.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Segment>, AppError> {
    caller.require(Action::ReadDirectory, "read segments")?;
    let mut tx = app.db.read().await?;
    Ok(segments::list(&mut tx, after, limit).await?)
}
