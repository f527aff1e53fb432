//! Automation: the triggers that answer events from the vendor's CRM or PRM, the events
//! that came in with what each trigger did, the event types and their fields, and a form
//! to post an event by hand (to try a trigger, or to record what a CRM missed).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::automation::event_types::EventTypeInfo;
use tidings_app::automation::events::EventQuery;
use tidings_app::automation::triggers::TriggerSummary;
use tidings_app::{App, AppError};
use tidings_core::automation::{EventInput, Trigger, TriggerDraft};
use tidings_core::consent::Channel;
use tidings_core::messages::{ContentDraft, Importance};
use tidings_core::{Action, FieldErrors, Role};

use super::console::Console;
use super::forms::VariantForm;
use super::shell::{PageResult, Shell, render};

/// An event as the list shows it.
pub struct EventRow {
    pub received: String,
    pub event_type: String,
    pub partner_id: String,
    pub partner: String,
    pub member: String,
    pub data: String,
    /// (trigger, outcome, message id)
    pub firings: Vec<(String, String, String)>,
    pub waiting: bool,
}

#[derive(Template)]
#[template(path = "admin/automation.html")]
struct AutomationPage {
    shell: Shell,
    triggers: Vec<TriggerSummary>,
    sequences: Vec<tidings_app::automation::sequences::SequenceSummary>,
    events: Vec<EventRow>,
    types: Vec<EventTypeInfo>,
    can_compose: bool,
    can_post: bool,
    post: PostForm,
    errors: Option<FieldErrors>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct PostForm {
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub partner: String,
    #[serde(default)]
    pub member: String,
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub idempotency_key: String,
}

pub async fn show(State(app): State<App>, console: Console) -> PageResult {
    page(&app, &console, PostForm { data: "{}".into(), ..Default::default() }, None).await
}

async fn page(app: &App, console: &Console, post: PostForm, errors: Option<FieldErrors>) -> PageResult {
    let caller = &console.caller;
    let triggers = tidings_app::automation::triggers::list(app, caller).await?;
    let types = tidings_app::automation::event_types::list(app, caller).await?;
    let q = EventQuery { limit: Some(50), ..Default::default() };
    let listed = tidings_app::automation::events::list(app, caller, &q).await?.items;
    let mut events = Vec::with_capacity(listed.len());
    for e in listed {
        let detail = tidings_app::automation::events::get(app, caller, e.id).await?;
        let partner =
            tidings_app::partners::get(app, caller, e.partner_id).await.map(|p| p.profile.name).unwrap_or_default();
        let member = match e.member_id {
            Some(id) => tidings_app::members::get(app, caller, id)
                .await
                .map(|m| m.profile.email.to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        let mut data = serde_json::to_string(&e.data).unwrap_or_default();
        if data.chars().count() > 160 {
            data = data.chars().take(160).chain(['…']).collect();
        }
        let firings: Vec<(String, String, String)> = detail
            .firings
            .into_iter()
            .map(|f| (f.trigger, f.outcome, f.message_id.map(|m| m.to_string()).unwrap_or_default()))
            .collect();
        events.push(EventRow {
            received: e.received_at.to_string(),
            event_type: e.event_type.to_string(),
            partner_id: e.partner_id.to_string(),
            partner,
            member,
            data,
            waiting: detail.waiting,
            firings,
        });
    }
    let page = AutomationPage {
        shell: console.shell("Automation").await,
        triggers,
        sequences: tidings_app::automation::sequences::list(app, caller).await?,
        events,
        types,
        can_compose: caller.role.may(Action::Compose),
        can_post: caller.role.may(Action::WriteDirectory),
        post,
        errors,
    };
    let status = if page.errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &page))
}

/// Posts an event as a CRM would; its triggers run within seconds.
pub async fn post(State(app): State<App>, console: Console, Form(form): Form<PostForm>) -> PageResult {
    let data = match form.data.trim() {
        "" => Ok(serde_json::json!({})),
        text => serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| FieldErrors::single("data", format!("is not JSON: {e}"))),
    };
    let data = match data {
        Ok(d) => d,
        Err(errors) => return page(&app, &console, form, Some(errors)).await,
    };
    let key = Some(form.idempotency_key.trim().to_owned())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| format!("console-{}", uuid::Uuid::now_v7()));
    let input = EventInput {
        idempotency_key: Some(key),
        event_type: Some(form.event_type.clone()),
        partner: Some(form.partner.clone()),
        member: Some(form.member.clone()),
        occurred_at: None,
        data: Some(data),
    };
    match tidings_app::automation::intake::post(&app, &console.caller, &input).await {
        Ok(r) => {
            let note = if r.repeat {
                "was posted before: nothing applied again"
            } else {
                "taken in; its triggers run within seconds"
            };
            console.flash(format!("Event {} {note}.", r.event.event_type)).await;
            Ok(Redirect::to("/admin/automation#events").into_response())
        }
        Err(AppError::Invalid(errors)) => page(&app, &console, form, Some(errors)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/trigger.html")]
struct TriggerPage {
    shell: Shell,
    form: TriggerForm,
    /// The trigger's key when editing one saved before.
    editing: Option<String>,
    types: Vec<EventTypeInfo>,
    topics: Vec<(String, String)>,
    roles: Vec<&'static str>,
    channels: Vec<&'static str>,
    importances: Vec<&'static str>,
    can_compose: bool,
    errors: Option<FieldErrors>,
}

/// The trigger form's fields as posted (and as shown again beside its errors).
#[derive(Debug, Default, Clone)]
pub struct TriggerForm {
    pub key: String,
    pub name: String,
    pub event_type: String,
    pub condition: String,
    pub recipients: String,
    pub roles: Vec<String>,
    pub topic: String,
    pub importance: String,
    pub channels: Vec<String>,
    pub delay_minutes: String,
    pub enabled: bool,
    /// The message in the default language.
    pub text: VariantForm,
}

impl TriggerForm {
    fn parse(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let all = |name: &str| pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect();
        Self {
            key: one("key"),
            name: one("name"),
            event_type: one("event_type"),
            condition: one("condition"),
            recipients: one("recipients"),
            roles: all("roles"),
            topic: one("topic"),
            importance: one("importance"),
            channels: all("channels"),
            delay_minutes: one("delay_minutes"),
            enabled: pairs.iter().any(|(k, _)| k == "enabled"),
            text: VariantForm {
                locale: "en".into(),
                title: one("title"),
                summary: one("summary"),
                what_changed: one("what_changed"),
                why_it_matters: one("why_it_matters"),
                what_to_do: one("what_to_do"),
                cta_label: one("cta_label"),
                cta_url: one("cta_url"),
            },
        }
    }

    fn of(t: &Trigger, topic_key: String) -> Self {
        let locale = &t.content.default_locale;
        let text = t.content.variants.get(locale).map(|v| VariantForm::of(locale.as_str(), v)).unwrap_or_default();
        Self {
            key: t.key.to_string(),
            name: t.name.clone(),
            event_type: t.event_type.to_string(),
            condition: t.condition.clone().unwrap_or_default(),
            recipients: t.recipients.as_str().to_owned(),
            roles: t.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            topic: topic_key,
            importance: t.importance.as_str().to_owned(),
            channels: t.channels.iter().flatten().map(|c| c.as_str().to_owned()).collect(),
            delay_minutes: t.delay_minutes.to_string(),
            enabled: t.enabled,
            text,
        }
    }

    fn draft(&self) -> Result<TriggerDraft, FieldErrors> {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        let delay_minutes = match self.delay_minutes.trim() {
            "" => None,
            d => Some(d.parse::<u32>().map_err(|_| {
                FieldErrors::single("delay_minutes", format!("'{d}' is not a whole number of minutes"))
            })?),
        };
        Ok(TriggerDraft {
            key: some(&self.key),
            name: some(&self.name),
            event_type: some(&self.event_type),
            condition: Some(self.condition.clone()),
            recipients: some(&self.recipients),
            roles: Some(self.roles.clone()),
            topic_id: None,
            topic: some(&self.topic),
            importance: some(&self.importance),
            channels: Some(self.channels.clone()),
            content: Some(ContentDraft {
                default_locale: None,
                variants: [("en".to_owned(), self.text.draft())].into(),
            }),
            delay_minutes,
            enabled: Some(self.enabled),
        })
    }
}

pub async fn new(State(app): State<App>, console: Console) -> PageResult {
    console.caller.require(Action::Compose, "change triggers")?;
    let form =
        TriggerForm { enabled: true, recipients: "member".into(), importance: "info".into(), ..Default::default() };
    trigger_page(&app, &console, form, None, None).await
}

pub async fn edit(State(app): State<App>, console: Console, Path(key): Path<String>) -> PageResult {
    let summary = tidings_app::automation::triggers::get(&app, &console.caller, &key).await?;
    let topic = tidings_app::topics::get(&app, &console.caller, summary.trigger.topic_id).await?;
    let form = TriggerForm::of(&summary.trigger, topic.key.to_string());
    trigger_page(&app, &console, form, Some(key), None).await
}

async fn trigger_page(
    app: &App,
    console: &Console,
    form: TriggerForm,
    editing: Option<String>,
    errors: Option<FieldErrors>,
) -> PageResult {
    let topics = tidings_app::topics::list(app, &console.caller, None, Some(500)).await?.items;
    let page = TriggerPage {
        shell: console.shell(if editing.is_some() { "Trigger" } else { "New trigger" }).await,
        form,
        editing,
        types: tidings_app::automation::event_types::list(app, &console.caller).await?,
        topics: topics.into_iter().map(|t| (t.key.to_string(), t.name)).collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        channels: Channel::ALL.iter().filter(|c| **c != Channel::Webhook).map(|c| c.as_str()).collect(),
        importances: Importance::ALL.iter().map(|i| i.as_str()).collect(),
        can_compose: console.caller.role.may(Action::Compose),
        errors,
    };
    let status = if page.errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &page))
}

pub async fn save(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let form = TriggerForm::parse(&pairs);
    let editing = pairs.iter().find(|(k, _)| k == "editing").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let draft = match form.draft() {
        Ok(d) => d,
        Err(errors) => return trigger_page(&app, &console, form, editing, Some(errors)).await,
    };
    match tidings_app::automation::triggers::put(&app, &console.caller, &draft).await {
        Ok((t, created)) => {
            let verb = if created { "created" } else { "saved" };
            console
                .flash(format!("Trigger \"{}\" {verb}: it answers {} events from now on.", t.name, t.event_type))
                .await;
            Ok(Redirect::to("/admin/automation").into_response())
        }
        Err(AppError::Invalid(errors)) => trigger_page(&app, &console, form, editing, Some(errors)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(State(app): State<App>, console: Console, Path(key): Path<String>) -> PageResult {
    tidings_app::automation::triggers::delete(&app, &console.caller, &key).await?;
    console.flash(format!("Trigger {key} deleted; the messages it sent stay.")).await;
    Ok(Redirect::to("/admin/automation").into_response())
}
