//! The preferences page: topics (required ones locked, with why) and the channels wanted
//! for each, channels, the email opt-in and the terms (each recorded as consent with the
//! version of the text shown), language and time zone.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::consent::TopicChoice;
use tidings_app::passwords::Change;
use tidings_app::self_service::{self, Settings, SettingsChange};
use tidings_app::{App, AppError};
use tidings_core::TimeZone;
use tidings_core::consent::Channel;

use super::page::{Frame, OrPage, PortalResult};
use super::visitor::Signed;

/// The languages offered, each named in itself.
const LANGUAGES: [(&str, &str); 4] = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")];
/// Names the opt-in text of the portal's own files: bump it when that text changes.
const OPT_IN_TEXT: &str = "portal-email-1";
const SMS_OPT_IN_TEXT: &str = "portal-sms-1";

#[derive(Template)]
#[template(path = "portal/preferences.html")]
struct PreferencesPage {
    frame: Frame,
    error: Option<String>,
    /// The topic x channel grid: one row a topic, one column a channel offered here.
    columns: Vec<Column>,
    /// The columns' channels, sent back with the form.
    grid: String,
    rows: Vec<Row>,
    settings: Settings,
    terms_url: Option<String>,
    terms_accepted: Option<String>,
    languages: Vec<(String, String)>,
    locale: String,
    zones: &'static [String],
    time_zone: String,
    working_hours: String,
    password_set: bool,
    /// Slack is configured, so members may turn its direct messages off.
    slack: bool,
    /// The key browsers subscribe with, when web push is set up.
    push_key: Option<String>,
    /// How many of the member's browsers get notifications.
    browsers: usize,
    /// The digest choices: (value, label key), and the member's own.
    digest_options: [(&'static str, &'static str); 4],
    digest_choice: String,
    /// What applies now, in the member's words.
    digest_now: String,
}

const DIGEST_OPTIONS: [(&str, &str); 4] = [
    ("default", "prefs-digest-default"),
    ("off", "prefs-digest-off"),
    ("daily", "prefs-digest-daily"),
    ("weekly", "prefs-digest-weekly"),
];

fn digest_label(frequency: tidings_core::noise::DigestFrequency) -> &'static str {
    match frequency {
        tidings_core::noise::DigestFrequency::Off => "prefs-digest-off",
        tidings_core::noise::DigestFrequency::Daily => "prefs-digest-daily",
        tidings_core::noise::DigestFrequency::Weekly => "prefs-digest-weekly",
    }
}

/// A channel the member can choose per topic on this page.
struct Column {
    channel: Channel,
    label: String,
    /// Nothing goes out on it yet, whatever the grid says (no consent, no browser).
    closed: bool,
}

impl Column {
    /// Why nothing goes out on the channel yet, for the note under the grid.
    fn closed_hint(&self) -> &'static str {
        match self.channel {
            Channel::Email => "prefs-grid-email-closed",
            Channel::Sms => "prefs-grid-sms-closed",
            Channel::WebPush => "prefs-grid-push-closed",
            _ => "prefs-grid-slack-closed",
        }
    }
}

struct Row {
    topic: TopicChoice,
    cells: Vec<Cell>,
}

struct Cell {
    name: String,
    label: String,
    chosen: bool,
    closed: bool,
}

/// The channels offered per topic: email always, SMS to a member with a number, Slack
/// when it is set up, notifications when web push is; each with whether it is open.
fn columns(app: &App, tr: &tidings_app::i18n::Tr, settings: &Settings, browsers: usize) -> Vec<Column> {
    let mut out = vec![Column {
        channel: Channel::Email,
        label: tr.text("prefs-grid-email"),
        closed: !settings.email_channel || !settings.email_opted_in || settings.email_suppressed,
    }];
    if settings.phone.is_some() && app.channels.provides(Channel::Sms) {
        out.push(Column { channel: Channel::Sms, label: tr.text("prefs-grid-sms"), closed: !settings.sms_opted_in });
    }
    if app.channels.provides(Channel::Slack) {
        out.push(Column {
            channel: Channel::Slack,
            label: tr.text("prefs-grid-slack"),
            closed: !settings.slack_channel,
        });
    }
    if tidings_app::push::public_key(app).is_some() {
        out.push(Column { channel: Channel::WebPush, label: tr.text("prefs-grid-push"), closed: browsers == 0 });
    }
    out
}

