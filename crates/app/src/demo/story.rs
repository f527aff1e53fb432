//! What `serve --demo` adds to the seeded directory so that a newcomer sees the product
//! at work in its first minutes: most members opted in to email, a must-know recall
//! released and then corrected (some partners have acknowledged, most have not), a need-to-know product
//! update released, a draft to try test sends and scheduling on, and a CRM's deal events
//! answered by triggers. Kept apart from
//! [`super::seed`], whose plain directory the tests count on.

use tidings_core::consent::Channel;
use tidings_core::messages::MessageDraft;
use tidings_core::{Member, MemberId, MemberStatus, MessageId, Role};
use tidings_store::consent::ConsentRecord;
use tidings_store::members::MemberFilter;
use tidings_store::{consent, members, settings};

use crate::inbox::Origin;
use crate::partner_channels::PartnerAdmin;
use crate::{App, AppError, Caller};

/// Where the story keeps the member whose portal the demo opens, across restarts.
const PORTAL_MEMBER: &str = "demo_portal_member";

/// What the story made.
#[derive(Debug, Clone)]
pub struct Story {
    pub recall: MessageId,
    pub update: MessageId,
    pub draft: MessageId,
    /// Members opted in to email.
    pub opted_in: usize,
    /// Recall recipients who have acknowledged its corrected text (others acknowledged
    /// only the text as first released).
    pub acknowledged: usize,
    /// A recall recipient who has neither read nor acknowledged it: the portal the demo
    /// opens, with the recall's pop-up waiting.
    pub portal_member: Member,
    /// Events from "the CRM" that triggers answered.
    pub events: usize,
    /// Partners found gone quiet, each with a task for its manager.
    pub quiet_partners: usize,
    /// People who took last week's nice-to-know news in a digest (sent as the demo starts).
    pub digests: i64,
}

/// The recall: must know, to the support, operations and lead people of distributors and
/// resellers, acknowledged with a statement by `due_at` by at least one support and one
/// operations person at each partner.
fn recall_draft(due_at: &str) -> serde_json::Value {
    serde_json::json!({
        "topic": "operations",
        "importance": "critical",
        "time_zone": "Europe/Berlin",
        "content": {"variants": {"en": {
            "title": "Recall: X-200 power units, lot 44",
            "summary": "Lot 44 of the X-200 power unit can overheat under sustained load.",
            "what_changed": "Testing found that X-200 power units from lot 44 can overheat when run at full load for more than two hours.",
            "why_it_matters": "An overheating unit can damage the equipment it powers. Customers must not receive units from this lot.",
            "what_to_do": "1. Stop selling X-200 units from lot 44 today.\n2. Pull them from stock and quarantine them.\n3. Contact customers who bought them in the last 60 days.",
            "call_to_action": {"label": "Open the recall kit", "url": "https://vendor.example/recall/x200-lot44"}
        }}},
        "audience": {"rule": "partner.type in (\"distributor\", \"reseller\") and member.role in (\"support\", \"operations\", \"partner_lead\")"},
        "acknowledgment": {
            "statement": "I have pulled lot 44 from stock and will contact affected customers.",
            "due_at": due_at,
            "obligation": {"roles": {"support": 1, "operations": 1}},
            "attestation": {"fields": [
                {"key": "units", "label": "Units quarantined", "type": "number", "min": 0, "max": 100000},
                {"key": "customers", "label": "Customers contacted", "type": "number", "min": 0, "max": 100000},
                {"key": "serials", "label": "Serial numbers quarantined", "type": "serials", "max": 500, "required": false}
            ]}
        }
    })
}

/// A demo member acknowledges what they were shown, stating what they did (the `n`-th of
/// them: the numbers vary, some list serial numbers).
async fn acknowledge_with_answers(
    app: &App,
    member: &Member,
    recall: MessageId,
    n: usize,
    origin: &Origin,
) -> Result<(), AppError> {
    let seen = crate::inbox::view(app, member, recall, origin).await?;
    let mut answers = tidings_core::attestation::Given::new();
    answers.insert("units".into(), serde_json::json!(n * 7 % 40 + 2));
    answers.insert("customers".into(), serde_json::json!(n % 6));
    if n.is_multiple_of(3) {
        answers.insert(
            "serials".into(),
            serde_json::json!([format!("X200-44-{:04}", n * 11), format!("X200-44-{:04}", n * 11 + 1)]),
        );
    }
    let how = crate::evidence::record::AckContext::DEMO;
    crate::inbox::acknowledge(app, member, recall, &seen.rendered.content_hash, &answers, origin, how).await?;
    Ok(())
}

