//! The audit log of staff actions. Each action writes its entry in the transaction that
//! makes the change, so there is no change without its entry and no entry for a change
//! that rolled back.

use serde::Serialize;
use tidings_core::{Action, ActorKind};
use tidings_store::audit::{self as store, Actor};
pub use tidings_store::audit::{AuditEntry, AuditFilter};
use tidings_store::{Page, Tx};
use uuid::Uuid;

use crate::{App, AppError, Caller};

/// An entry being written: `audit::entry(caller, "topic.update", id).before(&old).after(&new)`.
#[must_use = "an audit entry does nothing until written"]
pub(crate) struct Entry {
    actor: Actor,
    action: &'static str,
    subject_id: Option<Uuid>,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
    request_id: Option<String>,
}

/// Who the caller is, as the audit log names them.
pub(crate) fn actor(caller: &Caller) -> Actor {
    match (caller.staff, caller.token) {
        (Some(staff), _) => Actor { kind: ActorKind::Staff, id: Some(staff.as_uuid()), name: caller.name.clone() },
        (None, Some(token)) => Actor { kind: ActorKind::Token, id: Some(token.as_uuid()), name: caller.name.clone() },
        (None, None) => Actor { kind: ActorKind::Operator, id: None, name: caller.name.clone() },
    }
}

/// Starts the entry for `action` (`subject.verb`) by `caller` on the record `subject`.
pub(crate) fn entry(caller: &Caller, action: &'static str, subject: impl Into<Option<Uuid>>) -> Entry {
    Entry {
        actor: actor(caller),
        action,
        subject_id: subject.into(),
        before: None,
        after: None,
        request_id: caller.request_id.clone(),
    }
}

impl Entry {
    pub(crate) fn before(mut self, record: &impl Serialize) -> Self {
        self.before = serde_json::to_value(record).ok();
        self
    }

    pub(crate) fn after(mut self, record: &impl Serialize) -> Self {
        self.after = serde_json::to_value(record).ok();
        self
    }

    pub(crate) async fn write(self, app: &App, tx: &mut Tx) -> Result<(), AppError> {
        let subject_kind = self.action.split_once('.').map_or(self.action, |(kind, _)| kind);
        let entry = AuditEntry {
            id: Uuid::now_v7(),
            at: app.clock.now(),
            actor: self.actor,
            action: self.action.to_owned(),
            subject_kind: subject_kind.to_owned(),
            subject_id: self.subject_id,
            before: self.before,
            after: self.after,
            request_id: self.request_id,
        };
        store::insert(tx, &entry).await?;
        Ok(())
    }
}

/// The audit log, newest first (admins only).
pub async fn list(
    app: &App,
    caller: &Caller,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<AuditEntry>, AppError> {
    caller.require(Action::ReadAudit, "read the audit log")?;
    let mut tx = app.db.read().await?;
    Ok(store::list(&mut tx, filter, after, limit).await?)
}