fn rows(topics: &[TopicChoice], columns: &[Column]) -> Vec<Row> {
    topics
        .iter()
        .map(|topic| Row {
            topic: topic.clone(),
            cells: columns
                .iter()
                .map(|column| Cell {
                    name: cell_name(&topic.key, column.channel),
                    label: format!("{}: {}", topic.name, column.label),
                    chosen: topic.channels.iter().any(|c| c.channel == column.channel && c.chosen),
                    closed: column.closed || !topic.on,
                })
                .collect(),
        })
        .collect()
}

fn cell_name(topic: &str, channel: Channel) -> String {
    format!("channel:{topic}:{channel}")
}

/// The preferences page runs one script of ours (notifications in this browser); every
/// other portal page runs none.
const POLICY_WITH_PUSH: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
     script-src 'self'; connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

async fn page(app: &App, signed: &Signed, settings: Settings, error: Option<String>) -> PortalResult {
    let mut frame = super::frame_for(app, signed, None).await.or_page(&signed.visitor.tr)?;
    frame.path = "/portal/preferences".into();
    let locale = settings.locale.to_string();
    let mut languages: Vec<(String, String)> =
        LANGUAGES.iter().map(|(code, name)| ((*code).to_owned(), (*name).to_owned())).collect();
    if !languages.iter().any(|(code, _)| *code == locale) {
        languages.insert(0, (locale.clone(), locale.clone()));
    }
    let zone = &signed.member.profile.time_zone;
    let password_set = tidings_app::passwords::is_set(app, &signed.member).await.or_page(&signed.visitor.tr)?;
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let push_key = tidings_app::push::public_key(app);
    let browsers = match push_key {
        Some(_) => tidings_app::push::browsers(app, &signed.member).await.or_page(&signed.visitor.tr)?.len(),
        None => 0,
    };
    let columns = columns(app, &signed.visitor.tr, &settings, browsers);
    let rows = rows(&settings.topics, &columns);
    let grid = columns.iter().map(|c| c.channel.as_str()).collect::<Vec<_>>().join(",");
    Ok(super::page::render_with_policy(
        status,
        &PreferencesPage {
            frame,
            error,
            columns,
            grid,
            rows,
            terms_url: app.terms.url.clone(),
            terms_accepted: settings.terms_accepted_at.map(|at| at.local(zone)),
            languages,
            locale,
            zones: TimeZone::known(),
            time_zone: settings.time_zone.to_string(),
            working_hours: settings.working_hours.map(|w| w.to_string()).unwrap_or_default(),
            password_set,
            slack: app.channels.provides(tidings_core::consent::Channel::Slack),
            push_key,
            browsers,
            digest_options: DIGEST_OPTIONS,
            digest_choice: settings.digest_choice.map_or("default", |f| f.as_str()).to_owned(),
            digest_now: signed.visitor.tr.text(digest_label(settings.digest.frequency)),
            settings,
        },
        POLICY_WITH_PUSH,
    ))
}

pub async fn show(State(app): State<App>, signed: Signed) -> PortalResult {
    let settings = self_service::settings(&app, &signed.member).await.or_page(&signed.visitor.tr)?;
    page(&app, &signed, settings, None).await
}

