//! Topic use cases.

use tidings_core::{Action, Topic, TopicDraft, TopicId};
use tidings_store::{Page, topics};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change topics";

pub async fn create(app: &App, caller: &Caller, draft: &TopicDraft) -> Result<Topic, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let keyed = draft.keyed().validate(None)?;
    let id = TopicId::new();
    let mut tx = app.db.begin().await?;
    topics::insert(&mut tx, id, &keyed, app.clock.now()).await?;
    if let Some(policies) = &draft.policies {
        topics::set_policies(&mut tx, id, policies).await?;
    }
    let topic = topics::get(&mut tx, id).await?;
    audit::entry(caller, "topic.create", id.as_uuid()).after(&topic).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(topic)
}

pub async fn get(app: &App, caller: &Caller, id: TopicId) -> Result<Topic, AppError> {
    caller.require(Action::ReadDirectory, "read topics")?;
    let mut tx = app.db.read().await?;
    topics::get(&mut tx, id).await.map_err(not_found("topic"))
}

pub async fn update(app: &App, caller: &Caller, id: TopicId, draft: &TopicDraft) -> Result<Topic, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let before = topics::get(&mut tx, id).await.map_err(not_found("topic"))?;
    let keyed = draft.keyed().validate(Some(&before.keyed()))?;
    topics::update(&mut tx, id, &keyed, app.clock.now()).await?;
    if let Some(policies) = &draft.policies {
        topics::set_policies(&mut tx, id, policies).await?;
    }
    let topic = topics::get(&mut tx, id).await?;
    audit::entry(caller, "topic.update", id.as_uuid()).before(&before).after(&topic).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(topic)
}

pub async fn delete(app: &App, caller: &Caller, id: TopicId) -> Result<(), AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let before = topics::get(&mut tx, id).await.map_err(not_found("topic"))?;
    topics::delete(&mut tx, id).await?;
    audit::entry(caller, "topic.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Topic>, AppError> {
    caller.require(Action::ReadDirectory, "read topics")?;
    let mut tx = app.db.read().await?;
    Ok(topics::list(&mut tx, after, limit).await?)
}

pub async fn get_by_key(app: &App, caller: &Caller, key: &str) -> Result<Topic, AppError> {
    caller.require(Action::ReadDirectory, "read topics")?;
    let mut tx = app.db.read().await?;
    topics::get_by_key(&mut tx, key.trim()).await.map_err(not_found("topic"))
}

/// The topic a draft names: `topic_id`, or the topic whose key is `key` (as the command
/// line and the console name topics), looked up; given both, they must agree.
pub(crate) async fn named(
    tx: &mut tidings_store::Tx,
    key: Option<&str>,
    id: Option<TopicId>,
) -> Result<Option<TopicId>, AppError> {
    let Some(key) = key.map(str::trim).filter(|k| !k.is_empty()) else { return Ok(id) };
    let topic = match topics::get_by_key(tx, key).await {
        Ok(t) => t,
        Err(tidings_store::Error::NotFound) => {
            return Err(AppError::invalid("topic", format!("no topic has the key '{key}'")));
        }
        Err(e) => return Err(e.into()),
    };
    if id.is_some_and(|id| id != topic.id) {
        return Err(AppError::invalid("topic", "names another topic than topic_id: give one of them"));
    }
    Ok(Some(topic.id))
}
