//! The system page (admins): the nodes serving and working, the queue, the jobs, the
//! database: what the person who runs Tidings looks at first.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use tidings_app::App;
use tidings_app::system::{NodeState, SystemStatus};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/system.html")]
struct SystemPage {
    shell: Shell,
    status: SystemStatus,
}

pub async fn show(State(app): State<App>, console: Console) -> PageResult {
    let status = tidings_app::system::status(&app, &console.caller).await?;
    let page = SystemPage { status, shell: console.shell("System").await };
    Ok(render(StatusCode::OK, &page))
}

/// A size in bytes as people read it.
pub fn size(bytes: &i64) -> String {
    let b = *bytes as f64;
    match b {
        b if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        b if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        b if b >= 1e3 => format!("{:.0} kB", b / 1e3),
        b => format!("{b} bytes"),
    }
}

/// The badge's colour: alive is good news, stale is the one to act on.
pub fn state_class(state: &NodeState) -> &'static str {
    match state {
        NodeState::Alive => "done",
        NodeState::Stale => "critical",
        NodeState::Stopped => "info",
    }
}

pub fn state_label(state: &NodeState) -> &'static str {
    state.as_str()
}
