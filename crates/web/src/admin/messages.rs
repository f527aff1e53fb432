//! Messages in the console: the list, composing (new and edit, with the audience builder
//! and a count before saving), the message page (checks, audience, preview as a chosen
//! member in the inbox and in email), and the lifecycle buttons: test send, schedule,
//! release, cancel, copy.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::audiences::{self, Preview};
use tidings_app::lint::{self, Warning};
use tidings_app::messages::MessageFilter;
use tidings_app::messages::{self, MessagePreview};
use tidings_app::segments::Segment;
use tidings_app::{App, AppError};
use tidings_core::messages::{Importance, Message, MessageState};
use tidings_core::{Action, FieldErrors, MessageId, PartnerGroup, Role, Timestamp, Topic};

use super::console::Console;
use super::forms::{ComposeForm, Intent};
use super::shell::{PageResult, Shell, render, when_in};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    state: String,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/messages.html")]
struct ListPage {
    shell: Shell,
    state: String,
    messages: Vec<Message>,
    next: Option<String>,
}

pub async fn list(State(app): State<App>, console: Console, Query(query): Query<ListQuery>) -> PageResult {
    let state = match query.state.as_str() {
        "" => None,
        s => Some(s.parse::<MessageState>().map_err(|e| AppError::invalid("state", e.to_string()))?),
    };
    let filter = MessageFilter { state, newest_first: true, ..Default::default() };
    let page = messages::list(&app, &console.caller, &filter, query.after.as_deref(), Some(50)).await?;
    let next = page.next.map(|after| format!("state={}&after={after}", query.state));
    let shell = console.shell("Messages").await;
    Ok(render(StatusCode::OK, &ListPage { shell, state: query.state, messages: page.items, next }))
}

/// What the compose form offers to choose from.
pub(super) struct Choices {
    pub(super) topics: Vec<Topic>,
    pub(super) segments: Vec<Segment>,
    pub(super) groups: Vec<PartnerGroup>,
    pub(super) types: Vec<String>,
    pub(super) tiers: Vec<String>,
    pub(super) regions: Vec<String>,
    pub(super) roles: Vec<&'static str>,
    pub(super) ladders: Vec<tidings_core::escalation::Ladder>,
}

pub(super) async fn choices(app: &App, console: &Console) -> Result<Choices, AppError> {
    let caller = &console.caller;
    let catalog = &app.catalog;
    let names = |list: &[tidings_core::Slug]| list.iter().map(|s| s.as_str().to_owned()).collect();
    Ok(Choices {
        topics: tidings_app::topics::list(app, caller, None, Some(500)).await?.items,
        segments: tidings_app::segments::list(app, caller, None, Some(500)).await?.items,
        groups: tidings_app::groups::list(app, caller, None, Some(500)).await?.items,
        types: names(&catalog.partner_types),
        tiers: names(&catalog.partner_tiers),
        regions: names(&catalog.regions),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        ladders: tidings_app::ladders::list(app, caller).await?,
    })
}

#[derive(Template)]
#[template(path = "admin/compose.html")]
struct ComposePage {
    shell: Shell,
    /// The message being changed; `None` for a new one.
    editing: Option<MessageId>,
    form: ComposeForm,
    choices: Choices,
    errors: Option<FieldErrors>,
    audience: Option<Result<Preview, String>>,
    importances: [(&'static str, &'static str); 3],
    zones: &'static [String],
    /// The outside channels beyond email, and whether each has a provider configured.
    outside: Vec<OutsideChannel>,
}

struct OutsideChannel {
    value: &'static str,
    label: &'static str,
    /// Who it reaches, when configured.
    reaches: &'static str,
    /// The setting that configures it.
    setting: &'static str,
    configured: bool,
}

