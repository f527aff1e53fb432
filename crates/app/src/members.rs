//! Member use cases.

use tidings_core::{Action, Member, MemberDraft, MemberId};
use tidings_store::members;
pub use tidings_store::members::MemberFilter;
use tidings_store::{Page, partners};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change the partner directory";

pub async fn create(app: &App, caller: &Caller, draft: &MemberDraft) -> Result<Member, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let profile = draft.validate(None)?;
    let mut tx = app.db.begin().await?;
    partners::get(&mut tx, profile.partner_id).await.map_err(|_| AppError::invalid("partner_id", "no such partner"))?;
    let now = app.clock.now();
    let member = Member { id: MemberId::new(), profile, created_at: now, updated_at: now };
    members::insert(&mut tx, &member).await?;
    audit::entry(caller, "member.create", member.id.as_uuid()).after(&member).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(member)
}

pub async fn get(app: &App, caller: &Caller, id: MemberId) -> Result<Member, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    members::get(&mut tx, id).await.map_err(not_found("member"))
}

/// A member by id or email address.
pub async fn find(app: &App, caller: &Caller, key: &str) -> Result<Member, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    crate::audiences::find_member(&mut tx, key).await
}

pub async fn update(app: &App, caller: &Caller, id: MemberId, draft: &MemberDraft) -> Result<Member, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let mut member = members::get(&mut tx, id).await.map_err(not_found("member"))?;
    let profile = draft.validate(Some(&member.profile))?;
    if profile != member.profile {
        if profile.partner_id != member.profile.partner_id {
            partners::get(&mut tx, profile.partner_id)
                .await
                .map_err(|_| AppError::invalid("partner_id", "no such partner"))?;
        }
        let before = member.clone();
        member.profile = profile;
        member.updated_at = app.clock.now();
        members::update(&mut tx, &member).await?;
        audit::entry(caller, "member.update", id.as_uuid()).before(&before).after(&member).write(app, &mut tx).await?;
        tx.commit().await?;
    }
    Ok(member)
}

pub async fn delete(app: &App, caller: &Caller, id: MemberId) -> Result<(), AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    members::delete(&mut tx, id).await.map_err(not_found("member"))?;
    // Deleting a member erases them: earlier entries keep who acted and when, not the
    // member's data, and this entry records none.
    tidings_store::audit::redact_subject(&mut tx, id.as_uuid()).await?;
    audit::entry(caller, "member.delete", id.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    filter: &MemberFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Member>, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    Ok(members::list(&mut tx, filter, after, limit).await?)
}

/// A member's latest messages with each step they took, newest first, with each
/// message's title and importance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelineItem {
    pub title: String,
    pub importance: tidings_core::messages::Importance,
    pub asks_acknowledgment: bool,
    #[serde(flatten)]
    pub entry: tidings_store::inbox::TimelineEntry,
    /// The reminders and escalations of the message the member was sent, oldest first.
    pub chased: Vec<tidings_store::deliveries::chase::ChaseSend>,
}

pub async fn timeline(app: &App, caller: &Caller, id: MemberId, limit: i64) -> Result<Vec<TimelineItem>, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    members::get(&mut tx, id).await.map_err(not_found("member"))?;
    let entries = tidings_store::inbox::timeline(&mut tx, id, limit.clamp(1, 500)).await?;
    let ids: Vec<_> = entries.iter().map(|e| e.message_id).collect();
    let found = tidings_store::messages::get_many(&mut tx, &ids).await?;
    let asking: Vec<_> =
        ids.iter().copied().filter(|m| found.get(m).is_some_and(|m| m.acknowledgment.is_some())).collect();
    let mut chased = tidings_store::deliveries::chase::sends_to_member(&mut tx, id, &asking).await?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| {
            let m = found.get(&entry.message_id)?;
            Some(TimelineItem {
                title: m.title().to_owned(),
                importance: m.importance,
                asks_acknowledgment: m.acknowledgment.is_some(),
                chased: chased.extract_if(.., |c| c.message_id == entry.message_id).collect(),
                entry,
            })
        })
        .collect())
}
