//! The README's HTTP examples work as written: every ```http block (a method and path
//! line, then an optional JSON body) is sent to a server with the demo data and an admin
//! token, and must succeed. `{member_email}` stands for a demo member's address.

use reqwest::Method;

use crate::both_engines;
use crate::helpers::{TestApp, read};

both_engines!(the_readmes_http_examples_work_as_written);

const README: &str = include_str!("../../../../README.md");

/// Each ```http block as (method, path, body).
fn examples() -> Vec<(String, String, Option<String>)> {
    README
        .split("```http\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .map(|block| {
            let (request, body) = block.split_once('\n').unwrap_or((block, ""));
            let (method, path) = request.split_once(' ').unwrap_or((request, ""));
            let body = Some(body.trim().to_owned()).filter(|b| !b.is_empty());
            (method.to_owned(), path.trim().to_owned(), body)
        })
        .collect()
}

async fn the_readmes_http_examples_work_as_written(app: TestApp) -> TestApp {
    tidings_app::demo::seed(&app.app).await.unwrap();
    let (_, members) = app.admin(Method::GET, "/api/v1/members?role=support&status=active&limit=1", None).await;
    let email = members["items"][0]["email"].as_str().unwrap().to_owned();
    let examples = examples();
    assert!(examples.len() >= 3, "{examples:?}");
    for (method, path, body) in examples {
        let body = body.map(|b| b.replace("{member_email}", &email));
        let json: Option<serde_json::Value> =
            body.as_deref().map(|b| serde_json::from_str(b).unwrap_or_else(|e| panic!("{method} {path}: {e}: {b}")));
        let method: Method = method.parse().unwrap();
        let path = path.strip_prefix("/api/v1").map(|p| format!("/api/v1{p}")).unwrap_or(path);
        let admin = app.admin.clone();
        let (status, answer) = read(app.call(method.clone(), &path, Some(&admin), json).await).await;
        assert!((200..300).contains(&status), "{method} {path} answered {status}: {answer}");
    }
    app
}