fn outside_channels(app: &App) -> Vec<OutsideChannel> {
    use tidings_core::consent::Channel;
    let choice = |channel: Channel, label, reaches, setting| OutsideChannel {
        value: channel.as_str(),
        label,
        reaches,
        setting,
        configured: app.channels.provides(channel),
    };
    let posts = app.channels.poster().is_some();
    let slack = match (app.channels.provides(Channel::Slack), posts) {
        (true, true) => {
            "a direct message to members with a Slack user of their email address, and a post in partners' bound Slack channels"
        }
        (true, false) => "a direct message to members with a Slack user of their email address",
        _ => "a post in the Slack channels partners bound (a bot token in [slack] adds direct messages)",
    };
    vec![
        choice(Channel::Sms, "SMS", "members with a phone number who opted in; at most 2 segments", "[sms]"),
        OutsideChannel {
            configured: app.channels.provides(Channel::Slack) || posts,
            ..choice(Channel::Slack, "Slack", slack, "[slack]")
        },
        choice(
            Channel::WebPush,
            "Browser notification",
            "members who asked for notifications in a browser (portal preferences)",
            "[outbound]",
        ),
        OutsideChannel {
            configured: posts,
            ..choice(
                Channel::Teams,
                "Microsoft Teams",
                "a card in the Teams channels partners bound (on each partner's page)",
                "[outbound]",
            )
        },
    ]
}

const IMPORTANCES: [(&str, &str); 3] =
    [("info", "Nice to know"), ("action", "Need to know"), ("critical", "Must know (asks for acknowledgment)")];

async fn compose_page(
    app: &App,
    console: &Console,
    editing: Option<MessageId>,
    form: ComposeForm,
    errors: Option<FieldErrors>,
    audience: Option<Result<Preview, String>>,
) -> PageResult {
    let status = if errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let choices = choices(app, console).await?;
    let title = if editing.is_some() { "Edit message" } else { "New message" };
    let shell = console.shell(title).await;
    let zones = tidings_core::TimeZone::known();
    Ok(render(
        status,
        &ComposePage {
            shell,
            editing,
            form,
            choices,
            errors,
            audience,
            importances: IMPORTANCES,
            zones,
            outside: outside_channels(app),
        },
    ))
}

pub async fn new(State(app): State<App>, console: Console) -> PageResult {
    console.caller.require(Action::Compose, "compose messages")?;
    compose_page(&app, &console, None, ComposeForm::blank(), None, None).await
}

pub async fn edit(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    console.caller.require(Action::Compose, "compose messages")?;
    let m = messages::get(&app, &console.caller, id).await?;
    compose_page(&app, &console, Some(id), ComposeForm::from_message(&m), None, None).await
}

pub async fn create(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    submit(&app, &console, None, pairs).await
}

pub async fn update(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    submit(&app, &console, Some(id), pairs).await
}

