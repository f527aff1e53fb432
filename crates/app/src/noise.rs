//! Noise control: the vendor's policy (frequency caps per importance, the digest per
//! role), a partner's defaults for its people (topics, digest), and what a release needs
//! of both. The member's own choices are their preferences (`consent`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tidings_core::consent::TopicPolicy;
use tidings_core::messages::{Importance, Message};
use tidings_core::noise::{DigestFrequency, NoisePolicy, PartnerDefaults};
use tidings_core::{Action, FieldErrors, MessageId, PartnerId, Slug, TimeZone, Timestamp};
use tidings_store::deliveries::chase::{self as chase_store, Slot};
use tidings_store::deliveries::noise::{Cap, Digests, Noise};
use tidings_store::{Tx, partner_defaults, partners, settings, topics};

use crate::error::not_found;
use crate::partner_channels::PartnerAdmin;
use crate::{App, AppError, Caller, audit};

const SETTING: &str = "noise";
const DAY_MS: i64 = 24 * 3_600_000;

pub(crate) async fn policy_in(tx: &mut Tx) -> Result<NoisePolicy, AppError> {
    Ok(settings::get_json(tx, SETTING).await?)
}

pub async fn policy(app: &App, caller: &Caller) -> Result<NoisePolicy, AppError> {
    caller.require(Action::ReadDirectory, "read the noise policy")?;
    policy_in(&mut app.db.read().await?).await
}

pub async fn set_policy(app: &App, caller: &Caller, wanted: &NoisePolicy) -> Result<NoisePolicy, AppError> {
    caller.require(Action::Configure, "change the noise policy")?;
    let errors = wanted.check();
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = app.db.begin().await?;
    let before = policy_in(&mut tx).await?;
    settings::put_json(&mut tx, SETTING, wanted).await?;
    audit::entry(caller, "settings.noise", None).before(&before).after(wanted).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(wanted.clone())
}

/// A partner's defaults, with the topics its admin may set and what each is for them.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerDefaultsView {
    pub partner_id: PartnerId,
    pub defaults: PartnerDefaults,
    /// The digest the vendor's policy gives people without a role of their own in it.
    pub vendor_digest: DigestFrequency,
    pub topics: Vec<DefaultTopic>,
}

/// A topic as a partner's admin sees it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DefaultTopic {
    pub key: String,
    pub name: String,
    /// The vendor's policy for people without a role listed on the topic.
    pub policy: TopicPolicy,
    /// What the partner set: on, off, or `null` for the vendor's default.
    pub set: Option<bool>,
    /// Required for everyone: nobody can turn it off.
    pub locked: bool,
}

/// What a partner's admin sets (the whole of it: topics not listed follow the vendor).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartnerDefaultsInput {
    /// Topic key to on (true) or off (false) for the partner's people.
    #[serde(default)]
    pub topics: BTreeMap<String, bool>,
    /// `off`, `daily` or `weekly`; absent or `null`: the vendor's policy.
    #[serde(default)]
    pub digest: Option<DigestFrequency>,
}

pub async fn partner_defaults(
    app: &App,
    who: PartnerAdmin<'_>,
    partner: PartnerId,
) -> Result<PartnerDefaultsView, AppError> {
    if let PartnerAdmin::Staff(caller) = who {
        caller.require(Action::ReadDirectory, "read a partner's defaults")?;
    } else {
        who.check(partner, "read a partner's defaults")?;
    }
    let mut tx = app.db.read().await?;
    partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    view(&mut tx, partner).await
}

