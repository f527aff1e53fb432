//! The demo's deal flow: triggers that answer a CRM's deal registrations, approvals and
//! rejections (with the reason), incentive progress and claim deadlines; onboarding
//! sequences for new people and new partners that end on a first deal; and a morning's
//! worth of such events from "the CRM", already answered, so the Automation page and the
//! members' inboxes show it working from the first minute.

use tidings_core::automation::sequence::SequenceDraft;
use tidings_core::automation::{EventInput, TriggerDraft};
use tidings_core::{Member, PartnerId, Role};

use crate::{App, AppError, Caller};

fn triggers() -> serde_json::Value {
    serde_json::json!([
        {"key": "deal-registered", "name": "Deal registration received", "event_type": "deal.registered",
         "topic": "incentives", "importance": "info", "channels": ["inbox"],
         "content": {"variants": {"en": {
            "title": "We received your registration of {{ event.deal_name }}",
            "what_changed": "Deal {{ event.deal_id }} for {{ event.customer }} is registered and under review.",
            "why_it_matters": "A registered deal is protected for you while it is reviewed.",
            "what_to_do": "Nothing yet: you hear from us within two working days."}}}},
        {"key": "deal-approved", "name": "Deal approved", "event_type": "deal.approved",
         "topic": "incentives", "importance": "action",
         "content": {"variants": {"en": {
            "title": "Approved: {{ event.deal_name }}",
            "what_changed": "Your registration of deal {{ event.deal_id }} for {{ event.customer }} is approved.",
            "why_it_matters": "The deal is yours until {{ event.expires_on }}: no other partner can register it.",
            "what_to_do": "Send the customer your quote with the deal id {{ event.deal_id }}."}}}},
        {"key": "deal-rejected", "name": "Deal rejected, with the reason", "event_type": "deal.rejected",
         "topic": "incentives", "importance": "action",
         "content": {"variants": {"en": {
            "title": "Not approved: {{ event.deal_name }}",
            "what_changed": "Your registration of deal {{ event.deal_id }} for {{ event.customer }} was not approved.",
            "why_it_matters": "The reason: {{ event.reason }}",
            "what_to_do": "Correct what the reason names and register the deal again, or reply to your partner manager."}}}},
        {"key": "incentive-near-target", "name": "Close to an incentive target", "event_type": "incentive.progress",
         "condition": "event.progress >= 0.8", "recipients": "partner_leads",
         "topic": "incentives", "importance": "info", "channels": ["inbox"],
         "content": {"variants": {"en": {
            "title": "{{ partner.name }} is close to the {{ event.program }} target",
            "what_changed": "Your team has reached {{ event.achieved }} of {{ event.target }}.",
            "why_it_matters": "The bonus pays out once the target is met, by {{ event.ends_on }}.",
            "what_to_do": "Review your open deals with your team this week."}}}},
        {"key": "claim-deadline", "name": "Claim deadline ahead", "event_type": "claim.deadline",
         "recipients": "partner_members", "roles": ["finance", "operations"],
         "topic": "incentives", "importance": "action", "delay_minutes": 0,
         "content": {"variants": {"en": {
            "title": "File claim {{ event.claim_id }} by {{ event.deadline }}",
            "what_changed": "Your {{ event.program }} claim of {{ event.amount }} {{ event.currency }} is open.",
            "why_it_matters": "A claim filed after its deadline is not paid.",
            "what_to_do": "File it in the partner portal's claims area."}}}}
    ])
}

fn sequences() -> serde_json::Value {
    serde_json::json!([
        {"key": "onboarding", "name": "Onboarding a new person", "entry_event": "member.created",
         "goal_event": "deal.registered", "topic": "announcements",
         "steps": [
            {"name": "Welcome", "channels": ["inbox"], "content": {"variants": {"en": {
                "title": "Welcome to the partner program, {{ member.first_name }}",
                "what_to_do": "Open the partner portal and look around: your messages, and what you hear about, are here."}}}},
            {"name": "Profile", "after_minutes": 1440, "condition": "member.attr.profile_complete != true", "channels": ["inbox"],
             "content": {"variants": {"en": {"title": "Complete your portal profile",
                "what_to_do": "Add your phone number and choose your topics, so urgent notices reach you."}}}},
            {"name": "First training", "after_minutes": 2880, "condition": "member.attr.trained != true", "channels": ["inbox"],
             "content": {"variants": {"en": {"title": "Take your first training",
                "what_to_do": "The X-200 essentials course takes 40 minutes."}}}},
            {"name": "First deal", "after_minutes": 5760, "importance": "action",
             "content": {"variants": {"en": {"title": "Register your first deal",
                "why_it_matters": "A registered deal is protected for you while it is reviewed.",
                "what_to_do": "Register it in the portal's deal area."}}}}
         ]},
        {"key": "partner-activation", "name": "Activating a new partner", "entry_event": "partner.created",
         "goal_event": "deal.registered", "topic": "announcements",
         "steps": [
            {"name": "Kick-off", "channels": ["inbox"], "content": {"variants": {"en": {
                "title": "Welcome to the program, {{ partner.name }}",
                "what_to_do": "Book your kick-off call with your partner manager."}}}},
            {"name": "Nudge", "after_minutes": 10080, "importance": "action", "content": {"variants": {"en": {
                "title": "Ready for your first deal?",
                "what_to_do": "Your partner manager can walk your sales team through deal registration."}}}}
         ]},
        {"key": "growth-sales", "name": "Growth-tier sales kick-off", "entry_event": "training.completed",
         "entry_rule": "member.role = \"sales\" and partner.tier = \"growth\"",
         "goal_event": "deal.registered", "topic": "announcements",
         "steps": [
            {"name": "Sales kit", "channels": ["inbox"], "content": {"variants": {"en": {
                "title": "Your growth-tier sales kit, {{ member.first_name }}",
                "what_to_do": "Use the X-300 pitch deck and price calculator in the portal's sales area."}}}}
         ]}
    ])
}

