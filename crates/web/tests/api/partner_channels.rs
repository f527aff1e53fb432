//! Partners' shared Teams and Slack channels end to end against local stand-ins for a
//! Teams workflow webhook and a Slack incoming webhook: bound through the API, the console
//! and the portal (by the partner's lead only), shown masked, tested, and posted to on
//! release with the message's card; a refused post is recorded on the binding and in the
//! report; a test send never posts to a partner's channel.

use reqwest::Method;
use serde_json::{Value, json};
use tidings_app::workers::deliver::{Cache, WorkerConfig, work_once};
use tidings_core::StaffRole;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::both_engines;
use crate::browse::Browser as PortalBrowser;
use crate::helpers::TestApp;

both_engines!(a_recall_is_posted_to_partners_bound_teams_and_slack_channels, only_a_partners_lead_binds_its_channels);

async fn stand_ins() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).and(path("/teams/acme")).respond_with(ResponseTemplate::new(202)).mount(&server).await;
    Mock::given(method("POST"))
        .and(path("/slack/services/T1/B1/acme"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/teams/gone"))
        .respond_with(ResponseTemplate::new(404).set_body_string("workflow not found"))
        .mount(&server)
        .await;
    server
}

async fn partner(app: &TestApp, name: &str, lead: &str) -> String {
    let (_, p) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": name, "partner_type": "dealer"}))).await;
    let member =
        json!({"partner_id": p["id"], "email": lead, "name": "Lena Lead", "roles": ["support", "partner_lead"]});
    assert_eq!(app.admin(Method::POST, "/api/v1/members", Some(member)).await.0, 201);
    p["id"].as_str().unwrap().to_owned()
}

async fn work(app: &TestApp) {
    let config = WorkerConfig::default();
    let mut cache = Cache::default();
    while work_once(&app.app, &config, &mut cache).await.unwrap() > 0 {}
}

async fn a_recall_is_posted_to_partners_bound_teams_and_slack_channels(app: TestApp) -> TestApp {
    let hooks = stand_ins().await;
    let acme = partner(&app, "Acme", "lena@acme.example").await;
    let beta = partner(&app, "Beta", "lena@beta.example").await;
    let gone = partner(&app, "Gamma", "lena@gamma.example").await;

    // Bound through the API; a URL Tidings may not send to, or another service, is refused.
    let bind = |id: &str, service: &str, url: String| {
        let (app, id, service) = (&app, id.to_owned(), service.to_owned());
        async move {
            let body = json!({"url": url, "label": "#vendor-news"});
            app.admin(Method::PUT, &format!("/api/v1/partners/{id}/channels/{service}"), Some(body)).await
        }
    };
    let (status, teams) = bind(&acme, "teams", format!("{}/teams/acme", hooks.uri())).await;
    assert_eq!(status, 200, "{teams}");
    assert_eq!(teams["url"], format!("http://{}/…acme", hooks.address().ip()), "the secret URL is shown masked");
    assert_eq!(bind(&acme, "slack", format!("{}/slack/services/T1/B1/acme", hooks.uri())).await.0, 200);
    assert_eq!(bind(&gone, "teams", format!("{}/teams/gone", hooks.uri())).await.0, 200);
    let (status, problem) = bind(&beta, "teams", "http://10.0.0.7/hook".into()).await;
    assert_eq!(status, 422);
    assert!(problem.to_string().contains("private"), "{problem}");
    let (status, problem) = bind(&beta, "email", "https://example.com/hook".into()).await;
    assert_eq!(status, 404, "no such service: {problem}");
    assert!(problem.to_string().contains("teams, slack"), "{problem}");
    let (_, listed) = app.admin(Method::GET, &format!("/api/v1/partners/{acme}/channels"), None).await;
    let services: Vec<&str> = listed.as_array().unwrap().iter().map(|b| b["channel"].as_str().unwrap()).collect();
    assert_eq!(services, ["slack", "teams"]);

    // A test post goes at once.
    let (status, tested) = app.admin(Method::POST, &format!("/api/v1/partners/{acme}/channels/teams/test"), None).await;
    assert_eq!((status, &tested["posted"]), (200, &json!(true)), "{tested}");

    // The checks count the partners' channels the message reaches.
    let (_, topic) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    let body = json!({
        "topic_id": topic["id"], "importance": "critical", "channels": ["inbox", "teams", "slack"],
        "time_zone": "Europe/Berlin",
        "content": {"variants": {"en": {"title": "Recall of lot 44", "summary": "Pull lot 44.",
            "what_to_do": "1. Stop selling lot 44.\n2. Return it."}}},
        "audience": {"rule": "member.role = \"support\""},
        "acknowledgment": {"statement": "Pulled.", "due_at": "2030-01-15T09:00"}
    });
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body.clone())).await;
    assert_eq!(status, 201, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let (status, reach) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/reach"), None).await;
    assert_eq!(status, 200, "{reach}");
    assert_eq!((reach["members"].as_i64(), reach["partners"].as_i64()), (Some(3), Some(3)));
    let teams_reach = reach["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "teams").unwrap();
    assert_eq!((teams_reach["reached"].as_i64(), teams_reach["out_of"].as_i64()), (Some(2), Some(3)), "{reach}");
    assert!(teams_reach["why_not"].as_str().unwrap().contains("no Microsoft Teams channel bound"));

    // A test send never posts to a partner's shared channel.
    let tests = json!({"status": "test"});
    let (_, members) = app.admin(Method::GET, "/api/v1/members?q=lena%40acme.example", None).await;
    let lena = members["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.admin(Method::PATCH, &format!("/api/v1/members/{lena}"), Some(tests)).await.0, 200);
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/messages/{id}/test-send"), None).await.0, 200);
    work(&app).await;
    let before = hooks.received_requests().await.unwrap().len();
    assert_eq!(before, 1, "only the test post so far");
    assert_eq!(
        app.admin(Method::PATCH, &format!("/api/v1/members/{lena}"), Some(json!({"status": "active"}))).await.0,
        200
    );

    let (status, released) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200, "{released}");
    work(&app).await;

    let requests = hooks.received_requests().await.unwrap();
    let posted = |p: &str| -> Value {
        let r = requests.iter().rev().find(|r| r.url.path() == p).unwrap();
        serde_json::from_slice(&r.body).unwrap()
    };
    let card = posted("/teams/acme");
    let content = &card["attachments"][0]["content"];
    assert_eq!(card["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
    assert_eq!(content["body"][1]["text"], "Recall of lot 44");
    let open = format!("{}/portal/messages/{id}", app.base);
    assert_eq!(content["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(content["actions"][0]["url"], open.as_str());
    let due = content["body"].as_array().unwrap().last().unwrap()["text"].as_str().unwrap().to_owned();
    assert_eq!(due, "Each person asked must acknowledge by 2030-01-15 09:00 Europe/Berlin.");
    let slack = posted("/slack/services/T1/B1/acme");
    assert!(slack["text"].as_str().unwrap().contains("Recall of lot 44"), "{slack}");
    assert_eq!(slack["blocks"][0]["type"], "header");
    assert!(slack.to_string().contains(&open), "the button opens the message in the portal");

    // The report counts posts by service and status and says why one failed; the binding
    // remembers its failure.
    let (_, report) = app.admin(Method::GET, &format!("/api/v1/messages/{id}/report"), None).await;
    assert_eq!(report["channel_posts"], json!({"slack": {"sent": 1}, "teams": {"failed": 1, "sent": 1}}), "{report}");
    // By channel, a shared channel's people are the members of the partners it was posted to.
    let shared: Vec<(Value, Value, Value, Value)> = report["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["shared"] == true)
        .map(|c| (c["channel"].clone(), c["people"].clone(), c["delivered"].clone(), c["failed"].clone()))
        .collect();
    assert_eq!(shared.len(), 2, "{report}");
    assert!(shared.iter().all(|(_, people, _, _)| people.as_i64().unwrap() > 0), "{report}");
    assert_eq!((shared[1].0.clone(), shared[1].2.clone(), shared[1].3.clone()), (json!("teams"), json!(1), json!(1)));
    let failed = report["posts"].as_array().unwrap().iter().find(|p| p["status"] == "failed").unwrap();
    assert_eq!(failed["partner_name"], "Gamma");
    assert!(failed["error"].as_str().unwrap().contains("HTTP 404"), "{failed}");
    let (_, gamma) = app.admin(Method::GET, &format!("/api/v1/partners/{gone}/channels"), None).await;
    assert!(gamma[0]["last_error"].as_str().unwrap().contains("workflow not found"), "{gamma}");

    // The console shows the partner's channels, and its report the posts.
    let staff = crate::console::staff(&app, StaffRole::Admin).await;
    let mut console = crate::console::signed_in(&app, &staff).await;
    let page = console.get(&format!("/admin/partners/{acme}")).await;
    assert!(page.body.contains("Shared channels") && page.body.contains("/…acme"), "{}", page.body);
    let report = console.get(&format!("/admin/messages/{id}/report")).await;
    assert!(
        report.body.contains("Partners&#x27; shared channels") || report.body.contains("Partners' shared channels")
    );
    assert!(report.body.contains("By channel: who was sent it, read it, acknowledged it"));
    // Removing a binding from the console.
    let removed =
        console.post(&format!("/admin/partners/{acme}/channels/slack/remove"), &[("csrf", &page.csrf())]).await;
    assert_eq!(removed.status, 303);
    let (_, listed) = app.admin(Method::GET, &format!("/api/v1/partners/{acme}/channels"), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    app
}

async fn only_a_partners_lead_binds_its_channels(app: TestApp) -> TestApp {
    let hooks = stand_ins().await;
    let acme = partner(&app, "Acme", "lena@acme.example").await;
    let (_, member) = app
        .admin(
            Method::POST,
            "/api/v1/members",
            Some(json!({"partner_id": acme, "email": "bo@acme.example", "name": "Bo", "roles": ["sales"]})),
        )
        .await;
    assert!(member["id"].is_string());

    let mut lead = PortalBrowser::sign_in(&app, "lena@acme.example").await;
    let team = lead.get("/portal/team").await;
    assert!(team.body.contains("Our shared channels"), "{}", team.body);
    let url = format!("{}/slack/services/T1/B1/acme", hooks.uri());
    let form = [("csrf", team.csrf()), ("url", url.clone()), ("label", "#acme-news".into())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bound = lead.post("/portal/team/channels/slack", &form).await;
    assert_eq!((bound.status, bound.location.as_deref()), (303, Some("/portal/team#channels")));
    let team = lead.get("/portal/team").await;
    assert!(team.body.contains("The channel is connected"), "{}", team.body);
    assert!(team.body.contains("#acme-news"));
    let tested = lead.post("/portal/team/channels/slack/test", &[("csrf", &team.csrf())]).await;
    assert_eq!(tested.status, 303);
    assert!(lead.get("/portal/team").await.body.contains("The test post was sent"));
    // A bad URL is refused with the reason, in the lead's page.
    let team = lead.get("/portal/team").await;
    let csrf = team.csrf();
    let bad = [("csrf", csrf.as_str()), ("url", "https://10.1.2.3/hook"), ("label", "")];
    assert_eq!(lead.post("/portal/team/channels/teams", &bad).await.status, 303);
    assert!(lead.get("/portal/team").await.body.contains("private"));

    let (_, listed) = app.admin(Method::GET, &format!("/api/v1/partners/{acme}/channels"), None).await;
    assert_eq!(listed[0]["bound_by"], "lena@acme.example");

    // Not a lead: no team page and no binding.
    let mut bo = PortalBrowser::sign_in(&app, "bo@acme.example").await;
    let inbox = bo.get("/portal").await;
    let refused = bo.post("/portal/team/channels/teams", &[("csrf", &inbox.csrf()), ("url", &url)]).await;
    assert_eq!(refused.status, 404);
    let (_, listed) = app.admin(Method::GET, &format!("/api/v1/partners/{acme}/channels"), None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing bound by someone else");
    app
}