/// The recall's material correction: a second lot, and a longer look back.
fn recall_correction() -> serde_json::Value {
    let mut content = recall_draft("")["content"].clone();
    let en = &mut content["variants"]["en"];
    en["what_changed"] = serde_json::json!(
        "Testing found that X-200 power units from lots 44 and 45 can overheat when run at full load for more than two hours."
    );
    en["what_to_do"] = serde_json::json!(
        "1. Stop selling X-200 units from lots 44 and 45 today.\n2. Pull them from stock and quarantine them.\n3. Contact customers who bought them in the last 90 days."
    );
    serde_json::json!({
        "kind": "material",
        "note": "Lot 45 came off the same production run and is affected too; customers of the last 90 days need a call.",
        "content": content
    })
}

fn update_draft() -> serde_json::Value {
    serde_json::json!({
        "topic": "product-updates",
        "importance": "action",
        "content": {"variants": {"en": {
            "title": "X-300 firmware 4.2 is available",
            "summary": "Firmware 4.2 fixes the fan-speed regression and adds remote diagnostics.",
            "what_changed": "Firmware 4.2 for the X-300 is out: it fixes the fan-speed regression of 4.1 and adds remote diagnostics.",
            "why_it_matters": "Customers on 4.1 report noisy fans; 4.2 ends those support calls.",
            "what_to_do": "Offer the update to customers on 4.1 at their next service visit.",
            "call_to_action": {"label": "Read the release notes", "url": "https://vendor.example/x300/4.2"}
        }}},
        "audience": {"rule": "member.role in (\"technical\", \"support\")"}
    })
}

fn draft_draft() -> serde_json::Value {
    serde_json::json!({
        "topic": "incentives",
        "importance": "info",
        "content": {"variants": {"en": {
            "title": "Q1 SPIFF: $200 per X-300 sold",
            "summary": "Sell an X-300 between January and March and earn $200 per unit.",
            "what_changed": "A new SPIFF pays $200 for every X-300 sold in the first quarter.",
            "why_it_matters": "It is the richest SPIFF of the year.",
            "what_to_do": "Register each deal in the portal within 30 days of the sale."
        }}},
        "audience": {"rule": "member.role = \"sales\""}
    })
}

/// Tells the demo's story on a freshly seeded database.
pub async fn tell(app: &App) -> Result<Story, AppError> {
    let operator = Caller::operator();
    let opted_in = opt_in_most(app).await?;
    let week = 7 * 86_400_000;
    let due_at = tidings_core::Timestamp::from_millis(app.clock.now().as_millis() + week).to_rfc3339();
    let mut recall_message = recall_draft(&due_at);
    // Texts and Slack messages too, when the demo has providers for them.
    let mut channels = vec!["inbox", "popup", "email"];
    subscribe_stand_in_browsers(app).await?;
    for (channel, name) in [(Channel::Sms, "sms"), (Channel::Slack, "slack"), (Channel::WebPush, "web_push")] {
        if app.channels.provides(channel) {
            channels.push(name);
        }
    }
    add_webhook_receiver(app).await?;
    if bind_partner_channels(app).await? > 0 {
        channels.push("teams");
        if !channels.contains(&"slack") {
            channels.push("slack");
        }
    }
    recall_message["channels"] = serde_json::json!(channels);
    let recall = create(app, &operator, recall_message).await?;
    let update = create(app, &operator, update_draft()).await?;
    let draft = create(app, &operator, draft_draft()).await?;
    crate::release::release(app, &operator, update).await?;
    crate::release::release(app, &operator, recall).await?;

    let recipients = recipients(app, &operator, recall).await?;
    let origin = Origin { ip: Some("192.0.2.10".into()), user_agent: Some("Tidings demo".into()) };
    let mut portal_member = None;
    for (i, member) in recipients.iter().enumerate() {
        // About two in five acknowledge, one in five only reads, the rest have not looked.
        match i % 5 {
            0 | 3 => {
                acknowledge_with_answers(app, member, recall, i, &origin).await?;
            }
            1 => {
                crate::inbox::read(app, member, recall, &origin).await?;
            }
            _ if portal_member.is_none() => portal_member = Some(member.clone()),
            _ => {}
        }
    }
    let portal_member = portal_member.ok_or(AppError::NotFound("a recall recipient for the demo portal"))?;
    // Then lot 45 turned out to be affected too: a material correction asks everyone
    // again; half of those who had acknowledged have confirmed the corrected text.
    let correction = serde_json::from_value(recall_correction()).map_err(|e| AppError::Unexpected(e.into()))?;
    crate::corrections::correct(app, &operator, recall, &correction).await?;
    let mut acknowledged = 0;
    for member in recipients.iter().step_by(5) {
        acknowledge_with_answers(app, member, recall, acknowledged, &origin).await?;
        acknowledged += 1;
    }
    // The chase has begun: a lead named who answers for support, and the ladder's first
    // step ran (its reminders wait for each person's working hours).
    name_who_answers_for_support(app, &recipients).await?;
    crate::chase::run_now(app, &operator, recall).await?;
    // A morning's deals from the CRM, answered by the demo's triggers.
    let people = members::list(&mut app.db.read().await?, &MemberFilter::default(), None, Some(40)).await?.items;
    let partners =
        tidings_store::partners::list(&mut app.db.read().await?, &Default::default(), None, Some(40)).await?;
    let newest: Vec<tidings_core::PartnerId> = partners.items.iter().rev().take(3).map(|p| p.id).collect();
    let events = super::deals::deal_flow(app, &people, &newest).await?;
    // Last week's nice-to-know news waited for digests, which go out as the demo starts.
    let reader =
        people.iter().find(|m| m.profile.roles.contains(Role::Marketing) && m.profile.status == MemberStatus::Active);
    let first_partner = partners.items.first().map(|p| p.id).ok_or(AppError::NotFound("a demo partner"))?;
    let digests = super::noise::quiet_down(app, first_partner, reader).await?;
    // Every tenth partner has gone quiet: their managers have tasks from the first minute.
    let quiet_partners = crate::automation::silence::find(app).await?.len();
    let mut tx = app.db.begin().await?;
    settings::put(&mut tx, PORTAL_MEMBER, &portal_member.id.to_string()).await?;
    tx.commit().await?;
    // The evidence of it all is signed at once, so the evidence page and
    // `tidings evidence export` have a checkpoint from the first minute.
    crate::evidence::seal(app).await?;
    Ok(Story { recall, update, draft, opted_in, acknowledged, portal_member, events, quiet_partners, digests })
}

