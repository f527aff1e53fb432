//! Topics and their policy per role: for each role, whether a topic is required (members
//! cannot turn it off), on unless turned off, or off unless turned on. Everyone reads;
//! admins change.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::{App, AppError};
use tidings_core::consent::{TopicPolicies, TopicPolicy};
use tidings_core::{Action, Role, Topic, TopicDraft, TopicId};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

/// The policies as the form names them.
pub const POLICIES: [(&str, &str); 3] = [
    ("required", "Required: always on"),
    ("optional_on", "On unless turned off"),
    ("optional_off", "Off unless turned on"),
];

pub fn policy_name(p: &TopicPolicy) -> &'static str {
    match p {
        TopicPolicy::Required => "required",
        TopicPolicy::OptionalOn => "optional_on",
        TopicPolicy::OptionalOff => "optional_off",
    }
}

fn parse_policy(text: &str) -> Option<TopicPolicy> {
    match text {
        "required" => Some(TopicPolicy::Required),
        "optional_on" => Some(TopicPolicy::OptionalOn),
        "optional_off" => Some(TopicPolicy::OptionalOff),
        _ => None,
    }
}

/// The policy a role has on a topic, as its select shows it ("" for the default).
pub fn role_policy(t: &Topic, role: &&str) -> &'static str {
    role.parse::<Role>().ok().and_then(|r| t.policies.by_role.get(&r)).map_or("", policy_name)
}

#[derive(Template)]
#[template(path = "admin/topics.html")]
struct TopicsPage {
    shell: Shell,
    topics: Vec<Topic>,
    roles: Vec<&'static str>,
    policies: [(&'static str, &'static str); 3],
    can_write: bool,
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    let page = tidings_app::topics::list(&app, &console.caller, None, Some(500)).await?;
    let can_write = console.caller.role.may(Action::WriteDirectory);
    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
    let shell = console.shell("Topics").await;
    Ok(render(StatusCode::OK, &TopicsPage { shell, topics: page.items, roles, policies: POLICIES, can_write }))
}

/// Reads the posted topic: name, description, the default policy and each role's.
fn draft(pairs: Vec<(String, String)>) -> Result<TopicDraft, AppError> {
    let mut draft = TopicDraft::default();
    let mut policies = TopicPolicies { default: TopicPolicy::OptionalOn, by_role: BTreeMap::new() };
    for (name, value) in pairs {
        match name.as_str() {
            "key" => draft.key = Some(value),
            "name" => draft.name = Some(value),
            "description" => draft.description = Some(value),
            "default" => {
                policies.default =
                    parse_policy(&value).ok_or_else(|| AppError::invalid("default", "choose a policy"))?
            }
            other => {
                if let Some(role) = other.strip_prefix("role.") {
                    if value.is_empty() {
                        continue;
                    }
                    let role = role.parse::<Role>().map_err(|e| AppError::invalid("role", e.to_string()))?;
                    let policy = parse_policy(&value).ok_or_else(|| AppError::invalid("role", "choose a policy"))?;
                    policies.by_role.insert(role, policy);
                }
            }
        }
    }
    draft.policies = Some(policies);
    Ok(draft)
}

pub async fn create(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let saved = match draft(pairs) {
        Ok(d) => tidings_app::topics::create(&app, &console.caller, &d).await,
        Err(e) => Err(e),
    };
    after(&console, saved).await
}

pub async fn update(
    State(app): State<App>,
    console: Console,
    Path(id): Path<TopicId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let saved = match draft(pairs) {
        Ok(mut d) => {
            d.key = None;
            tidings_app::topics::update(&app, &console.caller, id, &d).await
        }
        Err(e) => Err(e),
    };
    after(&console, saved).await
}

async fn after(console: &Console, saved: Result<Topic, AppError>) -> PageResult {
    let topic = saved?;
    console.flash(format!("Topic \"{}\" saved.", topic.name)).await;
    Ok(Redirect::to("/admin/topics").into_response())
}
