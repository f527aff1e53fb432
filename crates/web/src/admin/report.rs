//! The message report page: the funnel with its chart, machine opens and scanner clicks
//! apart, by channel, by partner, type, tier, region and role, and over time.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use tidings_app::App;
use tidings_app::reports::{self, Report};
use tidings_core::MessageId;

use super::charts;
use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/report.html")]
struct ReportPage {
    shell: Shell,
    report: Report,
    funnel_chart: String,
    time_chart: String,
}

pub async fn show(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let report = reports::report(&app, &console.caller, id).await?;
    let f = &report.funnel;
    let steps = [
        ("audience", f.audience),
        ("sent", f.sent),
        ("delivered", f.delivered),
        ("opened", f.opened),
        ("clicked", f.clicked),
        ("read", f.read),
        ("acknowledged", f.acknowledged),
    ];
    let steps: Vec<(&str, i64)> =
        steps.into_iter().filter(|(name, _)| report.asks_acknowledgment || *name != "acknowledged").collect();
    let funnel_chart = charts::funnel("The funnel: people at each step", &steps);
    let time_chart = charts::cumulative("People at each step over time", &report.over_time);
    let shell = console.shell(format!("Report: {}", report.title)).await;
    Ok(render(StatusCode::OK, &ReportPage { shell, report, funnel_chart, time_chart }))
}