/// Subscribes the browsers of the first distributor's people to notifications, at the
/// demo's stand-in push service, when it runs.
async fn subscribe_stand_in_browsers(app: &App) -> Result<(), AppError> {
    let (Some(catcher), true) = (&app.chat_catcher, app.channels.push().is_some()) else { return Ok(()) };
    let operator = Caller::operator();
    let filter =
        tidings_store::partners::PartnerFilter { partner_type: Some("distributor".into()), ..Default::default() };
    let Some(partner) = crate::partners::list(app, &operator, &filter, None, Some(1)).await?.items.pop() else {
        return Ok(());
    };
    let filter = MemberFilter { partner_id: Some(partner.id), ..Default::default() };
    for member in crate::members::list(app, &operator, &filter, None, Some(50)).await?.items {
        let browser = member.profile.email.as_str().replace(['@', '.'], "-");
        let Some(endpoint) = catcher.push_endpoint(&browser) else { return Ok(()) };
        let subscription = tidings_channels::push::Subscription::stand_in(endpoint);
        crate::push::subscribe(app, &member, subscription, Some("Tidings demo browser")).await?;
    }
    Ok(())
}

/// Points a webhook endpoint of every event at the demo's stand-in receiver, when it runs.
async fn add_webhook_receiver(app: &App) -> Result<(), AppError> {
    let Some(url) = app.chat_catcher.as_ref().and_then(|c| c.webhook_receiver()) else { return Ok(()) };
    let events = tidings_core::webhooks::EventType::SUBSCRIBABLE.iter().map(|e| e.as_str().to_owned()).collect();
    let draft = crate::webhooks::EndpointDraft {
        url: Some(url),
        description: Some("The demo's stand-in receiver".into()),
        events: Some(events),
        partner_id: None,
        enabled: None,
    };
    crate::webhooks::create(app, &Caller::operator(), &draft).await?;
    Ok(())
}

/// Binds the Teams and Slack channels of the first distributors and resellers to the
/// demo's stand-in webhooks, when they run; returns how many partners it bound.
async fn bind_partner_channels(app: &App) -> Result<usize, AppError> {
    const BOUND: u32 = 3;
    let Some(catcher) = &app.chat_catcher else { return Ok(0) };
    let operator = Caller::operator();
    let mut bound = 0;
    for partner_type in ["distributor", "reseller"] {
        let filter =
            tidings_store::partners::PartnerFilter { partner_type: Some(partner_type.into()), ..Default::default() };
        let page = crate::partners::list(app, &operator, &filter, None, Some(BOUND)).await?;
        for partner in page.items.iter().take(if partner_type == "distributor" { 2 } else { 1 }) {
            let slug: String = partner
                .profile
                .name
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let Some((teams, slack)) = catcher.webhook_urls(&slug) else { return Ok(bound) };
            let who = crate::partner_channels::PartnerAdmin::Staff(&operator);
            crate::partner_channels::bind(app, who, partner.id, Channel::Teams, &teams, "Vendor news").await?;
            let who = crate::partner_channels::PartnerAdmin::Staff(&operator);
            crate::partner_channels::bind(app, who, partner.id, Channel::Slack, &slack, &format!("#{slug}-vendor"))
                .await?;
            bound += 1;
        }
    }
    Ok(bound)
}

