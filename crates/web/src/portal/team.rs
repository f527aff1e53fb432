//! The partner lead's team page: their own partner's must-know messages, who has not
//! acknowledged each, and a reminder button. Anyone else gets the not-found page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::App;
use tidings_app::team::{self, Colleague, CriticalStatus};
use tidings_core::MessageId;

use super::page::{Frame, OrPage, PortalResult, render};
use super::visitor::Signed;
use crate::extract::Path;
use tidings_app::i18n::Tr;

struct Row {
    id: String,
    title: String,
    progress: String,
    total: usize,
    acknowledged: usize,
    due: Option<String>,
    overdue: bool,
    pending: Vec<Colleague>,
    last_reminded: Option<String>,
    next_reminder: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/team.html")]
struct TeamPage {
    frame: Frame,
    rows: Vec<Row>,
}

fn row(tr: &Tr, zone: &tidings_core::TimeZone, s: CriticalStatus) -> Row {
    let date = |at: tidings_core::Timestamp| at.local(zone);
    let counts = [("done", s.acknowledged.to_string()), ("total", s.total.to_string())];
    Row {
        id: s.message_id.to_string(),
        title: s.title,
        progress: tr.text_with_all("team-progress", &counts),
        total: s.total,
        acknowledged: s.acknowledged,
        due: s.due_at.map(|d| tr.text_with("team-due", "date", &d.stated(zone))),
        overdue: s.overdue,
        pending: s.pending,
        last_reminded: s.last_reminded_at.map(|d| tr.text_with("team-reminded", "date", &date(d))),
        next_reminder: s.next_reminder_at.map(|d| tr.text_with("team-next-reminder", "date", &date(d))),
    }
}

pub async fn show(State(app): State<App>, signed: Signed) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let statuses = team::overview(&app, &signed.member).await.or_page(&tr)?;
    let frame = super::frame_for(&app, &signed, None).await.or_page(&tr)?;
    let zone = &signed.member.profile.time_zone;
    let rows = statuses.into_iter().map(|s| row(&tr, zone, s)).collect();
    Ok(render(StatusCode::OK, &TeamPage { frame, rows }))
}

pub async fn remind(State(app): State<App>, signed: Signed, Path(id): Path<MessageId>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let emailed = team::remind(&app, &signed.member, id).await.or_page(&tr)?;
    signed.flash(tr.text_with("team-reminder-sent", "count", &emailed.to_string())).await;
    Ok(Redirect::to("/portal/team").into_response())
}
