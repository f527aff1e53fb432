//! The four-eyes rule: a message of an importance or topic the settings name needs the
//! approval of a second person (an approver or an admin who neither created nor changed
//! it) before it is released or scheduled. A change to the message drops its approval.

use serde::{Deserialize, Serialize};
use tidings_core::messages::{Importance, Message};
use tidings_core::{Action, MessageId, TopicId};
use tidings_store::approvals as store;
pub use tidings_store::approvals::Approval;
use tidings_store::{Tx, messages, settings};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const SETTING: &str = "approval_policy";

/// Which messages need a second person's approval.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalPolicy {
    /// Every message of these importances (`critical` is the usual choice).
    pub importances: Vec<Importance>,
    /// Every message on these topics, whatever its importance.
    pub topics: Vec<TopicId>,
}

impl ApprovalPolicy {
    pub fn requires(&self, m: &Message) -> bool {
        self.importances.contains(&m.importance) || self.topics.contains(&m.topic_id)
    }
}

pub(crate) async fn policy_in(tx: &mut Tx) -> Result<ApprovalPolicy, AppError> {
    Ok(settings::get_json(tx, SETTING).await?)
}

pub async fn policy(app: &App, caller: &Caller) -> Result<ApprovalPolicy, AppError> {
    caller.require(Action::ReadDirectory, "read the approval policy")?;
    policy_in(&mut app.db.read().await?).await
}

pub async fn set_policy(app: &App, caller: &Caller, policy: &ApprovalPolicy) -> Result<ApprovalPolicy, AppError> {
    caller.require(Action::Configure, "change the approval policy")?;
    let mut tx = app.db.begin().await?;
    for topic in &policy.topics {
        tidings_store::topics::get(&mut tx, *topic).await.map_err(|_| AppError::invalid("topics", "no such topic"))?;
    }
    let before = policy_in(&mut tx).await?;
    settings::put_json(&mut tx, SETTING, policy).await?;
    audit::entry(caller, "settings.approval_policy", None).before(&before).after(policy).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(policy.clone())
}

/// Where a message stands under the rule.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalStatus {
    pub required: bool,
    pub approval: Option<Approval>,
}

pub async fn status(app: &App, caller: &Caller, id: MessageId) -> Result<ApprovalStatus, AppError> {
    caller.require(Action::ReadDirectory, "read approvals")?;
    let mut tx = app.db.read().await?;
    let message = messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    let required = policy_in(&mut tx).await?.requires(&message);
    Ok(ApprovalStatus { required, approval: store::get(&mut tx, id).await? })
}

pub async fn approve(app: &App, caller: &Caller, id: MessageId) -> Result<Approval, AppError> {
    caller.require(Action::Approve, "approve messages")?;
    let mut tx = app.db.begin().await?;
    let message = messages::get(&mut tx, id).await.map_err(not_found("message"))?;
    if !matches!(message.state, tidings_core::messages::MessageState::Draft) {
        return Err(AppError::Conflict("only a draft is approved: approve it before it is scheduled or sent".into()));
    }
    let me = audit::actor(caller);
    let own = store::editors(&mut tx, id)
        .await?
        .into_iter()
        .any(|e| e.kind == me.kind && if me.id.is_some() { e.id == me.id } else { e.name == me.name });
    if own {
        return Err(AppError::Conflict(
            "you created or changed this message: a second person must approve it (four eyes)".into(),
        ));
    }
    let approval = Approval { message_id: id, approved_by: me, approved_at: app.clock.now() };
    store::put(&mut tx, &approval).await?;
    audit::entry(caller, "message.approve", id.as_uuid()).after(&approval).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(approval)
}

/// Refuses to let a message that needs approval go without one.
pub(crate) async fn check_approved(tx: &mut Tx, message: &Message) -> Result<(), AppError> {
    if !policy_in(tx).await?.requires(message) || store::get(tx, message.id).await?.is_some() {
        return Ok(());
    }
    Err(AppError::Conflict(format!(
        "this {} message needs a second person's approval before it goes (four eyes): an approver or an admin \
         who did not write it approves it first",
        importance_name(message.importance)
    )))
}

fn importance_name(i: Importance) -> &'static str {
    match i {
        Importance::Info => "nice-to-know",
        Importance::Action => "need-to-know",
        Importance::Critical => "must-know",
    }
}

/// Drafts that need approval and have none yet, newest first (at most `limit` of the
/// latest drafts are looked at).
pub async fn awaiting(app: &App, caller: &Caller, limit: u32) -> Result<Vec<Message>, AppError> {
    caller.require(Action::ReadDirectory, "read approvals")?;
    let mut tx = app.db.read().await?;
    let policy = policy_in(&mut tx).await?;
    if policy == ApprovalPolicy::default() {
        return Ok(Vec::new());
    }
    let filter = tidings_store::messages::MessageFilter {
        state: Some(tidings_core::messages::MessageState::Draft),
        newest_first: true,
        ..Default::default()
    };
    let drafts = messages::list(&mut tx, &filter, None, Some(limit)).await?.items;
    let mut waiting = Vec::new();
    for m in drafts.into_iter().filter(|m| policy.requires(m) && !m.audience.test_send) {
        if store::get(&mut tx, m.id).await?.is_none() {
            waiting.push(m);
        }
    }
    Ok(waiting)
}
