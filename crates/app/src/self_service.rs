//! What a signed-in member changes about themselves in the portal: topics and channels
//! (within each topic's policy), the email opt-in and the terms, both recorded as consent
//! with the portal as source and the version of the text shown, and their language and
//! time zone. The member is the one their session names; nothing here takes another.

use std::collections::BTreeMap;

use tidings_core::consent::Channel;
use tidings_core::working_hours::WorkingHours;
use tidings_core::{FieldErrors, Locale, Member, TimeZone, Timestamp};
use tidings_store::consent::{self as store, ConsentRecord};
use tidings_store::members;

use crate::consent::{self, ConsentInput, PreferencesPatch, TopicChoice};
use crate::{App, AppError};

/// The member's settings as the preferences page shows them.
#[derive(Debug, Clone)]
pub struct Settings {
    pub topics: Vec<TopicChoice>,
    /// Email as a channel the member wants (separate from the consent to be mailed).
    pub email_channel: bool,
    pub email_opted_in: bool,
    /// The address bounced or complained: no email goes to it, whatever the choices.
    pub email_suppressed: bool,
    pub sms_opted_in: bool,
    /// The number texts go to, if the member has one.
    pub phone: Option<String>,
    /// Slack direct messages as a channel the member wants.
    pub slack_channel: bool,
    /// When the member accepted the current version of the terms, if they did.
    pub terms_accepted_at: Option<Timestamp>,
    pub locale: Locale,
    pub time_zone: TimeZone,
    /// Their own working hours (`None`: their partner's).
    pub working_hours: Option<WorkingHours>,
    /// Their own digest choice (`None`: their partner's default, else the vendor's), and
    /// what applies with why.
    pub digest_choice: Option<tidings_core::noise::DigestFrequency>,
    pub digest: tidings_core::noise::DigestDecision,
}

/// A change from the preferences form; every field is the whole new state.
#[derive(Debug, Clone)]
pub struct SettingsChange {
    /// Topic key to on or off; required topics may be left out.
    pub topics: BTreeMap<String, bool>,
    /// Per topic key, the channels offered on the page to on or off for that topic.
    pub topic_channels: BTreeMap<String, BTreeMap<String, bool>>,
    pub email_channel: bool,
    pub email_opt_in: bool,
    /// Given only when the page offered it (the member has a phone number).
    pub sms_opt_in: Option<bool>,
    /// Given only when the page offered it (Slack is configured).
    pub slack_channel: Option<bool>,
    pub accept_terms: bool,
    pub locale: String,
    pub time_zone: String,
    /// Such as `mon-fri 09:00-17:00`, "" for their partner's; `None`: left as it is.
    pub working_hours: Option<String>,
    /// The version of the opt-in text the member was shown, such as `portal-email-1/de`.
    pub opt_in_text_version: String,
    /// The same for the SMS opt-in, such as `portal-sms-1/de`.
    pub sms_opt_in_text_version: String,
    /// `off`, `daily`, `weekly` or `default`; `None`: left as it is.
    pub digest: Option<String>,
}

pub async fn settings(app: &App, member: &Member) -> Result<Settings, AppError> {
    let mut tx = app.db.read().await?;
    let view = consent::view(&mut tx, member.id).await?;
    let history = store::history(&mut tx, member.id).await?;
    let prefs = view.preferences;
    Ok(Settings {
        topics: view.topics,
        email_channel: prefs.channels.get(&Channel::Email).copied().unwrap_or(true),
        email_opted_in: prefs.email_opted_in,
        email_suppressed: prefs.email_suppressed,
        sms_opted_in: prefs.sms_opted_in,
        phone: member.profile.phone.as_ref().map(|p| p.as_str().to_owned()),
        slack_channel: prefs.channels.get(&Channel::Slack).copied().unwrap_or(true),
        terms_accepted_at: terms_accepted(app, &history),
        locale: member.profile.locale.clone(),
        time_zone: member.profile.time_zone.clone(),
        working_hours: member.profile.working_hours,
        digest_choice: prefs.digest,
        digest: view.digest,
    })
}

/// The latest terms record, when it accepts the current version.
fn terms_accepted(app: &App, history: &[ConsentRecord]) -> Option<Timestamp> {
    history
        .iter()
        .filter(|r| r.purpose == "terms")
        .max_by_key(|r| (r.recorded_at, r.id))
        .filter(|r| r.granted && r.text_version == app.terms.version)
        .map(|r| r.recorded_at)
}

/// Saves the change; nothing is saved unless all of it is valid. Consent is recorded only
/// where it changes, so the record shows decisions, not form submissions.
pub async fn change(app: &App, member: &Member, change: &SettingsChange) -> Result<Settings, AppError> {
    let mut errors = FieldErrors::new();
    let locale = errors.check("locale", Locale::parse(&change.locale));
    let time_zone = errors.check("time_zone", TimeZone::parse(&change.time_zone));
    let working_hours = match change.working_hours.as_deref().map(str::trim) {
        None => Some(member.profile.working_hours),
        Some("") => Some(None),
        Some(v) => errors.check("working_hours", v.parse::<WorkingHours>()).map(Some),
    };
    let (Some(locale), Some(time_zone), Some(working_hours)) = (locale, time_zone, working_hours) else {
        return Err(AppError::Invalid(errors));
    };
    let before = settings(app, member).await?;
    let mut tx = app.db.begin().await?;
    let mut current = members::get(&mut tx, member.id).await?;
    let mut channels = BTreeMap::from([(Channel::Email.as_str().to_owned(), change.email_channel)]);
    if let Some(slack) = change.slack_channel {
        channels.insert(Channel::Slack.as_str().to_owned(), slack);
    }
    let patch = PreferencesPatch {
        topics: change.topics.clone(),
        channels,
        topic_channels: change.topic_channels.clone(),
        digest: change.digest.clone(),
    };
    consent::apply(app, &mut tx, &current, &patch).await?;
    if current.profile.locale != locale
        || current.profile.time_zone != time_zone
        || current.profile.working_hours != working_hours
    {
        current.profile.locale = locale;
        current.profile.time_zone = time_zone;
        current.profile.working_hours = working_hours;
        current.updated_at = app.clock.now();
        members::update(&mut tx, &current).await?;
    }
    tx.commit().await?;

    if change.email_opt_in != before.email_opted_in {
        let input = ConsentInput {
            purpose: "email".into(),
            granted: change.email_opt_in,
            lawful_basis: None,
            text_version: change.opt_in_text_version.clone(),
        };
        consent::record_as(app, member.id, &input, "portal", None).await?;
    }
    if let Some(wanted) = change.sms_opt_in.filter(|w| *w != before.sms_opted_in && before.phone.is_some()) {
        let input = ConsentInput {
            purpose: "sms".into(),
            granted: wanted,
            lawful_basis: None,
            text_version: change.sms_opt_in_text_version.clone(),
        };
        consent::record_as(app, member.id, &input, "portal", None).await?;
    }
    if change.accept_terms != before.terms_accepted_at.is_some() {
        let input = ConsentInput {
            purpose: "terms".into(),
            granted: change.accept_terms,
            lawful_basis: Some("contract".into()),
            text_version: app.terms.version.clone(),
        };
        consent::record_as(app, member.id, &input, "portal", None).await?;
    }
    let member = members::get(&mut app.db.read().await?, member.id).await?;
    settings(app, &member).await
}
