//! CSV imports over HTTP.

use std::fmt::Write;

use reqwest::Method;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(
    a_members_file_streams_in_and_a_rerun_changes_nothing,
    a_strict_import_with_a_bad_row_answers_422_and_writes_nothing
);

async fn a_members_file_streams_in_and_a_rerun_changes_nothing(app: TestApp) -> TestApp {
    let (status, report) =
        app.post_csv("/api/v1/imports/partners", "external_id,name,type\nP-1,Acme,dealer\nP-2,Bolt,reseller\n").await;
    assert_eq!((status, report["created"].as_u64()), (200, Some(2)), "{report}");
    let mut csv = String::from("External_ID,Email,Partner,Roles,Trained\r\n");
    for i in 0..1_200 {
        write!(csv, "U-{i},m{i}@acme.example,P-{},support;sales,{}\r\n", 1 + i % 2, i % 2 == 0).unwrap();
    }
    csv.push_str("U-bad,not-an-email,P-1,sales,yes\r\n");
    let (status, report) = app.post_csv("/api/v1/imports/members", &csv).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["created"].as_u64(), report["failed"].as_u64()), (Some(1_200), Some(1)));
    assert_eq!(report["errors"][0]["line"], 1_202);
    assert_eq!(report["errors"][0]["column"], "Email");
    let (_, report) = app.post_csv("/api/v1/imports/members", &csv).await;
    assert_eq!((report["created"].as_u64(), report["unchanged"].as_u64()), (Some(0), Some(1_200)));
    let (_, page) = app.admin(Method::GET, "/api/v1/members?q=m7@acme.example", None).await;
    assert_eq!(page["items"][0]["attributes"]["trained"], "false");
    app
}

async fn a_strict_import_with_a_bad_row_answers_422_and_writes_nothing(app: TestApp) -> TestApp {
    let csv = "external_id,name,type\nP-1,Acme,dealer\nP-2,Bolt,wholesaler\n";
    let (status, problem) = app.post_csv("/api/v1/imports/partners?strict=true", csv).await;
    assert_eq!((status, problem["code"].as_str()), (422, Some("import_rolled_back")), "{problem}");
    assert_eq!(problem["report"]["errors"][0]["column"], "type");
    let (_, page) = app.admin(Method::GET, "/api/v1/partners", None).await;
    assert!(page["items"].as_array().unwrap().is_empty());
    let (status, problem) = app.post_csv("/api/v1/imports/members", "name\nAna\n").await;
    assert_eq!((status, problem["errors"][0]["field"].as_str()), (422, Some("header")));
    app
}
