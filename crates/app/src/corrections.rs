//! Correcting a message that went out (docs/evidence.md, "Corrections"). The new text
//! becomes the next version in one transaction with its evidence leaf; a material
//! correction also sets earlier acknowledgments aside, asks every recipient again and
//! tells them on their first open channel, and lets the escalation ladder chase anew.

use serde::Serialize;
use tidings_core::consent::Channel;
use tidings_core::deliveries::Purpose;
use tidings_core::messages::{self, CorrectionDraft, CorrectionKind, Message, Personalization};
use tidings_core::{Action, FieldErrors, MessageId, Timestamp};
use tidings_store::deliveries::chase::{self, Chase};
use tidings_store::versions::{self, Version};
use tidings_store::{Tx, corrections as store, ladders, members, partners};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

/// Recipients whose personalization the corrected text is tried with.
const PERSONALIZATION_SAMPLE: i64 = 25;

/// What a correction did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionOutcome {
    pub message: Message,
    pub version: Version,
    /// Acknowledgments of earlier versions set aside (a material correction).
    pub acknowledgments_set_aside: u64,
    /// Notices of the correction queued to recipients (a material correction).
    pub notices_queued: u64,
}

pub async fn correct(
    app: &App,
    caller: &Caller,
    id: MessageId,
    draft: &CorrectionDraft,
) -> Result<CorrectionOutcome, AppError> {
    caller.require(Action::Compose, "correct messages")?;
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let message = tidings_store::messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    let correction = draft.validate(&message)?;
    check_personalization(&mut tx, &message, &correction.content).await?;
    let released_at = tidings_store::messages::released_at(&mut tx, id).await?.unwrap_or(message.updated_at);
    let version = versions::correct(&mut tx, &message, released_at, &correction, &caller.name, now).await?;
    crate::evidence::record::corrected(&mut tx, id, &version).await?;
    let (set_aside, notices) = match correction.kind {
        CorrectionKind::Material => {
            let set_aside = store::ask_again(&mut tx, id, now).await?;
            let notices = notify(app, &mut tx, &message, &version, now).await?;
            resume_ladder(&mut tx, id, now).await?;
            (set_aside, notices)
        }
        CorrectionKind::Editorial => (0, 0),
    };
    let corrected = tidings_store::messages::get(&mut tx, id).await?;
    let what = serde_json::json!({
        "version": version.version, "correction": correction.kind, "note": version.note,
        "acknowledgments_set_aside": set_aside, "notices_queued": notices,
    });
    audit::entry(caller, "message.correct", id.as_uuid())
        .before(&message.content)
        .after(&what)
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    tracing::info!(message = %id, version = version.version, kind = %correction.kind, set_aside, notices, "message corrected");
    Ok(CorrectionOutcome { message: corrected, version, acknowledgments_set_aside: set_aside, notices_queued: notices })
}

/// The corrected text must render for the people who read it: it is tried with some of
/// the recipients, and a field they lack refuses the correction.
async fn check_personalization(tx: &mut Tx, message: &Message, content: &messages::Content) -> Result<(), AppError> {
    let id = message.id;
    if !content.is_personalized() {
        return Ok(());
    }
    for member_id in store::some_recipients(tx, id, PERSONALIZATION_SAMPLE).await? {
        let Ok(member) = members::get(tx, member_id).await else { continue };
        let partner = partners::get(tx, member.profile.partner_id).await?;
        let who = Personalization::of(&member.profile, &partner.profile).for_message(message);
        if let Some(e) = messages::check(content, &who).first() {
            let mut errors = FieldErrors::new();
            errors.add(
                &format!("content.{}", e.field),
                format!("does not render for {}: {}", member.profile.email, e.message),
            );
            return Err(AppError::Invalid(errors));
        }
    }
    Ok(())
}

