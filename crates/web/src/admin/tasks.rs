//! Tasks: what Tidings found for the vendor's staff to act on (partners gone quiet, each
//! with what was found), the signed-in person's own first; done with one click; the
//! search for silent partners run now by an admin.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::automation::silence::{self, Task};
use tidings_app::{App, AppError};
use tidings_core::automation::silence::{SilenceAction, SilencePolicy, Thresholds};
use tidings_core::{Action, FieldErrors};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/tasks.html")]
struct TasksPage {
    shell: Shell,
    tasks: Vec<Task>,
    mine: bool,
    done: bool,
    can_close: bool,
    can_find: bool,
    policy: SilencePolicy,
    /// The policy's sequence key, "" for none.
    policy_sequence: String,
    /// (key, name) of the sequences a quiet partner may enter.
    sequences: Vec<(String, String)>,
    /// Each tier of the catalog with its overrides (none set: all `None`).
    tier_rows: Vec<(String, Thresholds)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TasksQuery {
    mine: bool,
    done: bool,
}

pub async fn list(State(app): State<App>, console: Console, Query(q): Query<TasksQuery>) -> PageResult {
    let state = if q.done { "done" } else { "open" };
    let tasks = silence::tasks(&app, &console.caller, Some(state), q.mine).await?;
    let policy = silence::policy(&app, &console.caller).await?;
    let page = TasksPage {
        shell: console.shell("Tasks").await,
        tasks,
        mine: q.mine,
        done: q.done,
        can_close: console.caller.role.may(Action::Compose),
        can_find: console.caller.role.may(Action::Configure),
        policy_sequence: policy.sequence.as_ref().map(ToString::to_string).unwrap_or_default(),
        tier_rows: app
            .catalog
            .partner_tiers
            .iter()
            .map(|t| (t.to_string(), policy.tiers.get(t).cloned().unwrap_or_default()))
            .collect(),
        policy,
        sequences: tidings_app::automation::sequences::list(&app, &console.caller)
            .await?
            .into_iter()
            .map(|s| (s.sequence.key.to_string(), s.sequence.name))
            .collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub async fn done(State(app): State<App>, console: Console, Path(id): Path<uuid::Uuid>) -> PageResult {
    silence::done(&app, &console.caller, id).await?;
    console.flash("Task done.").await;
    Ok(Redirect::to("/admin/tasks").into_response())
}

pub async fn find(State(app): State<App>, console: Console) -> PageResult {
    let found = silence::find_now(&app, &console.caller).await?;
    let new = found.iter().filter(|f| f.new_task).count();
    console
        .flash(format!("{} partner(s) have gone quiet: {new} new task(s), the others brought up to date.", found.len()))
        .await;
    Ok(Redirect::to("/admin/tasks").into_response())
}

/// Saves the thresholds, each tier's overrides and the action.
pub async fn save_policy(
    State(app): State<App>,
    console: Console,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let value = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str());
    let checked = |name: &str| pairs.iter().any(|(k, _)| k == name);
    let mut errors = FieldErrors::new();
    let mut days = |field: &str, blank: Option<u32>| -> Option<u32> {
        match value(field).trim() {
            "" => blank,
            t => errors.check(
                field,
                t.parse::<u32>().map_err(|_| format!("'{t}' is not a whole number of days (0 leaves it out)")),
            ),
        }
    };
    let mut policy = silence::policy(&app, &console.caller).await?;
    policy.enabled = checked("enabled");
    policy.thresholds = Thresholds {
        inactive_days: days("inactive_days", Some(0)),
        no_deal_days: days("no_deal_days", Some(0)),
        stale_deal_days: days("stale_deal_days", Some(0)),
        require_training: Some(checked("require_training")),
    };
    policy.tiers.clear();
    for tier in &app.catalog.partner_tiers {
        let field = |name: &str| format!("tier:{tier}:{name}");
        let overrides = Thresholds {
            inactive_days: days(&field("inactive_days"), None),
            no_deal_days: days(&field("no_deal_days"), None),
            stale_deal_days: days(&field("stale_deal_days"), None),
            require_training: match value(&field("require_training")) {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
        };
        if overrides != Thresholds::default() {
            policy.tiers.insert(tier.clone(), overrides);
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    policy.action = if value("action") == "sequence" { SilenceAction::Sequence } else { SilenceAction::Task };
    policy.sequence = match value("sequence").trim() {
        "" => None,
        key => Some(tidings_core::Slug::parse(key).map_err(|e| AppError::invalid("sequence", e.to_string()))?),
    };
    silence::set_policy(&app, &console.caller, &policy).await?;
    console.flash("The silent-partner policy is saved; the next daily run follows it.").await;
    Ok(Redirect::to("/admin/tasks#policy").into_response())
}

/// A tier's override as the form shows it: "" for none (the defaults apply).
pub fn tier_days(value: &Option<u32>) -> String {
    value.map(|d| d.to_string()).unwrap_or_default()
}

/// A threshold as the form shows it ("" for one left out).
pub fn days(value: &Option<u32>) -> String {
    value.filter(|d| *d > 0).map(|d| d.to_string()).unwrap_or_default()
}
