//! The partner managers' overdue queue: partners whose obligation is overdue or at risk,
//! the manager's own (or all), with exempt and snooze, each with its reason.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::App;
use tidings_app::overdue::{self, OverdueItem, WaiverDraft, WaiverKind};
use tidings_core::{MessageId, PartnerId, Timestamp};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/overdue.html")]
struct QueuePage {
    shell: Shell,
    items: Vec<OverdueItem>,
    all: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct QueueFilter {
    /// Every partner, not only the signed-in person's.
    all: Option<String>,
}

pub async fn show(State(app): State<App>, console: Console, Query(filter): Query<QueueFilter>) -> PageResult {
    let all = filter.all.is_some();
    let items = overdue::queue(&app, &console.caller, all).await?;
    Ok(render(StatusCode::OK, &QueuePage { shell: console.shell("Overdue").await, items, all }))
}

#[derive(Deserialize)]
pub struct DecisionForm {
    message: MessageId,
    partner: PartnerId,
    /// `exempt`, or the days to snooze (`1`, `3`, `7`).
    decision: String,
    #[serde(default)]
    reason: String,
}

const DAY_MS: i64 = 86_400_000;

pub async fn decide(State(app): State<App>, console: Console, Form(form): Form<DecisionForm>) -> PageResult {
    let draft = match form.decision.as_str() {
        "exempt" => WaiverDraft { kind: WaiverKind::Exempt, reason: form.reason, until: None },
        days => {
            let days: i64 = days.parse().unwrap_or(1).clamp(1, 30);
            let until = Timestamp::from_millis(app.clock.now().as_millis() + days * DAY_MS);
            WaiverDraft { kind: WaiverKind::Snoozed, reason: form.reason, until: Some(until.to_rfc3339()) }
        }
    };
    let waiver = overdue::decide(&app, &console.caller, form.message, form.partner, &draft).await?;
    console
        .flash(match waiver.kind {
            WaiverKind::Exempt => "The partner is exempt from this message's obligation.".to_owned(),
            WaiverKind::Snoozed => {
                "The partner is snoozed; it comes back to the queue when the snooze ends.".to_owned()
            }
        })
        .await;
    Ok(Redirect::to("/admin/overdue").into_response())
}

#[derive(Deserialize)]
pub struct EscalateForm {
    message: MessageId,
    partner: PartnerId,
}

pub async fn escalate(State(app): State<App>, console: Console, Form(form): Form<EscalateForm>) -> PageResult {
    let queued = tidings_app::chase::escalate_partner(&app, &console.caller, form.message, form.partner).await?;
    let leads = if queued == 1 { "lead is" } else { "leads are" };
    console.flash(format!("The partner's {leads} told now who still owes an acknowledgment.")).await;
    Ok(Redirect::to("/admin/overdue").into_response())
}
