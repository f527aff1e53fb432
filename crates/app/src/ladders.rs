//! Escalation ladders staff define, and which topic's must-know messages each chases.

use tidings_core::escalation::{Ladder, LadderDraft};
use tidings_core::{Action, Slug, TopicId};
use tidings_store::ladders as store;

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change escalation ladders";

fn key(text: &str) -> Result<Slug, AppError> {
    Slug::parse(text).map_err(|e| AppError::invalid("key", e.to_string()))
}

pub async fn list(app: &App, caller: &Caller) -> Result<Vec<Ladder>, AppError> {
    caller.require(Action::ReadDirectory, "read escalation ladders")?;
    Ok(store::list(&mut app.db.read().await?).await?)
}

pub async fn get(app: &App, caller: &Caller, key_text: &str) -> Result<Ladder, AppError> {
    caller.require(Action::ReadDirectory, "read escalation ladders")?;
    let key = key(key_text)?;
    store::get(&mut app.db.read().await?, &key).await.map_err(not_found("escalation ladder"))
}

/// Saves the ladder under its key (replacing one of that key); messages already released
/// keep the copy they were released with. Returns it and whether it is new.
pub async fn put(app: &App, caller: &Caller, draft: &LadderDraft) -> Result<(Ladder, bool), AppError> {
    caller.require(Action::Configure, WRITE)?;
    let ladder = draft.validate()?;
    let mut tx = app.db.begin().await?;
    let before = match store::get(&mut tx, &ladder.key).await {
        Ok(l) => Some(l),
        Err(tidings_store::Error::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let created = store::put(&mut tx, &ladder, app.clock.now()).await?;
    let mut entry = audit::entry(caller, "ladder.put", None).after(&ladder);
    if let Some(before) = &before {
        entry = entry.before(before);
    }
    entry.write(app, &mut tx).await?;
    tx.commit().await?;
    Ok((ladder, created))
}

pub async fn delete(app: &App, caller: &Caller, key_text: &str) -> Result<(), AppError> {
    caller.require(Action::Configure, WRITE)?;
    let key = key(key_text)?;
    let mut tx = app.db.begin().await?;
    let before = store::get(&mut tx, &key).await.map_err(not_found("escalation ladder"))?;
    store::delete(&mut tx, &key).await?;
    audit::entry(caller, "ladder.delete", None).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the topic's must-know messages a ladder (or none, with `None`).
pub async fn set_for_topic(app: &App, caller: &Caller, topic: TopicId, key_text: Option<&str>) -> Result<(), AppError> {
    caller.require(Action::WriteDirectory, "change topics")?;
    let key = key_text.map(str::trim).filter(|k| !k.is_empty()).map(key).transpose()?;
    let mut tx = app.db.begin().await?;
    if let Some(k) = &key {
        store::get(&mut tx, k).await.map_err(|_| AppError::invalid("ladder", format!("no escalation ladder '{k}'")))?;
    }
    let before = store::of_topic(&mut tx, topic).await.map_err(not_found("topic"))?;
    store::set_for_topic(&mut tx, topic, key.as_ref()).await.map_err(not_found("topic"))?;
    let change = serde_json::json!({"topic_id": topic, "ladder": key});
    audit::entry(caller, "topic.ladder", topic.as_uuid())
        .before(&serde_json::json!({"ladder": before}))
        .after(&change)
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The ladder a topic's must-know messages get, if any.
pub async fn of_topic(app: &App, topic: TopicId) -> Result<Option<Slug>, AppError> {
    Ok(store::of_topic(&mut app.db.read().await?, topic).await?)
}
