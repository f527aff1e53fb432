//! Audiences: build one from its parts, preview it (size, breakdown, sample) and explain
//! why a given member is in or out.

use serde::Serialize;
use tidings_core::audiences::{self, Audience, AudienceExplanation, Rule, Subject};
use tidings_core::consent::{self, Channel};
use tidings_core::{Action, Email, FieldErrors, Member, MemberId, SegmentId, Slug};
use tidings_store::audiences::{self as store_audiences, Breakdown};
use tidings_store::consent as consent_store;
use tidings_store::{Tx, groups, members, partners, segments, topics};

use crate::{App, AppError, Caller};

pub use tidings_core::audiences::AudienceDraft;

const SAMPLE: usize = 10;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Preview {
    /// How many members the audience reaches.
    pub size: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub breakdown: Breakdown,
    /// The first members of the audience (by id), at most 10.
    pub sample: Vec<Member>,
    /// What the author should know: an empty audience, and how many each part selects on its own.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberExplanation {
    pub member_id: MemberId,
    pub email: String,
    pub partner: String,
    #[serde(flatten)]
    pub explanation: AudienceExplanation,
    /// For a message on the given topic: which channels may reach the member, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelDecision>,
    /// For a message on the given topic: whether the member's nice-to-know messages wait
    /// for a digest, and which layer (vendor, partner, member) decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<tidings_core::noise::DigestDecision>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelDecision {
    pub channel: Channel,
    pub allowed: bool,
    pub reason: String,
}

/// Builds the audience, reporting every bad part by field.
pub(crate) async fn build(app: &App, tx: &mut Tx, draft: &AudienceDraft) -> Result<Audience, AppError> {
    let mut errors = FieldErrors::new();
    let mut audience = Audience { test_send: draft.test_send, ..Default::default() };
    if let Some(text) = draft.rule.as_deref().filter(|t| !t.trim().is_empty())
        && let Some(rule) = errors.check("rule", audiences::parse(text, &app.catalog))
    {
        audience.include("the rule", rule);
    }
    for (id, rule) in segment_rules(app, tx, &draft.segments, "segments", &mut errors).await? {
        audience.include(id, rule);
    }
    if !draft.partner_groups.is_empty() {
        let keys: Vec<Slug> =
            draft.partner_groups.iter().filter_map(|k| errors.check("partner_groups", Slug::parse(k))).collect();
        let unknown = groups::unknown_keys(tx, &keys.iter().collect::<Vec<_>>()).await?;
        if !unknown.is_empty() {
            errors.add("partner_groups", format!("no partner group with key {}", unknown.join(", ")));
        }
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        audience.include(format!("partner groups {}", keys.join(", ")), Audience::groups_rule(&keys));
    }
    if !draft.partners.is_empty() {
        audience.include("the listed partners", Audience::partners_rule(&draft.partners));
    }
    if !draft.members.is_empty() {
        audience.include("the listed members", Audience::members_rule(&draft.members));
    }
    if let Some(text) = draft.exclude_rule.as_deref().filter(|t| !t.trim().is_empty())
        && let Some(rule) = errors.check("exclude_rule", audiences::parse(text, &app.catalog))
    {
        audience.exclude("the exclusion rule", rule);
    }
    for (id, rule) in segment_rules(app, tx, &draft.exclude_segments, "exclude_segments", &mut errors).await? {
        audience.exclude(id, rule);
    }
    if !draft.exclude_partners.is_empty() {
        audience.exclude("the excluded partners", Audience::partners_rule(&draft.exclude_partners));
    }
    if !draft.exclude_members.is_empty() {
        audience.exclude("the excluded members", Audience::members_rule(&draft.exclude_members));
    }
    if let Some(rule) = &app.default_exclusion {
        audience.exclude(format!("the default exclusion ({rule})"), rule.as_ref().clone());
    }
    if audience.includes.is_empty() && errors.is_empty() {
        errors.add("audience", "selects nobody: give a rule, segments, partner groups, partners or members");
    }
    if errors.is_empty() { Ok(audience) } else { Err(AppError::Invalid(errors)) }
}