/// The member whose portal the demo opens: the one the story chose, as long as they can
/// still sign in; else the first active member.
pub async fn portal_member(app: &App) -> Result<Option<Member>, AppError> {
    let mut tx = app.db.read().await?;
    if let Some(id) = settings::get(&mut tx, PORTAL_MEMBER).await?.and_then(|id| id.parse::<MemberId>().ok())
        && let Ok(member) = members::get(&mut tx, id).await
        && member.profile.status != MemberStatus::Disabled
    {
        return Ok(Some(member));
    }
    let active = MemberFilter { status: Some(MemberStatus::Active), ..Default::default() };
    Ok(members::list(&mut tx, &active, None, Some(1)).await?.items.into_iter().next())
}

async fn create(app: &App, caller: &Caller, draft: serde_json::Value) -> Result<MessageId, AppError> {
    let draft: MessageDraft =
        serde_json::from_value(draft).map_err(|e| AppError::Unexpected(anyhow::anyhow!("a demo message: {e}")))?;
    Ok(crate::messages::create(app, caller, &draft).await?.id)
}

/// Three in four members (test members included) opted in to email, as if they had ticked
/// the box in the portal, in one transaction; every other one of those also has a mobile
/// number and opted in to texts.
async fn opt_in_most(app: &App) -> Result<usize, AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let mut opted_in = 0;
    let mut after = None;
    loop {
        let page = members::list(&mut tx, &MemberFilter::default(), after.as_deref(), Some(500)).await?;
        for (i, member) in page.items.iter().enumerate() {
            if member.profile.status == MemberStatus::Disabled
                || (i % 4 == 3 && member.profile.status != MemberStatus::Test)
            {
                continue;
            }
            let record = ConsentRecord {
                id: uuid::Uuid::now_v7(),
                member_id: member.id,
                purpose: "email".into(),
                granted: true,
                source: "portal".into(),
                lawful_basis: "consent".into(),
                text_version: "demo-email-1".into(),
                recorded_by: "member".into(),
                recorded_at: now,
            };
            consent::record(&mut tx, &record).await?;
            opted_in += 1;
            if opted_in % 2 == 0 {
                let mut texted = member.clone();
                texted.profile.phone = tidings_core::Phone::parse(&format!("+1555{opted_in:07}")).ok();
                members::update(&mut tx, &texted).await?;
                let sms = ConsentRecord {
                    id: uuid::Uuid::now_v7(),
                    purpose: "sms".into(),
                    text_version: "demo-sms-1".into(),
                    ..record
                };
                consent::record(&mut tx, &sms).await?;
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    tx.commit().await?;
    Ok(opted_in)
}

/// The lead of the first partner with two support people among `recipients` names the
/// second of them to answer for support.
async fn name_who_answers_for_support(app: &App, recipients: &[Member]) -> Result<(), AppError> {
    for lead in recipients.iter().filter(|m| m.profile.roles.contains(Role::PartnerLead)) {
        let partner = lead.profile.partner_id;
        let support: Vec<&Member> = recipients
            .iter()
            .filter(|m| m.profile.partner_id == partner && m.profile.roles.contains(Role::Support))
            .collect();
        if let [_, second, ..] = support.as_slice() {
            crate::nominees::nominate(app, PartnerAdmin::Lead(lead), partner, Role::Support, second.id).await?;
            return Ok(());
        }
    }
    Ok(())
}

/// The members who got the message in their inbox, in id order.
async fn recipients(app: &App, caller: &Caller, id: MessageId) -> Result<Vec<Member>, AppError> {
    let message = crate::messages::get(app, caller, id).await?;
    let mut ids = Vec::new();
    crate::audiences::each_member(app, caller, &message.audience, |chunk| {
        ids.extend_from_slice(chunk);
        Ok(())
    })
    .await?;
    let mut tx = app.db.read().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(members::get(&mut tx, id).await?);
    }
    Ok(out)
}
