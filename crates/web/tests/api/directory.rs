//! Partners, members, topics and partner groups over the API; roles.

use reqwest::Method;
use serde_json::json;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(
    partners_are_created_read_changed_listed_and_deleted,
    members_belong_to_partners_and_have_unique_emails,
    topics_and_partner_groups_have_crud_and_unique_keys,
    topics_carry_a_policy_per_role,
    callers_need_a_token_and_only_admins_write,
    health_and_readiness_answer,
);

async fn partners_are_created_read_changed_listed_and_deleted(app: TestApp) -> TestApp {
    let (status, group) = app
        .admin(Method::POST, "/api/v1/partner-groups", Some(json!({"key": "emea-pilot", "name": "EMEA pilot"})))
        .await;
    assert_eq!(status, 201, "{group}");
    let (status, acme) = app
        .admin(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"external_id": "P-1", "name": "Acme", "partner_type": "Distributor", "tier": "strategic",
                        "region": "emea", "country": "de", "groups": ["emea-pilot"], "attributes": {"certified": true}})),
        )
        .await;
    assert_eq!(status, 201, "{acme}");
    assert_eq!(acme["partner_type"], "distributor");
    assert_eq!(acme["country"], "DE");
    assert_eq!(acme["groups"], json!(["emea-pilot"]));
    let id = acme["id"].as_str().unwrap().to_owned();

    let (status, shown) = app.admin(Method::GET, &format!("/api/v1/partners/{id}"), None).await;
    assert_eq!((status, &shown), (200, &acme));
    let (status, changed) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/partners/{id}"),
            Some(json!({"tier": "growth", "region": "", "attributes": {"certified": null}})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["tier"].as_str(), changed["region"].is_null(), changed["name"].as_str()),
        (Some("growth"), true, Some("Acme"))
    );
    assert_eq!(changed["attributes"], json!({}));

    for i in 2..=4 {
        let body =
            json!({"external_id": format!("P-{i}"), "name": format!("Reseller {i}"), "partner_type": "reseller"});
        assert_eq!(app.admin(Method::POST, "/api/v1/partners", Some(body)).await.0, 201);
    }
    let (_, page) = app.admin(Method::GET, "/api/v1/partners?partner_type=reseller&limit=2", None).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let next = page["next"].as_str().unwrap();
    let (_, rest) =
        app.admin(Method::GET, &format!("/api/v1/partners?partner_type=reseller&limit=2&after={next}"), None).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["next"].is_null());
    let (_, in_group) = app.admin(Method::GET, "/api/v1/partners?group=emea-pilot", None).await;
    assert_eq!(in_group["items"][0]["id"], id.as_str());
    let (_, groups) = app.admin(Method::GET, "/api/v1/partner-groups", None).await;
    assert_eq!(groups["items"][0]["partner_count"], 1);

    let (status, clash) = app
        .admin(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"external_id": "P-1", "name": "Twin", "partner_type": "dealer"})),
        )
        .await;
    assert_eq!((status, clash["code"].as_str()), (409, Some("conflict")));
    assert_eq!(clash["detail"], "external_id already exists");
    let (status, bad) = app
        .admin(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"name": "", "partner_type": "wholesaler", "groups": ["nope"]})),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "partner_type"]);
    let (status, bad) = app
        .admin(
            Method::POST,
            "/api/v1/partners",
            Some(json!({"name": "G", "partner_type": "dealer", "groups": ["nope"]})),
        )
        .await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (422, Some("groups")));

    assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/partners/{id}"), None).await.0, 204);
    assert_eq!(app.admin(Method::GET, &format!("/api/v1/partners/{id}"), None).await.0, 404);
    assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/partners/{id}"), None).await.0, 404);
    app
}

