//! The partner lead's team page: their own partner's must-know messages, who has not
//! acknowledged each, and a reminder button; and the partner's shared Teams and Slack
//! channels, which the lead connects, tests and disconnects. Anyone else gets the
//! not-found page.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::partner_channels::{self, Binder, BindingView};
use tidings_app::team::{self, Colleague, CriticalStatus};
use tidings_app::{App, AppError};
use tidings_core::MessageId;
use tidings_core::consent::Channel;
use tidings_core::obligations::{PartnerState, QuotaProgress};

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
    /// What the partner owes, one line a quota, and whether all of it is met.
    owes: Vec<String>,
    met: bool,
    pending: Vec<Colleague>,
    last_reminded: Option<String>,
    next_reminder: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/team.html")]
struct TeamPage {
    frame: Frame,
    rows: Vec<Row>,
    channels: Vec<ChannelRow>,
}

/// One service the partner can connect its shared channel on.
struct ChannelRow {
    key: &'static str,
    name: &'static str,
    hint: String,
    url: Option<String>,
    label: String,
    last_post: Option<String>,
    failed: Option<String>,
}

fn channel_rows(tr: &Tr, zone: &tidings_core::TimeZone, bindings: Vec<BindingView>) -> Vec<ChannelRow> {
    partner_channels::services()
        .into_iter()
        .map(|channel| {
            let bound = bindings.iter().find(|b| b.channel == channel);
            ChannelRow {
                key: channel.as_str(),
                name: partner_channels::service(channel),
                hint: tr.text(if channel == Channel::Teams {
                    "team-channel-teams-hint"
                } else {
                    "team-channel-slack-hint"
                }),
                url: bound.map(|b| b.url.clone()),
                label: bound.map(|b| b.label.clone()).unwrap_or_default(),
                last_post: bound
                    .and_then(|b| b.last_posted_at)
                    .map(|at| tr.text_with("team-channel-last-post", "date", &at.local(zone))),
                failed: bound
                    .and_then(|b| b.last_error.as_deref())
                    .map(|e| tr.text_with("team-channel-failed", "reason", e)),
            }
        })
        .collect()
}

/// One quota in the lead's words: "Support: 1 of 1 ✓", "Operations: 0 of 1", or nobody
/// here holds the role.
fn owed(tr: &Tr, q: &QuotaProgress) -> String {
    let who = q.quota.role.map_or_else(|| tr.text("team-owes-everyone"), |r| tr.text(&format!("role-{}", r.as_str())));
    if q.waived() {
        return tr.text_with("team-owes-nobody", "role", &who);
    }
    let counts =
        [("role", who), ("done", q.acknowledged.min(q.needed()).to_string()), ("needed", q.needed().to_string())];
    let line = tr.text_with_all("team-owes-quota", &counts);
    if q.met() { format!("{line} ✓") } else { line }
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
        owes: s.quotas.iter().map(|q| owed(tr, q)).collect(),
        met: s.obligation.is_some_and(|o| o.state == PartnerState::Met),
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
    let partner = signed.member.profile.partner_id;
    let bindings = partner_channels::of_partner(&app, Binder::Lead(&signed.member), partner).await.or_page(&tr)?;
    let channels = channel_rows(&tr, zone, bindings);
    Ok(render(StatusCode::OK, &TeamPage { frame, rows, channels }))
}

#[derive(serde::Deserialize)]
pub struct BindForm {
    url: String,
    #[serde(default)]
    label: String,
}

pub async fn bind(
    State(app): State<App>,
    signed: Signed,
    Path(channel): Path<String>,
    Form(form): Form<BindForm>,
) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    if let Some(channel) = partner_channels::service_named(&channel) {
        let partner = signed.member.profile.partner_id;
        let done =
            partner_channels::bind(&app, Binder::Lead(&signed.member), partner, channel, &form.url, &form.label).await;
        let note = match done {
            Ok(_) => tr.text("team-channel-bound"),
            Err(AppError::Forbidden(_)) => return Err(AppError::NotFound("page")).or_page(&tr),
            Err(e) => tr.text_with("team-channel-refused", "reason", &e.to_string()),
        };
        signed.flash(note).await;
    }
    Ok(Redirect::to("/portal/team#channels").into_response())
}

pub async fn unbind(State(app): State<App>, signed: Signed, Path(channel): Path<String>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    if let Some(channel) = partner_channels::service_named(&channel) {
        let partner = signed.member.profile.partner_id;
        partner_channels::unbind(&app, Binder::Lead(&signed.member), partner, channel).await.or_page(&tr)?;
        signed.flash(tr.text("team-channel-removed")).await;
    }
    Ok(Redirect::to("/portal/team#channels").into_response())
}

pub async fn test(State(app): State<App>, signed: Signed, Path(channel): Path<String>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    if let Some(channel) = partner_channels::service_named(&channel) {
        let partner = signed.member.profile.partner_id;
        let tested = partner_channels::test(&app, Binder::Lead(&signed.member), partner, channel).await.or_page(&tr)?;
        let note = match tested.error {
            None => tr.text("team-channel-tested"),
            Some(reason) => tr.text_with("team-channel-test-failed", "reason", &reason),
        };
        signed.flash(note).await;
    }
    Ok(Redirect::to("/portal/team#channels").into_response())
}

pub async fn remind(State(app): State<App>, signed: Signed, Path(id): Path<MessageId>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let emailed = team::remind(&app, &signed.member, id).await.or_page(&tr)?;
    signed.flash(tr.text_with("team-reminder-sent", "count", &emailed.to_string())).await;
    Ok(Redirect::to("/portal/team").into_response())
}
