//! Consent and preferences: every consent change is recorded (who, what, when, how and
//! which text); members choose topics and channels within each topic's policy.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tidings_core::consent::{self, Channel, Preferences, TopicPolicy, TopicRef};
use tidings_core::{Action, FieldErrors, MemberId, Slug, text};
use tidings_store::consent as store;
pub use tidings_store::consent::ConsentRecord;
use tidings_store::{members, topics};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const PURPOSES: [&str; 3] = ["email", "sms", "terms"];
const LAWFUL_BASES: [&str; 3] = ["consent", "contract", "legitimate_interest"];

/// A consent change recorded by staff or an integration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentInput {
    /// `email`, `sms` or `terms`.
    pub purpose: String,
    pub granted: bool,
    /// `consent` (the default), `contract` or `legitimate_interest`.
    pub lawful_basis: Option<String>,
    /// The version of the text the member agreed to, such as `privacy-2026-03`.
    pub text_version: String,
}

pub async fn record(
    app: &App,
    caller: &Caller,
    member: MemberId,
    input: &ConsentInput,
) -> Result<ConsentRecord, AppError> {
    caller.require(Action::WriteDirectory, "record consent")?;
    record_as(app, member, input, "api", Some(caller)).await
}

/// Records consent from any source (the API, an import, the portal): by staff, or by the
/// member themselves when `staff` is `None`.
pub(crate) async fn record_as(
    app: &App,
    member: MemberId,
    input: &ConsentInput,
    source: &str,
    staff: Option<&Caller>,
) -> Result<ConsentRecord, AppError> {
    let recorded_by = staff.map_or("member", |c| c.name.as_str());
    let mut errors = FieldErrors::new();
    if !PURPOSES.contains(&input.purpose.as_str()) {
        errors.add("purpose", format!("'{}' is not a purpose; known: email, sms, terms", input.purpose));
    }
    let basis = input.lawful_basis.clone().unwrap_or_else(|| "consent".into());
    if !LAWFUL_BASES.contains(&basis.as_str()) {
        errors.add(
            "lawful_basis",
            format!("'{basis}' is not a lawful basis; known: consent, contract, legitimate_interest"),
        );
    }
    let version = errors.check("text_version", text::identifier(&input.text_version, 100)).flatten();
    if version.is_none() && errors.iter().all(|e| e.field != "text_version") {
        errors.add("text_version", "is required: name the version of the text the member saw");
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    members::get(&mut tx, member).await.map_err(not_found("member"))?;
    let record = ConsentRecord {
        id: uuid::Uuid::now_v7(),
        member_id: member,
        purpose: input.purpose.clone(),
        granted: input.granted,
        source: source.to_owned(),
        lawful_basis: basis,
        text_version: version.unwrap_or_default(),
        recorded_by: recorded_by.to_owned(),
        recorded_at: app.clock.now(),
    };
    store::record(&mut tx, &record).await?;
    if record.purpose == "terms" && record.granted && app.terms_imply_email_opt_in {
        let email = ConsentRecord {
            id: uuid::Uuid::now_v7(),
            purpose: "email".into(),
            source: "terms".into(),
            ..record.clone()
        };
        store::record(&mut tx, &email).await?;
    }
    if let Some(caller) = staff {
        audit::entry(caller, "consent.record", member.as_uuid()).after(&record).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    Ok(record)
}

pub async fn history(app: &App, caller: &Caller, member: MemberId) -> Result<Vec<ConsentRecord>, AppError> {
    caller.require(Action::ReadDirectory, "read consent")?;
    let mut tx = app.db.read().await?;
    members::get(&mut tx, member).await.map_err(not_found("member"))?;
    Ok(store::history(&mut tx, member).await?)
}

/// A member's preferences, with each topic as the member sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferencesView {
    pub preferences: Preferences,
    pub topics: Vec<TopicChoice>,
    /// Whether nice-to-know messages wait for a digest, and which layer decided.
    pub digest: tidings_core::noise::DigestDecision,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicChoice {
    pub key: String,
    pub name: String,
    pub policy: TopicPolicy,
    /// Whether the member gets messages on this topic.
    pub on: bool,
    /// A required topic cannot be turned off.
    pub locked: bool,
    pub reason: String,
    /// Each channel the member chooses per topic (`Channel::PER_TOPIC`), whether it is
    /// chosen for this topic, and whether a message on the topic would reach the member
    /// there now (with why not: no opt-in, no phone, the channel closed for all topics).
    pub channels: Vec<TopicChannel>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TopicChannel {
    pub channel: Channel,
    /// The member has not turned this channel off for the topic.
    pub chosen: bool,
    pub reaches: bool,
    pub reason: String,
}

/// A change to a member's choices; keys not sent keep their value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreferencesPatch {
    /// Topic key to on (true) or off (false).
    pub topics: BTreeMap<String, bool>,
    /// Channel to on (true) or off (false): email, sms, slack or web_push (the inbox is
    /// always on).
    pub channels: BTreeMap<String, bool>,
    /// Per topic key, channel to on (true) or off (false) for that topic alone.
    pub topic_channels: BTreeMap<String, BTreeMap<String, bool>>,
    /// `off`, `daily` or `weekly`; `default` follows the partner's default, else the
    /// vendor's policy.
    pub digest: Option<String>,
}

pub async fn preferences(app: &App, caller: &Caller, member: MemberId) -> Result<PreferencesView, AppError> {
    caller.require(Action::ReadDirectory, "read preferences")?;
    let mut tx = app.db.read().await?;
    view(&mut tx, member).await
}

pub async fn set_preferences(
    app: &App,
    caller: &Caller,
    member: MemberId,
    patch: &PreferencesPatch,
) -> Result<PreferencesView, AppError> {
    caller.require(Action::WriteDirectory, "change preferences")?;
    let mut tx = app.db.begin().await?;
    let m = members::get(&mut tx, member).await.map_err(not_found("member"))?;
    let before = store::preferences(&mut tx, member).await?;
    apply(app, &mut tx, &m, patch).await?;
    let shown = view(&mut tx, member).await?;
    audit::entry(caller, "preferences.update", member.as_uuid())
        .before(&before)
        .after(&shown.preferences)
        .write(app, &mut tx)
        .await?;
    tx.commit().await?;
    Ok(shown)
}

/// Applies a change of topics and channels within each topic's policy for the member's
/// roles; nothing is saved unless all of it is valid.
pub(crate) async fn apply(
    app: &App,
    tx: &mut tidings_store::Tx,
    m: &tidings_core::Member,
    patch: &PreferencesPatch,
) -> Result<(), AppError> {
    let member = m.id;
    let mut prefs = store::preferences(tx, member).await?;
    let mut errors = FieldErrors::new();
    for (key, on) in &patch.topics {
        let Some(slug) = errors.check("topics", Slug::parse(key)) else { continue };
        match topics::get_by_key(tx, slug.as_str()).await {
            Ok(topic) if !on && topic.policies.for_roles(m.profile.roles) == TopicPolicy::Required => errors
                .add("topics", format!("topic {key} is required for this member's roles and cannot be turned off")),
            Ok(_) => {
                prefs.topics.insert(slug, *on);
            }
            Err(tidings_store::Error::NotFound) => errors.add("topics", format!("no topic with key {key}")),
            Err(other) => return Err(other.into()),
        }
    }
    for (name, on) in &patch.channels {
        if let Some(channel) = member_channel(&mut errors, "channels", name) {
            prefs.channels.insert(channel, *on);
        }
    }
    for (key, choices) in &patch.topic_channels {
        let Some(slug) = errors.check("topic_channels", Slug::parse(key)) else { continue };
        match topics::get_by_key(tx, slug.as_str()).await {
            Ok(_) => {}
            Err(tidings_store::Error::NotFound) => {
                errors.add("topic_channels", format!("no topic with key {key}"));
                continue;
            }
            Err(other) => return Err(other.into()),
        }
        for (name, on) in choices {
            let Some(channel) = member_channel(&mut errors, "topic_channels", name) else { continue };
            let per_topic = prefs.topic_channels.entry(slug.clone()).or_default();
            // Only what is off is kept: a channel absent for a topic is on.
            if *on {
                per_topic.remove(&channel);
            } else {
                per_topic.insert(channel, false);
            }
        }
        prefs.topic_channels.retain(|_, c| !c.is_empty());
    }
    if let Some(wanted) = patch.digest.as_deref() {
        match wanted.trim() {
            "default" => prefs.digest = None,
            other => match other.parse::<tidings_core::noise::DigestFrequency>() {
                Ok(f) => prefs.digest = Some(f),
                Err(e) => errors.add("digest", format!("{e}, or default")),
            },
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    store::set_choices(tx, member, &prefs, app.clock.now()).await?;
    Ok(())
}

/// A channel a member may turn on or off: email, SMS, Slack or web push.
fn member_channel(errors: &mut FieldErrors, field: &str, name: &str) -> Option<Channel> {
    let channel = errors.check(field, name.parse::<Channel>())?;
    if Channel::PER_TOPIC.contains(&channel) {
        return Some(channel);
    }
    let why = match channel {
        Channel::Inbox | Channel::Popup => "the portal's inbox is always on",
        _ => "it posts to the partner's shared channel or system, not to one member",
    };
    errors
        .add(field, format!("{channel} cannot be chosen by a member: {why}; choose from email, sms, slack, web_push"));
    None
}

pub(crate) async fn view(tx: &mut tidings_store::Tx, member: MemberId) -> Result<PreferencesView, AppError> {
    let m = members::get(tx, member).await.map_err(not_found("member"))?;
    let preferences = store::preferences(tx, member).await?;
    let mut topics_shown = Vec::new();
    let mut after = None;
    loop {
        let page = topics::list(tx, after.as_deref(), Some(500)).await?;
        for t in &page.items {
            let policy = t.policies.for_roles(m.profile.roles);
            let topic = TopicRef { key: &t.key, policies: &t.policies };
            let decision = consent::topic_decision(&m.profile, &preferences, topic);
            let chosen = preferences.topic_channels.get(&t.key);
            let channels = Channel::PER_TOPIC
                .into_iter()
                .map(|channel| {
                    let reach = consent::may_reach(&m.profile, &preferences, topic, channel);
                    TopicChannel {
                        channel,
                        chosen: chosen.and_then(|c| c.get(&channel)) != Some(&false),
                        reaches: reach.allowed,
                        reason: reach.reason,
                    }
                })
                .collect();
            topics_shown.push(TopicChoice {
                key: t.key.to_string(),
                name: t.name.clone(),
                policy,
                on: decision.allowed,
                locked: policy == TopicPolicy::Required,
                reason: decision.reason,
                channels,
            });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let policy = crate::noise::policy_in(tx).await?;
    let digest = tidings_core::noise::digest_decision(&m.profile, preferences.digest, &preferences.partner, &policy);
    Ok(PreferencesView { preferences, topics: topics_shown, digest })
}
