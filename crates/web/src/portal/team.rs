//! The partner lead's team page: their own partner's must-know messages, who has not
//! acknowledged each, and a reminder button; and the partner's shared Teams and Slack
//! channels, which the lead connects, tests and disconnects. Anyone else gets the
//! not-found page.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::noise;
use tidings_app::nominees::{self, RoleAnswer};
use tidings_app::partner_channels::{self, BindingView, PartnerAdmin};
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
    roles: Vec<RoleRow>,
    channels: Vec<ChannelRow>,
    /// The partner's defaults for its people: the digest ("" for the vendor's) and topics.
    digest_options: [(&'static str, &'static str); 3],
    defaults_digest: String,
    default_topics: Vec<tidings_app::noise::DefaultTopic>,
}

/// A role, and the select of who answers for it: (member id, "name · email", chosen).
struct RoleRow {
    key: &'static str,
    name: String,
    candidates: Vec<(String, String, bool)>,
    named: Option<String>,
}

fn role_rows(tr: &Tr, zone: &tidings_core::TimeZone, answers: Vec<RoleAnswer>) -> Vec<RoleRow> {
    answers
        .into_iter()
        .map(|a| {
            let chosen = a.nominee.as_ref().map(|n| n.member_id);
            let mut candidates: Vec<(String, String, bool)> = a
                .candidates
                .iter()
                .map(|c| (c.member_id.to_string(), person(&c.name, &c.email), Some(c.member_id) == chosen))
                .collect();
            // Named before, and no longer listed (out of the role since): still shown.
            if let Some(n) = a.nominee.as_ref().filter(|n| !a.candidates.iter().any(|c| c.member_id == n.member_id)) {
                candidates.insert(0, (n.member_id.to_string(), person(&n.name, &n.email), true));
            }
            RoleRow {
                key: a.role.as_str(),
                name: tr.text(&format!("role-{}", a.role.as_str())),
                candidates,
                named: a.nominee.map(|n| {
                    tr.text_with_all("team-role-named", &[("by", n.nominated_by), ("date", n.nominated_at.local(zone))])
                }),
            }
        })
        .collect()
}

fn person(name: &str, email: &str) -> String {
    if name.is_empty() { email.to_owned() } else { format!("{name} · {email}") }
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
    let bindings =
        partner_channels::of_partner(&app, PartnerAdmin::Lead(&signed.member), partner).await.or_page(&tr)?;
    let channels = channel_rows(&tr, zone, bindings);
    let answers = nominees::of_partner(&app, PartnerAdmin::Lead(&signed.member), partner).await.or_page(&tr)?;
    let roles = role_rows(&tr, zone, answers);
    let defaults = noise::partner_defaults(&app, PartnerAdmin::Lead(&signed.member), partner).await.or_page(&tr)?;
    let page = TeamPage {
        frame,
        rows,
        roles,
        channels,
        digest_options: [
            ("off", "prefs-digest-off"),
            ("daily", "prefs-digest-daily"),
            ("weekly", "prefs-digest-weekly"),
        ],
        defaults_digest: defaults.defaults.digest.map(|d| d.as_str().to_owned()).unwrap_or_default(),
        default_topics: defaults.topics,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Saves the partner's defaults for its people (the lead's own partner only).
pub async fn save_defaults(
    State(app): State<App>,
    signed: Signed,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let partner = signed.member.profile.partner_id;
    let saved = match crate::admin::partner_defaults::input_from(&pairs) {
        Ok(input) => noise::set_partner_defaults(&app, PartnerAdmin::Lead(&signed.member), partner, &input).await,
        Err(e) => Err(e),
    };
    let note = match saved {
        Ok(_) => tr.text("team-defaults-saved"),
        Err(AppError::Forbidden(_)) => return Err(AppError::NotFound("page")).or_page(&tr),
        Err(e) => tr.text_with("team-defaults-refused", "reason", &e.to_string()),
    };
    signed.flash(note).await;
    Ok(Redirect::to("/portal/team#defaults").into_response())
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
            partner_channels::bind(&app, PartnerAdmin::Lead(&signed.member), partner, channel, &form.url, &form.label)
                .await;
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
        partner_channels::unbind(&app, PartnerAdmin::Lead(&signed.member), partner, channel).await.or_page(&tr)?;
        signed.flash(tr.text("team-channel-removed")).await;
    }
    Ok(Redirect::to("/portal/team#channels").into_response())
}

pub async fn test(State(app): State<App>, signed: Signed, Path(channel): Path<String>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    if let Some(channel) = partner_channels::service_named(&channel) {
        let partner = signed.member.profile.partner_id;
        let tested =
            partner_channels::test(&app, PartnerAdmin::Lead(&signed.member), partner, channel).await.or_page(&tr)?;
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

#[derive(serde::Deserialize)]
pub struct NomineeForm {
    #[serde(default)]
    member_id: String,
}

/// Names who answers for a role (an empty choice: nobody in particular).
pub async fn nominate(
    State(app): State<App>,
    signed: Signed,
    Path(role): Path<String>,
    Form(form): Form<NomineeForm>,
) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let Ok(role) = role.parse::<tidings_core::Role>() else {
        return Err(AppError::NotFound("page")).or_page(&tr);
    };
    let partner = signed.member.profile.partner_id;
    let lead = PartnerAdmin::Lead(&signed.member);
    let done = match form.member_id.trim() {
        "" => match nominees::withdraw(&app, lead, partner, role).await {
            Err(AppError::NotFound(_)) => Ok(()),
            other => other,
        },
        id => match id.parse::<tidings_core::MemberId>() {
            Ok(member) => nominees::nominate(&app, lead, partner, role, member).await.map(|_| ()),
            Err(_) => Err(AppError::invalid("member_id", "choose someone from the list")),
        },
    };
    let note = match done {
        Ok(()) => tr.text("team-role-saved"),
        Err(AppError::Forbidden(_)) => return Err(AppError::NotFound("page")).or_page(&tr),
        Err(e) => tr.text_with("team-role-refused", "reason", &e.to_string()),
    };
    signed.flash(note).await;
    Ok(Redirect::to("/portal/team#roles").into_response())
}