async fn segment_rules(
    app: &App,
    tx: &mut Tx,
    ids: &[SegmentId],
    field: &str,
    errors: &mut FieldErrors,
) -> Result<Vec<(String, Rule)>, AppError> {
    let mut rules = Vec::new();
    for id in ids {
        match segments::get(tx, *id).await {
            Ok(s) => match audiences::parse(&s.rule, &app.catalog) {
                Ok(rule) => rules.push((format!("segment \"{}\"", s.name), rule)),
                Err(e) => errors.add(field, format!("segment \"{}\" no longer parses: {e}", s.name)),
            },
            Err(tidings_store::Error::NotFound) => errors.add(field, format!("no segment with id {id}")),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(rules)
}

pub async fn preview(app: &App, caller: &Caller, draft: &AudienceDraft) -> Result<Preview, AppError> {
    caller.require(Action::ReadDirectory, "preview audiences")?;
    let now = app.clock.now();
    let mut tx = app.db.read().await?;
    let audience = build(app, &mut tx, draft).await?;
    let rule = audience.to_rule();
    let size = store_audiences::count_members(&mut tx, &rule, now).await?;
    let breakdown = store_audiences::breakdown(&mut tx, &rule, now).await?;
    let mut sample = Vec::new();
    for id in store_audiences::member_ids(&mut tx, &rule, now, None, SAMPLE).await? {
        sample.push(members::get(&mut tx, id).await?);
    }
    let mut warnings = Vec::new();
    if size == 0 {
        warnings.push("the audience is empty: no member matches it".to_owned());
    }
    if size == 0 || audience.includes.len() > 1 {
        for part in &audience.includes {
            let alone = Audience { includes: vec![part.clone()], ..audience.clone() };
            let n = store_audiences::count_members(&mut tx, &alone.to_rule(), now).await?;
            warnings.push(format!("{} alone reaches {n} member(s)", part.label));
        }
    }
    Ok(Preview { size, breakdown, sample, warnings })
}

/// How many members the audience reaches (nothing else: the cheapest question).
pub async fn count(app: &App, caller: &Caller, draft: &AudienceDraft) -> Result<i64, AppError> {
    caller.require(Action::ReadDirectory, "preview audiences")?;
    let mut tx = app.db.read().await?;
    let audience = build(app, &mut tx, draft).await?;
    Ok(store_audiences::count_members(&mut tx, &audience.to_rule(), app.clock.now()).await?)
}

/// Streams the audience's member ids to `visit`, in chunks in id order, from one query read
/// as it arrives, so memory stays flat whatever its size. Returns how many there were.
pub async fn each_member(
    app: &App,
    caller: &Caller,
    draft: &AudienceDraft,
    visit: impl FnMut(&[MemberId]) -> Result<(), AppError>,
) -> Result<u64, AppError> {
    caller.require(Action::ReadDirectory, "list audiences")?;
    let mut tx = app.db.read().await?;
    let rule = build(app, &mut tx, draft).await?.to_rule();
    store_audiences::stream_member_ids(&mut tx, &rule, app.clock.now(), 10_000, visit).await?
}

/// Explains the audience for one member, named by id or email; with a topic key, also which
/// channels a message on that topic may use to reach them.
pub async fn explain(
    app: &App,
    caller: &Caller,
    draft: &AudienceDraft,
    member: &str,
    topic: Option<&str>,
) -> Result<MemberExplanation, AppError> {
    caller.require(Action::ReadDirectory, "explain audiences")?;
    let mut tx = app.db.read().await?;
    let audience = build(app, &mut tx, draft).await?;
    let member = find_member(&mut tx, member).await?;
    let partner = partners::get(&mut tx, member.profile.partner_id).await?;
    let explanation = audience.explain(Subject::new(&partner, &member), app.clock.now());
    let mut channels = Vec::new();
    let mut digest = None;
    if let Some(key) = topic {
        let topic = topics::get_by_key(&mut tx, key.trim())
            .await
            .map_err(|_| AppError::invalid("topic", format!("no topic with key {key}")))?;
        let prefs = consent_store::preferences(&mut tx, member.id).await?;
        for channel in Channel::ALL {
            let topic_ref = consent::TopicRef { key: &topic.key, policies: &topic.policies };
            let decision = consent::may_reach(&member.profile, &prefs, topic_ref, channel);
            channels.push(ChannelDecision { channel, allowed: decision.allowed, reason: decision.reason });
        }
        let policy = crate::noise::policy_in(&mut tx).await?;
        digest = Some(tidings_core::noise::digest_decision(&member.profile, prefs.digest, &prefs.partner, &policy));
    }
    Ok(MemberExplanation {
        member_id: member.id,
        email: member.profile.email.to_string(),
        partner: partner.profile.name,
        explanation,
        channels,
        digest,
    })
}

pub(crate) async fn find_member(tx: &mut Tx, key: &str) -> Result<Member, AppError> {
    let missing = || AppError::NotFound("member");
    if let Ok(id) = key.trim().parse::<MemberId>() {
        return members::get(tx, id).await.map_err(|_| missing());
    }
    let email = Email::parse(key).map_err(|e| AppError::invalid("member", e.to_string()))?;
    let found = members::find_by_keys(tx, &[], &[email.to_string()]).await?;
    found.into_iter().next().ok_or_else(missing)
}
