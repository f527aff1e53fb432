//! Noise control over HTTP and in the pages: the vendor's policy (`/settings/noise` and
//! the console's settings), a partner's defaults (`/partners/{id}/defaults`, the console's
//! partner page and the lead's team page in the portal), and a member's digest choice,
//! each with its role checked and bad input refused by field.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::browse::Browser;
use crate::console::{signed_in, staff};
use crate::helpers::TestApp;

both_engines!(caps_digests_and_a_partners_defaults_are_set_by_api_console_and_portal);

async fn caps_digests_and_a_partners_defaults_are_set_by_api_console_and_portal(t: TestApp) -> TestApp {
    let events = json!({"key": "events", "name": "Events", "policies": {"default": "optional_off"}});
    let (s, topic) = t.admin(Method::POST, "/api/v1/topics", Some(events)).await;
    assert_eq!(s, 201, "{topic}");
    let (s, partner) =
        t.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "reseller"}))).await;
    assert_eq!(s, 201, "{partner}");
    let id = partner["id"].as_str().unwrap().to_owned();
    let mut people = Vec::new();
    for (email, role) in [("ana@acme.example", "sales"), ("lee@acme.example", "partner_lead")] {
        let body = json!({"partner_id": id, "email": email, "name": email, "roles": [role]});
        let (s, m) = t.admin(Method::POST, "/api/v1/members", Some(body)).await;
        assert_eq!(s, 201, "{m}");
        people.push(m["id"].as_str().unwrap().to_owned());
    }

    // The vendor's policy: admins only, checked by field.
    let (s, policy) = t.admin(Method::GET, "/api/v1/settings/noise", None).await;
    assert_eq!((s, &policy["digest"], &policy["window_days"]), (200, &json!("off"), &json!(7)));
    let analyst = t.analyst.clone();
    let refused = t.call(Method::PUT, "/api/v1/settings/noise", Some(&analyst), Some(json!({"info_cap": 1}))).await;
    assert_eq!(refused.status().as_u16(), 403);
    let (s, bad) = t.admin(Method::PUT, "/api/v1/settings/noise", Some(json!({"window_days": 0}))).await;
    assert_eq!(s, 422, "{bad}");
    assert!(bad.to_string().contains("window_days"), "{bad}");
    let wanted = json!({"info_cap": 2, "window_days": 7, "digest_by_role": {"marketing": "weekly"}});
    let (s, saved) = t.admin(Method::PUT, "/api/v1/settings/noise", Some(wanted)).await;
    assert_eq!((s, &saved["info_cap"]), (200, &json!(2)), "{saved}");

    // The partner's layer, and a member's own choice above it.
    let path = format!("/api/v1/partners/{id}/defaults");
    let (s, bad) = t.admin(Method::PUT, &path, Some(json!({"topics": {"nope": true}}))).await;
    assert_eq!(s, 422, "{bad}");
    let (s, view) = t.admin(Method::PUT, &path, Some(json!({"topics": {"events": true}, "digest": "daily"}))).await;
    assert_eq!((s, &view["defaults"]["digest"]), (200, &json!("daily")), "{view}");
    let prefs = format!("/api/v1/members/{}/preferences", people[0]);
    let (s, shown) = t.admin(Method::GET, &prefs, None).await;
    assert_eq!(s, 200);
    assert!(shown["digest"]["reason"].as_str().unwrap().starts_with("their partner's admin set a daily digest"));
    let events_row = shown["topics"].as_array().unwrap().iter().find(|t| t["key"] == "events").unwrap().clone();
    assert_eq!(events_row["on"], json!(true), "{events_row}");
    let (s, bad) = t.admin(Method::PATCH, &prefs, Some(json!({"digest": "hourly"}))).await;
    assert_eq!(s, 422, "{bad}");
    let (s, shown) = t.admin(Method::PATCH, &prefs, Some(json!({"digest": "weekly"}))).await;
    assert_eq!((s, &shown["digest"]["frequency"]), (200, &json!("weekly")), "{shown}");

    // The console: the settings form and the partner page's form.
    let admin = staff(&t, tidings_core::StaffRole::Admin).await;
    let mut console = signed_in(&t, &admin).await;
    let page = console.get("/admin/settings").await;
    assert!(page.body.contains("Noise control") && page.body.contains("name=\"info_cap\""), "{}", page.body);
    let csrf = page.csrf();
    let form =
        [("csrf", csrf.as_str()), ("info_cap", "4"), ("action_cap", ""), ("window_days", "14"), ("digest", "daily")];
    let saved = console.post("/admin/settings/noise", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, policy) = t.admin(Method::GET, "/api/v1/settings/noise", None).await;
    assert_eq!(
        (&policy["info_cap"], &policy["action_cap"], &policy["digest"]),
        (&json!(4), &json!(null), &json!("daily"))
    );
    let bad = [("csrf", csrf.as_str()), ("window_days", "many")];
    assert_eq!(console.post("/admin/settings/noise", &bad).await.status, 400);
    let page = console.get(&format!("/admin/partners/{id}")).await;
    assert!(page.body.contains("Defaults for their people"), "{}", page.body);
    let form = [("csrf", csrf.as_str()), ("digest", ""), ("topic:events", "off")];
    assert_eq!(console.post(&format!("/admin/partners/{id}/defaults"), &form).await.status, 303);
    let (_, view) = t.admin(Method::GET, &path, None).await;
    assert_eq!((&view["defaults"]["digest"], &view["defaults"]["topics"]["events"]), (&json!(null), &json!(false)));

    // The portal: Acme's lead sets them on the team page; a colleague who is no lead cannot.
    let mut lead = Browser::sign_in(&t, "lee@acme.example").await;
    let team = lead.get("/portal/team").await;
    assert!(team.body.contains("Defaults for your colleagues"), "{}", team.body);
    let csrf = team.csrf();
    let form = [("csrf", csrf.as_str()), ("digest", "weekly"), ("topic:events", "on")];
    let saved = lead.post("/portal/team/defaults", &form).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let (_, view) = t.admin(Method::GET, &path, None).await;
    assert_eq!((&view["defaults"]["digest"], &view["defaults"]["topics"]["events"]), (&json!("weekly"), &json!(true)));
    let mut ana = Browser::sign_in(&t, "ana@acme.example").await;
    let csrf = ana.get("/portal/preferences").await.csrf();
    let refused = ana.post("/portal/team/defaults", &[("csrf", csrf.as_str()), ("digest", "off")]).await;
    assert_eq!(refused.status, 404, "{}", refused.body);
    let prefs_page = ana.get("/portal/preferences").await;
    assert!(
        prefs_page.body.contains("name=\"digest\"") && prefs_page.body.contains("One weekly digest"),
        "{}",
        prefs_page.body
    );
    t
}
