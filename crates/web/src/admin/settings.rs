//! Settings (admins): which messages need a second person's approval, and what each
//! channel is set up with and can reach (with the web push key).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::approvals::{self, ApprovalPolicy};
use tidings_app::channel_defaults::ChannelDefaults;
use tidings_app::{App, AppError};
use tidings_core::consent::Channel;
use tidings_core::messages::Importance;
use tidings_core::noise::{DigestFrequency, NoisePolicy};
use tidings_core::{Action, FieldErrors, Role, Topic};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    shell: Shell,
    policy: ApprovalPolicy,
    topics: Vec<Topic>,
    importances: [(Importance, &'static str); 3],
    channels: tidings_app::channel_setup::Overview,
    defaults: tidings_app::channel_defaults::ChannelDefaults,
    /// Every key that has signed the evidence log, the current one last.
    evidence_keys: Vec<String>,
    noise: NoisePolicy,
    digest_frequencies: [DigestFrequency; 3],
    /// Each role and the digest the policy names for it, if any.
    digest_roles: Vec<(Role, Option<DigestFrequency>)>,
}

pub async fn show(State(app): State<App>, console: Console) -> PageResult {
    console.caller.require(Action::Configure, "change settings")?;
    let noise = tidings_app::noise::policy(&app, &console.caller).await?;
    let page = async {
        Ok::<_, AppError>(SettingsPage {
            policy: approvals::policy(&app, &console.caller).await?,
            topics: tidings_app::topics::list(&app, &console.caller, None, Some(500)).await?.items,
            importances: [
                (Importance::Info, "Nice to know"),
                (Importance::Action, "Need to know"),
                (Importance::Critical, "Must know"),
            ],
            channels: tidings_app::channel_setup::overview(&app, &console.caller).await?,
            defaults: tidings_app::channel_defaults::defaults(&app, &console.caller).await?,
            evidence_keys: tidings_app::evidence::keys::history(&app).await?.iter().map(|k| k.encode()).collect(),
            noise: noise.clone(),
            digest_frequencies: DigestFrequency::ALL,
            digest_roles: Role::ALL.iter().map(|r| (*r, noise.digest_by_role.get(r).copied())).collect(),
            shell: console.shell("Settings").await,
        })
    };
    let page = page.await?;
    Ok(render(StatusCode::OK, &page))
}

pub async fn save(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let mut policy = ApprovalPolicy::default();
    let mut defaults = ChannelDefaults { info: Vec::new(), action: Vec::new(), critical: Vec::new() };
    for (name, value) in pairs {
        if let Some(importance) = name.strip_prefix("default_") {
            let channel = value.parse::<Channel>().map_err(|e| AppError::invalid(&name, e.to_string()))?;
            match importance.parse::<Importance>() {
                Ok(Importance::Info) => defaults.info.push(channel),
                Ok(Importance::Action) => defaults.action.push(channel),
                Ok(Importance::Critical) => defaults.critical.push(channel),
                Err(e) => return Err(AppError::invalid("importance", e.to_string()).into()),
            }
            continue;
        }
        match name.as_str() {
            "importance" => match value.parse::<Importance>() {
                Ok(i) => policy.importances.push(i),
                Err(e) => return Err(AppError::invalid("importance", e.to_string()).into()),
            },
            "topic" => match value.parse() {
                Ok(t) => policy.topics.push(t),
                Err(_) => return Err(AppError::invalid("topic", "no such topic").into()),
            },
            _ => {}
        }
    }
    let _ = approvals::set_policy(&app, &console.caller, &policy).await?;
    let _ = tidings_app::channel_defaults::set_defaults(&app, &console.caller, &defaults).await?;
    console.flash("Settings saved.").await;
    Ok(Redirect::to("/admin/settings").into_response())
}

/// Saves the noise policy from its form: an empty cap is no cap.
pub async fn save_noise(
    State(app): State<App>,
    console: Console,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let mut errors = FieldErrors::new();
    let mut policy = NoisePolicy::default();
    let number = |errors: &mut FieldErrors, field: &str, value: &str| -> Option<u32> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        errors.check(field, value.parse::<u32>().map_err(|_| format!("'{value}' is not a whole number")))
    };
    for (name, value) in &pairs {
        match name.as_str() {
            "info_cap" => policy.info_cap = number(&mut errors, name, value),
            "action_cap" => policy.action_cap = number(&mut errors, name, value),
            "window_days" => policy.window_days = number(&mut errors, name, value).unwrap_or(0),
            "digest" => {
                if let Some(f) = errors.check(name, value.parse::<DigestFrequency>()) {
                    policy.digest = f;
                }
            }
            other => {
                let Some(role) = other.strip_prefix("digest_") else { continue };
                if value.is_empty() {
                    continue;
                }
                let role = errors.check(name, role.parse::<Role>());
                let frequency = errors.check(name, value.parse::<DigestFrequency>());
                if let (Some(role), Some(frequency)) = (role, frequency) {
                    policy.digest_by_role.insert(role, frequency);
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors).into());
    }
    tidings_app::noise::set_policy(&app, &console.caller, &policy).await?;
    console.flash("Noise control saved.").await;
    Ok(Redirect::to("/admin/settings#noise").into_response())
}

/// Whether the policy names this importance (for the template's checkboxes).
pub fn names_importance(policy: &ApprovalPolicy, i: &Importance) -> bool {
    policy.importances.contains(i)
}

/// The channels a settings page offers as defaults, and whether an importance has one.
pub fn default_channels() -> [Channel; 7] {
    [Channel::Inbox, Channel::Popup, Channel::Email, Channel::Sms, Channel::Slack, Channel::Teams, Channel::WebPush]
}

pub fn has_default(defaults: &ChannelDefaults, i: &Importance, c: &Channel) -> bool {
    defaults.of(*i).contains(c)
}

pub fn names_topic(policy: &ApprovalPolicy, t: &Topic) -> bool {
    policy.topics.contains(&t.id)
}

/// Replaces the evidence log's signing key.
pub async fn rotate_evidence_key(State(app): State<App>, console: Console) -> PageResult {
    let done = tidings_app::evidence::keys::rotate(&app, &console.caller).await?;
    console
        .flash(format!(
            "The evidence key was rotated: the checkpoint of {} leaves is signed by the old key and the new one. \
             Give auditors the new public key; packs lead those holding the old one to it.",
            done.checkpoint_size
        ))
        .await;
    Ok(Redirect::to("/admin/settings#evidence-heading").into_response())
}