async fn members_belong_to_partners_and_have_unique_emails(app: TestApp) -> TestApp {
    let (_, acme) =
        app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": "Acme", "partner_type": "dealer"}))).await;
    let partner_id = acme["id"].as_str().unwrap().to_owned();
    let ana = json!({"partner_id": partner_id, "email": "Ana@Acme.example", "name": "Ana", "roles": ["sales", "partner_lead"],
                     "locale": "pt_br", "time_zone": "America/Sao_Paulo", "phone": "+55 11 91234 5678"});
    let (status, created) = app.admin(Method::POST, "/api/v1/members", Some(ana.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["email"], "ana@acme.example");
    assert_eq!(created["locale"], "pt-BR");
    assert_eq!(created["roles"], json!(["sales", "partner_lead"]));
    assert_eq!(created["status"], "active");
    let id = created["id"].as_str().unwrap().to_owned();

    let (status, twin) = app.admin(Method::POST, "/api/v1/members", Some(ana)).await;
    assert_eq!((status, twin["detail"].as_str()), (409, Some("email already exists")));
    let (status, bad) = app
        .admin(
            Method::POST,
            "/api/v1/members",
            Some(json!({"partner_id": partner_id, "email": "x", "time_zone": "CET", "roles": ["boss"]})),
        )
        .await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = bad["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["email", "roles", "time_zone"]);
    let (status, bad) = app
        .admin(
            Method::POST,
            "/api/v1/members",
            Some(json!({"partner_id": "01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b", "email": "z@z.example"})),
        )
        .await;
    assert_eq!((status, bad["errors"][0]["field"].as_str()), (422, Some("partner_id")));

    let (status, changed) =
        app.admin(Method::PATCH, &format!("/api/v1/members/{id}"), Some(json!({"status": "test", "phone": ""}))).await;
    assert_eq!((status, changed["status"].as_str(), changed["phone"].is_null()), (200, Some("test"), true));
    let (_, listed) = app
        .admin(Method::GET, &format!("/api/v1/members?partner_id={partner_id}&role=partner_lead&status=test"), None)
        .await;
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let (status, _) = app.admin(Method::GET, "/api/v1/members?role=boss", None).await;
    assert_eq!(status, 422);

    let (status, refused) = app.admin(Method::DELETE, &format!("/api/v1/partners/{partner_id}"), None).await;
    assert_eq!(status, 409);
    assert!(refused["detail"].as_str().unwrap().contains("1 member"));
    assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/members/{id}"), None).await.0, 204);
    assert_eq!(app.admin(Method::DELETE, &format!("/api/v1/partners/{partner_id}"), None).await.0, 204);
    app
}

async fn topics_and_partner_groups_have_crud_and_unique_keys(app: TestApp) -> TestApp {
    for collection in ["topics", "partner-groups"] {
        let path = format!("/api/v1/{collection}");
        let (status, made) = app.admin(Method::POST, &path, Some(json!({"key": "support", "name": "Support"}))).await;
        assert_eq!(status, 201, "{made}");
        let id = made["id"].as_str().unwrap().to_owned();
        let (status, _) = app.admin(Method::POST, &path, Some(json!({"key": "support", "name": "Again"}))).await;
        assert_eq!(status, 409);
        let (status, bad) = app.admin(Method::POST, &path, Some(json!({"key": "Not A Key", "name": ""}))).await;
        assert_eq!((status, bad["errors"].as_array().unwrap().len()), (422, 2));
        let (status, changed) =
            app.admin(Method::PATCH, &format!("{path}/{id}"), Some(json!({"description": "Help desk news"}))).await;
        assert_eq!(
            (status, changed["description"].as_str(), changed["key"].as_str()),
            (200, Some("Help desk news"), Some("support"))
        );
        let (_, listed) = app.admin(Method::GET, &path, None).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
        assert_eq!(app.admin(Method::DELETE, &format!("{path}/{id}"), None).await.0, 204);
        assert_eq!(app.admin(Method::GET, &format!("{path}/{id}"), None).await.0, 404);
    }
    app
}

async fn callers_need_a_token_and_only_admins_write(app: TestApp) -> TestApp {
    let (status, body) = read(app.call(Method::GET, "/api/v1/partners", None, None).await).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = read(app.call(Method::GET, "/api/v1/partners", Some("tid_0000"), None).await).await;
    assert_eq!(status, 401);
    let analyst = app.analyst.clone();
    let (status, _) = read(app.call(Method::GET, "/api/v1/partners", Some(&analyst), None).await).await;
    assert_eq!(status, 200);
    let writes = [
        (Method::POST, "/api/v1/partners"),
        (Method::POST, "/api/v1/members"),
        (Method::POST, "/api/v1/topics"),
        (Method::POST, "/api/v1/partner-groups"),
        (Method::PATCH, "/api/v1/topics/01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b"),
        (Method::DELETE, "/api/v1/partners/01968a2e-6c8b-7b0e-9f00-3c1d2e4f5a6b"),
    ];
    for (method, path) in writes {
        let (status, body) = read(app.call(method.clone(), path, Some(&analyst), Some(json!({}))).await).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{method} {path}");
    }
    let response = app
        .client
        .post(format!("{}/api/v1/imports/members", app.base))
        .bearer_auth(&analyst)
        .body("email\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app
}

async fn health_and_readiness_answer(app: TestApp) -> TestApp {
    let (status, index) = read(app.call(Method::GET, "/", None, None).await).await;
    assert_eq!((status, index["openapi"].as_str()), (200, Some("/api/v1/openapi.json")));
    assert_eq!(read(app.call(Method::GET, "/healthz", None, None).await).await.0, 200);
    assert_eq!(read(app.call(Method::GET, "/readyz", None, None).await).await.0, 200);
    app
}

async fn topics_carry_a_policy_per_role(app: TestApp) -> TestApp {
    let body = json!({"key": "support", "name": "Support",
                      "policies": {"default": "optional_off", "by_role": {"support": "required", "technical": "optional_on"}}});
    let (status, topic) = app.admin(Method::POST, "/api/v1/topics", Some(body)).await;
    assert_eq!(status, 201, "{topic}");
    assert_eq!(topic["policies"]["by_role"]["support"], "required");
    let id = topic["id"].as_str().unwrap().to_owned();
    let (_, plain) = app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "news", "name": "News"}))).await;
    assert_eq!(plain["policies"], json!({"default": "optional_on", "by_role": {}}));
    let (status, changed) = app
        .admin(Method::PATCH, &format!("/api/v1/topics/{id}"), Some(json!({"policies": {"default": "required"}})))
        .await;
    assert_eq!((status, changed["policies"]["default"].as_str()), (200, Some("required")));
    assert_eq!(changed["policies"]["by_role"], json!({}));
    let (status, _) = app
        .admin(Method::PATCH, &format!("/api/v1/topics/{id}"), Some(json!({"policies": {"default": "mandatory"}})))
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/api/v1/topics/{id}"),
            Some(json!({"policies": {"default": "required", "by_role": {"ceo": "required"}}})),
        )
        .await;
    assert_eq!(status, 422);
    app
}