/// Saves the form, or answers the author's question about it (the audience count, a new
/// locale) without saving.
async fn submit(app: &App, console: &Console, editing: Option<MessageId>, pairs: Vec<(String, String)>) -> PageResult {
    let (mut form, intent) = ComposeForm::parse(pairs);
    match intent {
        Intent::AddLocale(locale) => {
            let errors = form.add_locale(&locale).err().map(|e| FieldErrors::single("new_locale", e));
            compose_page(app, console, editing, form, errors, None).await
        }
        Intent::Check => {
            let preview = match form.audience() {
                Ok(draft) => match audiences::preview(app, &console.caller, &draft).await {
                    Ok(p) => Ok(p),
                    Err(AppError::Invalid(e)) => Err(e.to_string()),
                    Err(e) => return Err(e.into()),
                },
                Err(e) => Err(e.to_string()),
            };
            compose_page(app, console, editing, form, None, Some(preview)).await
        }
        Intent::Save => {
            let draft = match form.draft() {
                Ok(d) => d,
                Err(e) => return compose_page(app, console, editing, form, Some(e), None).await,
            };
            let saved = match editing {
                Some(id) => messages::update(app, &console.caller, id, &draft).await,
                None => messages::create(app, &console.caller, &draft).await,
            };
            match saved {
                Ok(m) => {
                    console.flash("Saved. Check the warnings and the preview before it goes.").await;
                    Ok(Redirect::to(&format!("/admin/messages/{}", m.id)).into_response())
                }
                Err(AppError::Invalid(e)) => compose_page(app, console, editing, form, Some(e), None).await,
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    /// Preview as this member (email or id).
    member: String,
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage {
    shell: Shell,
    message: Message,
    /// Whom it reaches on each channel, when the audience builds.
    reach: Option<tidings_app::reach::Reach>,
    /// Email is one of its channels (so a test email can be sent).
    by_email: bool,
    title: String,
    topic: String,
    warnings: Vec<Warning>,
    audience: Result<Preview, String>,
    preview: Option<Result<MessagePreview, String>>,
    member: String,
    released_at: Option<Timestamp>,
    editable: bool,
    can_compose: bool,
    approval: tidings_app::approvals::ApprovalStatus,
    can_approve: bool,
    zones: &'static [String],
    /// Where the scheduled send falls on recipients' clocks, for the zones (most members
    /// first) that differ from the message's: the zone, the local time, how many members.
    recipients_local: Vec<(String, String, i64)>,
    /// Every version, once the message was corrected.
    versions: Vec<tidings_app::corrections::VersionWithChanges>,
    /// It went out: its text can be corrected.
    correctable: bool,
}

/// The scheduled send on the clocks of the audience's largest time zones other than the
/// message's own.
fn recipients_local(message: &Message, audience: &Result<Preview, String>) -> Vec<(String, String, i64)> {
    let (Some(at), Ok(preview)) = (message.send_at, audience) else { return Vec::new() };
    preview
        .breakdown
        .time_zone
        .iter()
        .filter(|b| b.value != message.time_zone.as_str())
        .filter_map(|b| tidings_core::TimeZone::parse(&b.value).ok().map(|zone| (zone, b.count)))
        .take(5)
        .map(|(zone, count)| (zone.to_string(), at.local(&zone), count))
        .collect()
}

pub async fn show(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let page = message_page(&app, &console, id, query).await?;
    Ok(render(StatusCode::OK, &page))
}

async fn message_page(app: &App, console: &Console, id: MessageId, query: ShowQuery) -> Result<MessagePage, AppError> {
    let caller = &console.caller;
    let message = messages::get(app, caller, id).await?;
    let topic = tidings_app::topics::get(app, caller, message.topic_id).await.map(|t| t.name).unwrap_or_default();
    let warnings = lint::lint(app, caller, id).await?;
    let reach = match tidings_app::reach::reach(app, caller, id).await {
        Ok(r) => Some(r),
        Err(AppError::Invalid(_)) => None,
        Err(e) => return Err(e),
    };
    let audience = match audiences::preview(app, caller, &message.audience).await {
        Ok(p) => Ok(p),
        Err(AppError::Invalid(e)) => Err(e.to_string()),
        Err(e) => return Err(e),
    };
    let member = match (query.member.trim(), &audience) {
        ("", Ok(p)) => p.sample.first().map(|m| m.profile.email.to_string()).unwrap_or_default(),
        (chosen, _) => chosen.to_owned(),
    };
    let preview = if member.is_empty() {
        None
    } else {
        Some(match messages::preview(app, caller, id, &member).await {
            Ok(p) => Ok(p),
            Err(e @ (AppError::Invalid(_) | AppError::NotFound(_))) => Err(e.to_string()),
            Err(e) => return Err(e),
        })
    };
    let approval = tidings_app::approvals::status(app, caller, id).await?;
    let released_at = messages::released_at(app, caller, id).await?;
    let versions = super::corrections::versions(app, console, id).await?;
    Ok(MessagePage {
        versions,
        correctable: matches!(message.state, MessageState::Sending | MessageState::Sent),
        by_email: message.effective_channels().contains(&tidings_core::consent::Channel::Email),
        recipients_local: recipients_local(&message, &audience),
        zones: tidings_core::TimeZone::known(),
        shell: console.shell(super::home::title(&message).to_owned()).await,
        title: super::home::title(&message).to_owned(),
        editable: matches!(message.state, MessageState::Draft | MessageState::Scheduled),
        can_compose: console.caller.role.may(Action::Compose),
        can_approve: console.caller.role.may(Action::Approve),
        approval,
        message,
        reach,
        topic,
        warnings,
        audience,
        preview,
        member,
        released_at,
    })
}

/// The email preview, as its own document so that its styles stay its own; framed only by
/// the console, with nothing able to run in it.
pub async fn email(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let preview = messages::preview(&app, &console.caller, id, query.member.trim()).await?;
    let email = preview.email.ok_or(AppError::NotFound("email for this message"))?;
    let policy = "default-src 'none'; img-src https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox";
    let headers =
        [("content-security-policy", policy), ("cache-control", "no-store"), ("x-content-type-options", "nosniff")];
    Ok((headers, Html(email.html)).into_response())
}

#[derive(Deserialize)]
pub struct ScheduleForm {
    /// `2026-12-01T09:00` from a datetime-local field (in `time_zone`), or RFC 3339.
    send_at: String,
    /// The IANA zone the author means the time in.
    #[serde(default)]
    time_zone: String,
}

pub async fn schedule(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Form(form): Form<ScheduleForm>,
) -> PageResult {
    let done = messages::schedule_at(&app, &console.caller, id, &form.send_at, Some(&form.time_zone))
        .await
        .map(|m| format!("Scheduled for {}.", m.send_at.map(|at| when_in(at, &m.time_zone)).unwrap_or_default()));
    after_action(&console, id, done).await
}

pub async fn unschedule(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let done = messages::unschedule(&app, &console.caller, id).await.map(|_| "Back to draft.".to_owned());
    after_action(&console, id, done).await
}

pub async fn cancel(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let done = messages::cancel(&app, &console.caller, id).await.map(|_| "Cancelled.".to_owned());
    after_action(&console, id, done).await
}

pub async fn release(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let done = tidings_app::release::release(&app, &console.caller, id)
        .await
        .map(|r| format!("Released: {} inbox copies, {} deliveries queued.", r.recipients, r.deliveries));
    after_action(&console, id, done).await
}

pub async fn test_send(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let done = tidings_app::release::test_send(&app, &console.caller, id)
        .await
        .map(|r| format!("Test sent to {} test member(s) ({} deliveries).", r.recipients, r.deliveries));
    after_action(&console, id, not_sent_is_a_note(done)).await
}

#[derive(Deserialize)]
pub struct TestEmailForm {
    /// The member whose view the page previews.
    #[serde(default)]
    member: String,
}

/// The message's email to the signed-in person, as the previewed member would get it.
pub async fn test_email(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Form(form): Form<TestEmailForm>,
) -> PageResult {
    let request = tidings_app::test_email::TestEmailRequest { to: None, member: Some(form.member) };
    let done = tidings_app::test_email::send(&app, &console.caller, id, &request)
        .await
        .map(|sent| format!("Test email sent to {}, as {} would get it.", sent.to, sent.shown_as));
    after_action(&console, id, not_sent_is_a_note(done)).await
}

pub async fn approve(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let done = tidings_app::approvals::approve(&app, &console.caller, id)
        .await
        .map(|_| "Approved: it may now be sent or scheduled.".to_owned());
    after_action(&console, id, done).await
}

pub async fn copy(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    let copy = messages::copy(&app, &console.caller, id).await?;
    console.flash("A new draft with the same content and audience.").await;
    Ok(Redirect::to(&format!("/admin/messages/{}/edit", copy.id)).into_response())
}

/// A test that could not go says why on the message's page, not on an error page.
fn not_sent_is_a_note(done: Result<String, AppError>) -> Result<String, AppError> {
    match done {
        Err(AppError::Conflict(why)) => Ok(format!("Not sent: {why}.")),
        other => other,
    }
}

async fn after_action(console: &Console, id: MessageId, done: Result<String, AppError>) -> PageResult {
    let note = done?;
    console.flash(note).await;
    Ok(Redirect::to(&format!("/admin/messages/{id}")).into_response())
}

/// The label staff read for an importance.
pub fn importance_label(i: &Importance) -> &'static str {
    match i {
        Importance::Info => "Nice to know",
        Importance::Action => "Need to know",
        Importance::Critical => "Must know",
    }
}