/// Saves the demo's triggers and sequences, posts a morning's events from "the CRM" about
/// the people of the first partners (new people and partners first, then their deals), and
/// runs them; returns how many events went in.
pub async fn deal_flow(app: &App, people: &[Member], partners: &[PartnerId]) -> Result<usize, AppError> {
    let operator = Caller::operator();
    let unexpected = |e: serde_json::Error| AppError::Unexpected(anyhow::anyhow!("a demo automation: {e}"));
    let drafts: Vec<TriggerDraft> = serde_json::from_value(triggers()).map_err(unexpected)?;
    for draft in &drafts {
        crate::automation::triggers::put(app, &operator, draft).await?;
    }
    let drafts: Vec<SequenceDraft> = serde_json::from_value(sequences()).map_err(unexpected)?;
    for draft in &drafts {
        crate::automation::sequences::put(app, &operator, draft).await?;
    }
    let sales: Vec<&Member> = people.iter().filter(|m| m.profile.roles.contains(Role::Sales)).take(3).collect();
    // New people (the sales people among them register deals below) and new partners.
    let mut joined: Vec<EventInput> = people
        .iter()
        .filter(|m| !m.profile.roles.contains(Role::PartnerLead))
        .take(6)
        .chain(sales.iter().copied())
        .map(|m| {
            let key = format!("crm-member-{}", m.id);
            event(&key, "member.created", None, Some(m.profile.email.as_str()), serde_json::json!({}))
        })
        .collect();
    for p in partners {
        joined.push(event(
            &format!("crm-partner-{p}"),
            "partner.created",
            Some(&p.to_string()),
            None,
            serde_json::json!({}),
        ));
    }
    // Growth-tier sales people enter their kick-off by the sequence's rule, without an event.
    crate::automation::sequences::enrol_by_rule(app).await?;
    let mut taken = crate::automation::intake::post_batch(app, &operator, &joined).await?;
    crate::automation::firing::run_due(app).await?;
    crate::automation::stepping::advance(app).await?;
    let mut events = Vec::new();
    for (i, m) in sales.iter().enumerate() {
        let deal = format!("D-{}", 4711 + i);
        let customer = ["Northwind Hospital", "Contoso Retail", "Fabrikam Logistics"][i % 3];
        let name = format!("{customer}: 40 X-200 units");
        let email = m.profile.email.to_string();
        let base = serde_json::json!({"deal_id": deal, "deal_name": name, "customer": customer, "amount": 48_000, "currency": "EUR"});
        events.push(event(&format!("crm-{deal}-registered"), "deal.registered", None, Some(&email), base.clone()));
        let mut answer = base;
        if i == 1 {
            answer = serde_json::json!({"deal_id": deal, "deal_name": name, "customer": customer,
                "reason": "Contoso Retail is already registered by another partner for this product line (deal D-4102)."});
            events.push(event(&format!("crm-{deal}-rejected"), "deal.rejected", None, Some(&email), answer));
        } else {
            answer["expires_on"] = serde_json::json!("2027-03-31");
            events.push(event(&format!("crm-{deal}-approved"), "deal.approved", None, Some(&email), answer));
        }
    }
    if let Some(first) = people.first() {
        let partner = first.profile.partner_id.to_string();
        events.push(event(
            "crm-q4-growth-progress",
            "incentive.progress",
            Some(&partner),
            None,
            serde_json::json!({"program": "Q4 growth bonus", "progress": 0.85, "target": 250_000, "achieved": 212_500, "ends_on": "2026-12-31"}),
        ));
        events.push(event(
            "crm-claim-mdf-881",
            "claim.deadline",
            Some(&partner),
            None,
            serde_json::json!({"claim_id": "MDF-881", "deadline": "2026-12-20", "program": "Marketing development funds", "amount": 3_200, "currency": "EUR"}),
        ));
    }
    taken.extend(crate::automation::intake::post_batch(app, &operator, &events).await?);
    crate::automation::firing::run_due(app).await?;
    crate::release::tick(app).await?;
    Ok(taken.iter().filter(|t| t.status == "created").count())
}

fn event(
    key: &str,
    event_type: &str,
    partner: Option<&str>,
    member: Option<&str>,
    data: serde_json::Value,
) -> EventInput {
    EventInput {
        idempotency_key: Some(key.into()),
        event_type: Some(event_type.into()),
        partner: partner.map(Into::into),
        member: member.map(Into::into),
        occurred_at: None,
        data: Some(data),
    }
}
