//! Webhooks in the console (admins): the endpoints with their state, a form to add one
//! (its secret shown on that answer alone), and each endpoint's page with its delivery
//! log, a test event, enable or disable, a new secret, and delete.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::webhooks::{self, Created, Endpoint, EndpointDraft, WebhookDelivery};
use tidings_app::{App, AppError};
use tidings_core::webhooks::EventType;
use tidings_core::{PartnerId, WebhookId};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    endpoints: Vec<Endpoint>,
    events: Vec<&'static str>,
    created: Option<Created>,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookPage {
    shell: Shell,
    endpoint: Endpoint,
    log: Vec<WebhookDelivery>,
    secret: Option<String>,
}

fn event_names() -> Vec<&'static str> {
    EventType::SUBSCRIBABLE.iter().map(|e| e.as_str()).collect()
}

async fn list_page(app: &App, console: &Console, created: Option<Created>) -> PageResult {
    let endpoints = webhooks::list(app, &console.caller).await?;
    let page = WebhooksPage { shell: console.shell("Webhooks").await, endpoints, events: event_names(), created };
    Ok(render(StatusCode::OK, &page))
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    list_page(&app, &console, None).await
}

/// The form's fields: `event` repeats, one per box ticked.
pub async fn create(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let partner_id = match field("partner_id").filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse::<PartnerId>().map_err(|_| AppError::invalid("partner_id", "is not a partner id"))?),
        None => None,
    };
    let draft = EndpointDraft {
        url: field("url"),
        description: field("description"),
        events: Some(pairs.iter().filter(|(k, _)| k == "event").map(|(_, v)| v.clone()).collect()),
        partner_id,
        enabled: None,
    };
    let created = webhooks::create(&app, &console.caller, &draft).await?;
    list_page(&app, &console, Some(created)).await
}

async fn endpoint_page(app: &App, console: &Console, id: WebhookId, secret: Option<String>) -> PageResult {
    let endpoint = webhooks::get(app, &console.caller, id).await?;
    let log = webhooks::log(app, &console.caller, id).await?;
    let shell = console.shell(format!("Webhook {}", endpoint.url)).await;
    Ok(render(StatusCode::OK, &WebhookPage { shell, endpoint, log, secret }))
}

pub async fn show(State(app): State<App>, console: Console, Path(id): Path<WebhookId>) -> PageResult {
    endpoint_page(&app, &console, id, None).await
}

pub async fn test(State(app): State<App>, console: Console, Path(id): Path<WebhookId>) -> PageResult {
    let sent = webhooks::test(&app, &console.caller, id).await?;
    console.flash(format!("Test event {sent} queued: it shows below within a second or so.")).await;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

#[derive(serde::Deserialize)]
pub struct Toggle {
    enabled: bool,
}

pub async fn toggle(
    State(app): State<App>,
    console: Console,
    Path(id): Path<WebhookId>,
    Form(form): Form<Toggle>,
) -> PageResult {
    let draft = EndpointDraft { enabled: Some(form.enabled), ..Default::default() };
    webhooks::update(&app, &console.caller, id, &draft).await?;
    console
        .flash(if form.enabled { "Endpoint enabled; requests that waited are sent." } else { "Endpoint disabled." })
        .await;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

pub async fn rotate(State(app): State<App>, console: Console, Path(id): Path<WebhookId>) -> PageResult {
    let created = webhooks::rotate_secret(&app, &console.caller, id).await?;
    endpoint_page(&app, &console, id, Some(created.secret)).await
}

pub async fn delete(State(app): State<App>, console: Console, Path(id): Path<WebhookId>) -> PageResult {
    webhooks::delete(&app, &console.caller, id).await?;
    console.flash("Endpoint deleted.").await;
    Ok(Redirect::to("/admin/webhooks").into_response())
}
