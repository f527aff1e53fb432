//! Tasks: what Tidings found for the vendor's staff to act on (partners gone quiet, each
//! with what was found), the signed-in person's own first; done with one click; the
//! search for silent partners run now by an admin.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::App;
use tidings_app::automation::silence::{self, Task};
use tidings_core::Action;
use tidings_core::automation::silence::{SilenceAction, SilencePolicy, Thresholds};

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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PolicyForm {
    enabled: Option<String>,
    inactive_days: String,
    no_deal_days: String,
    stale_deal_days: String,
    require_training: Option<String>,
    action: String,
    sequence: String,
}

/// Saves the default thresholds and the action; tier overrides stay as the API set them.
pub async fn save_policy(State(app): State<App>, console: Console, Form(form): Form<PolicyForm>) -> PageResult {
    let days = |field: &str, text: &str| -> Result<Option<u32>, tidings_app::AppError> {
        match text.trim() {
            "" => Ok(Some(0)),
            t => t.parse::<u32>().map(Some).map_err(|_| {
                tidings_app::AppError::invalid(field, format!("'{t}' is not a whole number of days (0 leaves it out)"))
            }),
        }
    };
    let mut policy = silence::policy(&app, &console.caller).await?;
    policy.enabled = form.enabled.is_some();
    policy.thresholds = Thresholds {
        inactive_days: days("inactive_days", &form.inactive_days)?,
        no_deal_days: days("no_deal_days", &form.no_deal_days)?,
        stale_deal_days: days("stale_deal_days", &form.stale_deal_days)?,
        require_training: Some(form.require_training.is_some()),
    };
    policy.action = if form.action == "sequence" { SilenceAction::Sequence } else { SilenceAction::Task };
    policy.sequence = match form.sequence.trim() {
        "" => None,
        key => Some(
            tidings_core::Slug::parse(key).map_err(|e| tidings_app::AppError::invalid("sequence", e.to_string()))?,
        ),
    };
    silence::set_policy(&app, &console.caller, &policy).await?;
    console.flash("The silent-partner policy is saved; the next daily run follows it.").await;
    Ok(Redirect::to("/admin/tasks#policy").into_response())
}

/// A threshold as the form shows it ("" for one left out).
pub fn days(value: &Option<u32>) -> String {
    value.filter(|d| *d > 0).map(|d| d.to_string()).unwrap_or_default()
}
