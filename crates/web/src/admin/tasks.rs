//! Tasks: what Tidings found for the vendor's staff to act on (partners gone quiet, each
//! with what was found), the signed-in person's own first; done with one click; the
//! search for silent partners run now by an admin.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::App;
use tidings_app::automation::silence::{self, Task};
use tidings_core::Action;

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
    let page = TasksPage {
        shell: console.shell("Tasks").await,
        tasks,
        mine: q.mine,
        done: q.done,
        can_close: console.caller.role.may(Action::Compose),
        can_find: console.caller.role.may(Action::Configure),
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