/// Tells every recipient who must acknowledge again, on their first open channel (the
/// inbox shows the corrected text to all).
async fn notify(app: &App, tx: &mut Tx, message: &Message, version: &Version, now: Timestamp) -> Result<u64, AppError> {
    let topic = tidings_store::topics::get(tx, message.topic_id).await?;
    let channels: Vec<Channel> = crate::chase::reminder_channels(app);
    let n = u16::try_from(version.version).unwrap_or(u16::MAX);
    let step = Chase {
        message_id: message.id,
        topic_key: &topic.key,
        purpose: Purpose::Correction(n),
        turn: 1,
        channels: &channels,
        slots: &[],
        due_at: now,
        now,
        partner: None,
    };
    Ok(chase::remind_members(tx, &step).await?)
}

/// A ladder that stopped because every partner had met its obligation chases again from
/// its next step (at once, if that step's time has passed).
async fn resume_ladder(tx: &mut Tx, id: MessageId, now: Timestamp) -> Result<(), AppError> {
    let Some(running) = ladders::running(tx, id).await? else { return Ok(()) };
    if running.next_due_at.is_some() {
        return Ok(());
    }
    let schedule = running.ladder.schedule(running.started_at);
    if let Some(step) = schedule.get(usize::from(running.next_step)) {
        ladders::resume(tx, id, step.due_at.max(now)).await?;
    }
    Ok(())
}

/// Every version of the message, oldest first (none for a message never corrected), each
/// with what changed from the one before.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VersionWithChanges {
    #[serde(flatten)]
    pub version: Version,
    /// What changed from the version before, word by word (none for version 1).
    pub changes: Vec<messages::diff::FieldChange>,
}

pub async fn versions(app: &App, caller: &Caller, id: MessageId) -> Result<Vec<VersionWithChanges>, AppError> {
    caller.require(Action::ReadDirectory, "read messages")?;
    let mut tx = app.db.read().await?;
    tidings_store::messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    Ok(with_changes(versions::list(&mut tx, id).await?))
}

/// Each version beside what changed from the one before it.
pub fn with_changes(list: Vec<Version>) -> Vec<VersionWithChanges> {
    let mut out: Vec<VersionWithChanges> = Vec::with_capacity(list.len());
    for version in list {
        let changes = match out.last() {
            Some(before) => messages::diff::between(&before.version.content, &version.content),
            None => Vec::new(),
        };
        out.push(VersionWithChanges { version, changes });
    }
    out
}

/// What a member is told of a corrected message beside its text.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CorrectionShown {
    /// The version the member reads now.
    pub version: u32,
    pub correction: CorrectionKind,
    /// Why it was corrected.
    pub note: String,
    pub corrected_at: Timestamp,
    /// What changed from the version before, in the language the member reads.
    pub changes: Vec<messages::diff::FieldChange>,
    /// The member's acknowledgments of earlier versions, which the correction set aside:
    /// each stays bound to the text it confirmed.
    pub earlier_acknowledgments: Vec<tidings_store::inbox::Acknowledgment>,
}

/// The latest correction of `message` as `member` reading `locale` sees it; `None` for a
/// message never corrected.
pub(crate) async fn shown(
    tx: &mut Tx,
    message: &Message,
    member: tidings_core::MemberId,
    locale: &str,
) -> Result<Option<CorrectionShown>, AppError> {
    if message.version < 2 {
        return Ok(None);
    }
    let list = versions::list(tx, message.id).await?;
    let (Some(latest), Some(before)) = (list.last(), list.iter().rev().nth(1)) else { return Ok(None) };
    let Some(correction) = latest.correction else { return Ok(None) };
    let changes =
        messages::diff::between(&before.content, &latest.content).into_iter().filter(|c| c.locale == locale).collect();
    Ok(Some(CorrectionShown {
        version: latest.version,
        correction,
        note: latest.note.clone(),
        corrected_at: latest.created_at,
        changes,
        earlier_acknowledgments: store::superseded(tx, message.id, member).await?,
    }))
}
