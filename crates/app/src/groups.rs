//! Partner group use cases.

use tidings_core::{Action, GroupId, KeyedDraft, PartnerGroup};
use tidings_store::{Page, groups};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change partner groups";

pub async fn create(app: &App, caller: &Caller, draft: &KeyedDraft) -> Result<PartnerGroup, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let keyed = draft.validate(None)?;
    let id = GroupId::new();
    let mut tx = app.db.begin().await?;
    groups::insert(&mut tx, id, &keyed, app.clock.now()).await?;
    let group = groups::get(&mut tx, id).await?;
    audit::entry(caller, "group.create", id.as_uuid()).after(&group).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(group)
}

pub async fn get(app: &App, caller: &Caller, id: GroupId) -> Result<PartnerGroup, AppError> {
    caller.require(Action::ReadDirectory, "read partner groups")?;
    let mut tx = app.db.read().await?;
    groups::get(&mut tx, id).await.map_err(not_found("partner group"))
}

pub async fn update(app: &App, caller: &Caller, id: GroupId, draft: &KeyedDraft) -> Result<PartnerGroup, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let before = groups::get(&mut tx, id).await.map_err(not_found("partner group"))?;
    let keyed = draft.validate(Some(&before.keyed()))?;
    groups::update(&mut tx, id, &keyed, app.clock.now()).await?;
    let group = groups::get(&mut tx, id).await?;
    audit::entry(caller, "group.update", id.as_uuid()).before(&before).after(&group).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(group)
}

pub async fn delete(app: &App, caller: &Caller, id: GroupId) -> Result<(), AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let before = groups::get(&mut tx, id).await.map_err(not_found("partner group"))?;
    groups::delete(&mut tx, id).await?;
    audit::entry(caller, "group.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<PartnerGroup>, AppError> {
    caller.require(Action::ReadDirectory, "read partner groups")?;
    let mut tx = app.db.read().await?;
    Ok(groups::list(&mut tx, after, limit).await?)
}
