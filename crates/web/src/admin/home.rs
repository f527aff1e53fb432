//! The overview: how big the directory is, the must-know messages still being
//! acknowledged, and the latest messages.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;

use tidings_app::compliance::{self, Summary};
use tidings_app::messages::MessageFilter;
use tidings_app::{App, AppError};
use tidings_core::messages::Message;

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/home.html")]
struct HomePage {
    shell: Shell,
    critical: Vec<Summary>,
    recent: Vec<Message>,
    awaiting: Vec<Message>,
    /// Channels whose provider this server's workers cannot reach: (channel, since, why).
    outages: Vec<(String, String, String)>,
}

pub async fn show(State(app): State<App>, console: Console) -> PageResult {
    let page = page(&app, &console).await?;
    Ok(render(StatusCode::OK, &page))
}

async fn page(app: &App, console: &Console) -> Result<HomePage, AppError> {
    let critical = compliance::messages(app, &console.caller, 5).await?;
    let recent = tidings_app::messages::list(
        app,
        &console.caller,
        &MessageFilter { newest_first: true, ..Default::default() },
        None,
        Some(10),
    )
    .await?;
    let awaiting = tidings_app::approvals::awaiting(app, &console.caller, 200).await?;
    let outages = app
        .channels
        .outages()
        .into_iter()
        .map(|(channel, o)| {
            let since = super::shell::when(tidings_core::Timestamp::from_millis(o.since_ms));
            (channel.to_string(), since, o.reason)
        })
        .collect();
    Ok(HomePage { shell: console.shell("Overview").await, critical, recent: recent.items, awaiting, outages })
}

/// A message's title in its default locale.
pub fn title(m: &Message) -> &str {
    m.title()
}
