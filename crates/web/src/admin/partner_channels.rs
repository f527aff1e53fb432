//! A partner's shared Teams and Slack channels in the console: bind one by its webhook
//! URL, send a test post, remove it. Each form answers with a note on the partner's page.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::App;
use tidings_app::partner_channels::{self, BindingView, PartnerAdmin};
use tidings_core::PartnerId;
use tidings_core::consent::Channel;

use super::console::Console;
use super::shell::PageResult;

/// One service's row on the partner's page: its binding, if any.
pub struct ServiceRow {
    pub key: &'static str,
    pub name: &'static str,
    pub hint: &'static str,
    pub binding: Option<BindingView>,
}

/// Every service a partner can bind, with the partner's binding on each.
pub fn rows(bindings: Vec<BindingView>) -> Vec<ServiceRow> {
    partner_channels::services()
        .into_iter()
        .map(|channel| ServiceRow {
            key: channel.as_str(),
            name: partner_channels::service(channel),
            hint: match channel {
                Channel::Teams => {
                    "In the Teams channel: Workflows, \"Post to a channel when a webhook request is received\"; paste the URL it gives."
                }
                _ => "In Slack: an app with Incoming Webhooks, \"Add New Webhook to Workspace\", pick the channel; paste the URL.",
            },
            binding: bindings.iter().find(|b| b.channel == channel).cloned(),
        })
        .collect()
}

#[derive(Deserialize)]
pub struct BindForm {
    url: String,
    #[serde(default)]
    label: String,
}

fn back(id: PartnerId) -> axum::response::Response {
    Redirect::to(&format!("/admin/partners/{id}#channels")).into_response()
}

pub async fn bind(
    State(app): State<App>,
    console: Console,
    Path((id, channel)): Path<(PartnerId, String)>,
    Form(form): Form<BindForm>,
) -> PageResult {
    let Some(channel) = partner_channels::service_named(&channel) else { return Ok(back(id)) };
    let name = partner_channels::service(channel);
    match partner_channels::bind(&app, PartnerAdmin::Staff(&console.caller), id, channel, &form.url, &form.label).await
    {
        Ok(_) => console.flash(format!("{name} channel bound. Send a test post to check it.")).await,
        Err(e) => console.flash(format!("The {name} channel was not bound: {e}")).await,
    }
    Ok(back(id))
}

pub async fn unbind(
    State(app): State<App>,
    console: Console,
    Path((id, channel)): Path<(PartnerId, String)>,
) -> PageResult {
    let Some(channel) = partner_channels::service_named(&channel) else { return Ok(back(id)) };
    let name = partner_channels::service(channel);
    match partner_channels::unbind(&app, PartnerAdmin::Staff(&console.caller), id, channel).await {
        Ok(()) => console.flash(format!("{name} channel removed.")).await,
        Err(e) => console.flash(format!("The {name} channel was not removed: {e}")).await,
    }
    Ok(back(id))
}

pub async fn test(
    State(app): State<App>,
    console: Console,
    Path((id, channel)): Path<(PartnerId, String)>,
) -> PageResult {
    let Some(channel) = partner_channels::service_named(&channel) else { return Ok(back(id)) };
    let name = partner_channels::service(channel);
    match partner_channels::test(&app, PartnerAdmin::Staff(&console.caller), id, channel).await {
        Ok(t) if t.posted => console.flash(format!("Test post sent to the {name} channel.")).await,
        Ok(t) => console.flash(format!("The test post to {name} failed: {}", t.error.unwrap_or_default())).await,
        Err(e) => console.flash(format!("No test post: {e}")).await,
    }
    Ok(back(id))
}
