//! `/events`, `/event-types` and `/triggers` over HTTP: a CRM posts a deal registration,
//! an approval and a rejection with its reason (one of them twice), each once, the
//! triggers answer with messages in the right people's inboxes, and bad input is refused
//! with its fields named and the role checked first.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(a_crm_posts_deal_events_and_the_partners_people_hear_back);

async fn a_crm_posts_deal_events_and_the_partners_people_hear_back(t: TestApp) -> TestApp {
    let (s, topic) = t.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "deals", "name": "Deals"}))).await;
    assert_eq!(s, 201, "{topic}");
    let (s, partner) = t
        .admin(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"name": "Acme", "partner_type": "reseller", "external_id": "CRM-ACME"})),
        )
        .await;
    assert_eq!(s, 201, "{partner}");
    for (email, roles) in [("ana@acme.example", "sales"), ("lee@acme.example", "partner_lead")] {
        let body = json!({"partner_id": partner["id"], "email": email, "name": email, "roles": [roles]});
        let (s, m) = t.admin(Method::POST, "/api/v1/members", Some(body)).await;
        assert_eq!(s, 201, "{m}");
    }
    let rejected = json!({
        "name": "Deal rejected", "event_type": "deal.rejected", "topic": "deals", "importance": "action",
        "channels": ["inbox"],
        "content": {"variants": {"en": {"title": "Deal {{ event.deal_id }} was not approved",
            "why_it_matters": "{{ event.reason }}", "what_to_do": "Correct it and register it again."}}}
    });
    let analyst = t.analyst.clone();
    let refused =
        t.call(Method::PUT, "/api/v1/triggers/deal-rejected", Some(&analyst), Some(json!({"nonsense": 1}))).await;
    assert_eq!(refused.status().as_u16(), 403, "the role is checked before the body");
    let (s, body) = t.admin(Method::PUT, "/api/v1/triggers/deal-rejected", Some(rejected)).await;
    assert_eq!(s, 201, "{body}");
    let approved = json!({
        "name": "Deal approved", "event_type": "deal.approved", "topic": "deals", "recipients": "partner_leads",
        "channels": ["inbox"], "content": {"variants": {"en": {"title": "{{ event.deal_name }} approved for {{ partner.name }}"}}}
    });
    let (s, body) = t.admin(Method::PUT, "/api/v1/triggers/deal-approved", Some(approved)).await;
    assert_eq!(s, 201, "{body}");

    let rejection = json!({"idempotency_key": "crm-7-rejected", "type": "deal.rejected", "member": "ana@acme.example",
        "data": {"deal_id": "D-7", "reason": "The customer is already registered by another partner"}});
    let (s, first) = t.admin(Method::POST, "/api/v1/events", Some(rejection.clone())).await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = t.admin(Method::POST, "/api/v1/events", Some(rejection)).await;
    assert_eq!((s, &again["event"]["id"], &again["repeat"]), (200, &first["event"]["id"], &json!(true)));
    let batch = json!({"events": [
        {"idempotency_key": "crm-8-registered", "type": "deal.registered", "partner": "CRM-ACME", "data": {"deal_id": "D-8"}},
        {"idempotency_key": "crm-8-approved", "type": "deal.approved", "partner": "CRM-ACME",
         "data": {"deal_id": "D-8", "deal_name": "Hospital network"}},
        {"idempotency_key": "crm-9-rejected", "type": "deal.rejected", "partner": "CRM-ACME", "data": {"deal_id": "D-9"}},
    ]});
    let (s, outcome) = t.admin(Method::POST, "/api/v1/events/batch", Some(batch)).await;
    assert_eq!(s, 200, "{outcome}");
    assert_eq!((outcome["created"].as_u64(), outcome["invalid"].as_u64()), (Some(2), Some(1)), "{outcome}");
    assert_eq!(outcome["items"][2]["errors"][0]["field"], "data.reason");
    let (s, problem) = t
        .admin(Method::POST, "/api/v1/events", Some(json!({"idempotency_key": "x", "type": "deal.rejected", "partner": "CRM-ACME", "data": {"deal_id": "D"}})))
        .await;
    assert_eq!(s, 422, "{problem}");
    assert!(problem.to_string().contains("data.reason"), "{problem}");

    tidings_app::automation::firing::run_due(&t.app).await.unwrap();
    tidings_app::release::tick(&t.app).await.unwrap();
    let (s, events) =
        t.admin(Method::GET, &format!("/api/v1/events?partner_id={}", partner["id"].as_str().unwrap()), None).await;
    assert_eq!(s, 200, "{events}");
    assert_eq!(events["items"].as_array().map(Vec::len), Some(3));
    let id = first["event"]["id"].as_str().unwrap();
    let (s, detail) = t.admin(Method::GET, &format!("/api/v1/events/{id}"), None).await;
    assert_eq!((s, &detail["firings"][0]["outcome"]), (200, &json!("sent")), "{detail}");
    let message = detail["firings"][0]["message_id"].as_str().unwrap().to_owned();
    let (s, m) = t.admin(Method::GET, &format!("/api/v1/messages/{message}"), None).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["triggered_by"]["trigger"], "deal-rejected");
    assert_eq!(m["audience"]["members"].as_array().map(Vec::len), Some(1), "only the member the event names");
    let (_, triggers) = t.admin(Method::GET, "/api/v1/triggers", None).await;
    let sent: Vec<i64> = triggers.as_array().unwrap().iter().map(|t| t["firings"]["sent"].as_i64().unwrap()).collect();
    assert_eq!(sent, [1, 1], "{triggers}");
    let onboarding = json!({"name": "Onboarding", "entry_event": "member.created", "goal_event": "deal.registered",
        "topic": "deals", "steps": [{"name": "Welcome"}]});
    let (s, problem) = t.admin(Method::PUT, "/api/v1/sequences/onboarding", Some(onboarding.clone())).await;
    assert_eq!(s, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "steps[0].content", "{problem}");
    let mut fixed = onboarding;
    fixed["steps"][0]["content"] = json!({"variants": {"en": {"title": "Welcome"}}});
    let (s, body) = t.admin(Method::PUT, "/api/v1/sequences/onboarding", Some(fixed)).await;
    assert_eq!(s, 201, "{body}");
    let (s, listed) = t.admin(Method::GET, "/api/v1/sequences", None).await;
    assert_eq!((s, listed[0]["funnel"]["entered"].as_i64()), (200, Some(0)), "{listed}");
    assert_eq!(t.admin(Method::DELETE, "/api/v1/event-types/deal.approved", None).await.0, 409, "built in");
    let policy = |tiers: serde_json::Value| json!({"thresholds": {"inactive_days": 30}, "tiers": tiers});
    for bad in [json!({"growth": [null, null]}), json!({"": {}}), json!({"platinum": {"inactive_days": 5}})] {
        let (s, problem) = t.admin(Method::PUT, "/api/v1/settings/silent-partners", Some(policy(bad.clone()))).await;
        assert_eq!(s, 422, "{bad}: {problem}");
    }
    let (s, saved) = t
        .admin(
            Method::PUT,
            "/api/v1/settings/silent-partners",
            Some(policy(json!({"strategic": {"inactive_days": 14}}))),
        )
        .await;
    assert_eq!((s, &saved["tiers"]["strategic"]["inactive_days"]), (200, &json!(14)), "{saved}");
    let (s, types) = t.admin(Method::GET, "/api/v1/event-types", None).await;
    assert_eq!(s, 200);
    assert!(types.as_array().unwrap().iter().any(|t| t["name"] == "deal.rejected" && t["built_in"] == true));
    t
}