pub async fn set_partner_defaults(
    app: &App,
    who: PartnerAdmin<'_>,
    partner: PartnerId,
    input: &PartnerDefaultsInput,
) -> Result<PartnerDefaultsView, AppError> {
    let by = who.check(partner, "change a partner's defaults")?;
    let mut tx = app.db.begin().await?;
    partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    let mut errors = FieldErrors::new();
    let mut wanted = PartnerDefaults { topics: BTreeMap::new(), digest: input.digest };
    for (key, on) in &input.topics {
        let Some(slug) = errors.check("topics", Slug::parse(key)) else { continue };
        match topics::get_by_key(&mut tx, slug.as_str()).await {
            Ok(topic) if !on && required_for_all(&topic.policies) => {
                errors.add("topics", format!("topic {key} is required for everyone and cannot be turned off"))
            }
            Ok(_) => {
                wanted.topics.insert(slug, *on);
            }
            Err(tidings_store::Error::NotFound) => errors.add("topics", format!("no topic with key {key}")),
            Err(other) => return Err(other.into()),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let before = partner_defaults::get(&mut tx, partner).await?;
    partner_defaults::put(&mut tx, partner, &wanted, &by, app.clock.now()).await?;
    if let PartnerAdmin::Staff(caller) = who {
        audit::entry(caller, "partner.defaults", partner.as_uuid())
            .before(&before)
            .after(&wanted)
            .write(app, &mut tx)
            .await?;
    }
    let shown = view(&mut tx, partner).await?;
    tx.commit().await?;
    Ok(shown)
}

fn required_for_all(policies: &tidings_core::consent::TopicPolicies) -> bool {
    policies.default == TopicPolicy::Required && policies.by_role.values().all(|p| *p == TopicPolicy::Required)
}

async fn view(tx: &mut Tx, partner: PartnerId) -> Result<PartnerDefaultsView, AppError> {
    let defaults = partner_defaults::get(tx, partner).await?;
    let vendor_digest = policy_in(tx).await?.digest;
    let mut shown = Vec::new();
    let mut after = None;
    loop {
        let page = topics::list(tx, after.as_deref(), Some(500)).await?;
        for t in &page.items {
            shown.push(DefaultTopic {
                key: t.key.to_string(),
                name: t.name.clone(),
                policy: t.policies.default,
                set: defaults.topics.get(&t.key).copied(),
                locked: required_for_all(&t.policies),
            });
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(PartnerDefaultsView { partner_id: partner, defaults, vendor_digest, topics: shown })
}

/// What one release needs to keep noise down, owned so the fan-out can borrow it.
#[derive(Debug, Default)]
pub(crate) struct ReleaseNoise {
    policy: NoisePolicy,
    cap: Option<(u32, Vec<MessageId>)>,
    /// Per time zone and working hours, the next daily and weekly digest; `None` when the
    /// message is not held for digests.
    digests: Option<(Vec<Slot>, Vec<Slot>)>,
}

impl ReleaseNoise {
    pub(crate) fn as_noise(&self) -> Noise<'_> {
        Noise {
            cap: self.cap.as_ref().map(|(limit, counted)| Cap { limit: *limit, counted }),
            digest: self.digests.as_ref().map(|(daily, weekly)| Digests { policy: &self.policy, daily, weekly }),
        }
    }
}

/// Caps and digests for releasing `message` at `now`. A test send is neither capped nor
/// held: its author is waiting for it.
pub(crate) async fn for_release(tx: &mut Tx, message: &Message, now: Timestamp) -> Result<ReleaseNoise, AppError> {
    if message.audience.test_send || message.importance == Importance::Critical {
        return Ok(ReleaseNoise::default());
    }
    let policy = policy_in(tx).await?;
    let cap = match policy.cap(message.importance) {
        Some(limit) => {
            let since = Timestamp::from_millis(now.as_millis() - i64::from(policy.window_days) * DAY_MS);
            let counted = tidings_store::messages::released_since(tx, message.importance, since, message.id).await?;
            Some((limit, counted))
        }
        None => None,
    };
    let digests = if policy.holds(message.importance) && anyone_on_a_digest(tx, &policy).await? {
        let zones = chase_store::time_zones(tx).await?;
        Some((digest_slots(&zones, now, false), digest_slots(&zones, now, true)))
    } else {
        None
    };
    Ok(ReleaseNoise { policy, cap, digests })
}

/// Whether any layer puts anyone on a digest: when none does, a release skips the work.
async fn anyone_on_a_digest(tx: &mut Tx, policy: &NoisePolicy) -> Result<bool, AppError> {
    if policy.digest != DigestFrequency::Off || policy.digest_by_role.values().any(|f| *f != DigestFrequency::Off) {
        return Ok(true);
    }
    Ok(tidings_store::partner_defaults::anyone_on_a_digest(tx).await?)
}

/// Each time zone and working hours' next digest; people without hours take the
/// default (Monday to Friday from nine).
fn digest_slots(zones: &[(String, Option<String>)], now: Timestamp, weekly: bool) -> Vec<Slot> {
    zones
        .iter()
        .map(|(time_zone, working_hours)| {
            let hours = working_hours
                .as_deref()
                .and_then(|w| w.parse::<tidings_core::working_hours::WorkingHours>().ok())
                .unwrap_or_default();
            let at = TimeZone::parse(time_zone).map_or(now, |tz| hours.next_start(&tz, now, weekly));
            Slot { time_zone: time_zone.clone(), working_hours: working_hours.clone(), at }
        })
        .collect()
}
