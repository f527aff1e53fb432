//! The engagement overview page: partners by last activity, read and acknowledgment
//! rates over a window, the silent ones first.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use serde::Deserialize;
use tidings_app::App;
use tidings_app::engagement::{self, Overview};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Deserialize)]
#[serde(default)]
pub struct Days {
    window: i64,
    silent: i64,
}

impl Default for Days {
    fn default() -> Self {
        Self { window: 90, silent: 60 }
    }
}

#[derive(Template)]
#[template(path = "admin/engagement.html")]
struct EngagementPage {
    shell: Shell,
    overview: Overview,
    silent_count: usize,
}

pub async fn show(State(app): State<App>, console: Console, Query(days): Query<Days>) -> PageResult {
    let overview = engagement::overview(&app, &console.caller, days.window, days.silent).await?;
    let silent_count = overview.partners.iter().filter(|p| p.silent).count();
    let shell = console.shell("Engagement").await;
    Ok(render(StatusCode::OK, &EngagementPage { shell, overview, silent_count }))
}