pub async fn save(State(app): State<App>, signed: Signed, Form(fields): Form<Vec<(String, String)>>) -> PortalResult {
    let current = self_service::settings(&app, &signed.member).await.or_page(&signed.visitor.tr)?;
    let checked = |name: &str| fields.iter().any(|(k, _)| k == name);
    let value = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    // An unchecked box is not sent: every topic the member may turn off is on or off.
    let topics: BTreeMap<String, bool> = current
        .topics
        .iter()
        .filter(|t| !t.locked)
        .map(|t| (t.key.clone(), checked(&format!("topic:{}", t.key))))
        .collect();
    // The page names the columns it showed (a form without them changes no cell); every
    // cell of those is sent as on or off.
    let shown: Vec<Channel> = value("grid").split(',').filter_map(|c| c.parse().ok()).collect();
    let topic_channels = current
        .topics
        .iter()
        .map(|t| (t.key.clone(), shown.iter().map(|c| (c.to_string(), checked(&cell_name(&t.key, *c)))).collect()))
        .collect();
    let change = SettingsChange {
        topics,
        topic_channels,
        email_channel: checked("email_channel"),
        email_opt_in: checked("email_opt_in"),
        sms_opt_in: current.phone.is_some().then(|| checked("sms_opt_in")),
        slack_channel: app.channels.provides(tidings_core::consent::Channel::Slack).then(|| checked("slack_channel")),
        accept_terms: checked("accept_terms"),
        locale: value("locale"),
        time_zone: value("time_zone"),
        working_hours: fields.iter().find(|(k, _)| k == "working_hours").map(|(_, v)| v.clone()),
        opt_in_text_version: format!("{OPT_IN_TEXT}/{}", signed.visitor.tr.code()),
        sms_opt_in_text_version: format!("{SMS_OPT_IN_TEXT}/{}", signed.visitor.tr.code()),
        digest: fields.iter().find(|(k, _)| k == "digest").map(|(_, v)| v.clone()),
    };
    match self_service::change(&app, &signed.member, &change).await {
        Ok(saved) => {
            let tr = tidings_app::i18n::Tr::for_locale(saved.locale.as_str());
            signed.flash(tr.text("prefs-saved")).await;
            Ok(Redirect::to("/portal/preferences").into_response())
        }
        Err(AppError::Invalid(errors)) => page(&app, &signed, current, Some(errors.to_string())).await,
        Err(e) => Err(e).or_page(&signed.visitor.tr),
    }
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    /// The password they have now, when one is set.
    #[serde(default)]
    current: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    action: String,
}

/// Sets, replaces or removes the member's optional password.
pub async fn password(State(app): State<App>, signed: Signed, Form(form): Form<PasswordForm>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    // This session stays signed in; every other one of the member's ends.
    let session = signed.visitor.session.id().map(|id| id.to_string());
    let change = Change { current: &form.current, session: session.as_deref() };
    let outcome = if form.action == "remove" {
        tidings_app::passwords::remove(&app, &signed.member, change).await.map(|()| "prefs-password-removed")
    } else if form.password != form.confirm {
        Err(AppError::invalid("password", tr.text("prefs-password-mismatch")))
    } else if tidings_app::passwords::check(&form.password).is_err() {
        Err(AppError::invalid("password", tr.text("prefs-password-short")))
    } else {
        tidings_app::passwords::set(&app, &signed.member, &form.password, change).await.map(|()| "prefs-password-saved")
    };
    // The member's own words for a wrong current password.
    let outcome = outcome.map_err(|e| match e {
        AppError::Invalid(errors) if errors.iter().any(|e| e.field == "current_password") => {
            AppError::invalid("current_password", tr.text("prefs-password-current-wrong"))
        }
        other => other,
    });
    match outcome {
        Ok(note) => {
            signed.flash(tr.text(note)).await;
            Ok(Redirect::to("/portal/preferences").into_response())
        }
        Err(AppError::Invalid(errors)) => {
            let settings = self_service::settings(&app, &signed.member).await.or_page(&tr)?;
            let text = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join(" ");
            page(&app, &signed, settings, Some(text)).await
        }
        Err(e) => Err(e).or_page(&tr),
    }
}

#[derive(serde::Deserialize)]
pub struct PushForm {
    endpoint: String,
    p256dh: String,
    auth: String,
}

/// Saves this browser's subscription (posted by the page's script): 204, or 422 with the
/// reason.
pub async fn subscribe(
    State(app): State<App>,
    signed: Signed,
    headers: axum::http::HeaderMap,
    Form(form): Form<PushForm>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let subscription =
        tidings_channels::push::Subscription { endpoint: form.endpoint, p256dh: form.p256dh, auth: form.auth };
    let agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    match tidings_app::push::subscribe(&app, &signed.member, subscription, agent).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()).into_response(),
    }
}

/// Stops notifications in every browser of the member.
pub async fn unsubscribe(State(app): State<App>, signed: Signed) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let n = tidings_app::push::unsubscribe_all(&app, &signed.member).await.or_page(&tr)?;
    signed.flash(tr.text_with("push-stopped", "count", &n.to_string())).await;
    Ok(axum::response::Redirect::to("/portal/preferences#push").into_response())
}
