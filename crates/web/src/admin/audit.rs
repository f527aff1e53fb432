//! The audit log page (admins): every staff action, newest first, filtered by record,
//! action or actor, with the record before and after.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use serde::Deserialize;
use tidings_app::audit::{AuditEntry, AuditFilter};
use tidings_app::{App, AppError};

use super::console::Console;
use super::shell::{PageResult, Shell, render, when};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuditQuery {
    action: String,
    actor: String,
    subject: String,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    query: AuditQuery,
    entries: Vec<Entry>,
    next: Option<String>,
}

struct Entry {
    at: String,
    actor: String,
    actor_kind: String,
    action: String,
    subject: String,
    before: Option<String>,
    after: Option<String>,
}

impl From<AuditEntry> for Entry {
    fn from(e: AuditEntry) -> Self {
        let pretty = |v: Option<serde_json::Value>| v.and_then(|v| serde_json::to_string_pretty(&v).ok());
        Self {
            at: when(e.at),
            actor: e.actor.name,
            actor_kind: e.actor.kind.to_string(),
            action: e.action,
            subject: e.subject_id.map(|s| s.to_string()).unwrap_or_default(),
            before: pretty(e.before),
            after: pretty(e.after),
        }
    }
}

pub async fn show(State(app): State<App>, console: Console, Query(query): Query<AuditQuery>) -> PageResult {
    let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let subject_id = text(&query.subject)
        .map(|s| uuid::Uuid::parse_str(&s))
        .transpose()
        .map_err(|_| AppError::invalid("subject", "give the id of a record, such as a message's"))?;
    let filter = AuditFilter { subject_id, action: text(&query.action), actor_name: text(&query.actor) };
    let page = tidings_app::audit::list(&app, &console.caller, &filter, query.after.as_deref(), Some(100)).await?;
    let entries = page.items.into_iter().map(Entry::from).collect();
    let shell = console.shell("Audit log").await;
    let next = page.next.map(|after| {
        let params =
            [("action", &query.action), ("actor", &query.actor), ("subject", &query.subject), ("after", &after)];
        serde_urlencoded::to_string(params).unwrap_or_default()
    });
    Ok(render(StatusCode::OK, &AuditPage { shell, query, entries, next }))
}
