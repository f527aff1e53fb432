//! The `tidings` binary as a user runs it: serve with demo data, migrate, import, export,
//! tokens and configuration, on SQLite and (where it matters) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tidings_store::testing::{Engine, TestDb};

fn tidings(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command.arg("--database-url").arg(url).env_remove("RUST_LOG");
    command
}

fn output(command: &mut Command) -> (bool, String, String) {
    let out = command.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn serve_demo_prints_a_url_and_token_that_answer_with_json_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(dir.path())
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut token = None;
    let mut warned = false;
    let mut banner = Vec::new();
    while !banner.last().is_some_and(|l: &String| l.contains("another link: tidings sign-in-link")) {
        let line = lines.next().expect("the banner ends early").unwrap();
        banner.push(line.clone());
        if let Some(rest) = line.strip_prefix("Tidings is running at ") {
            url = Some(rest.to_owned());
        }
        if let Some(rest) = line.strip_prefix("API token: ") {
            token = Some(rest.to_owned());
        }
        warned |= line.starts_with("Warning: public_url is not set");
    }
    assert!(warned, "serving on another port without public_url says where links will point");
    let banner = banner.join("\n");
    for expected in
        ["Demo messages: a must-know recall", "Mail catcher: ", "/admin/mail", "/admin/chats", "Partner portal as "]
    {
        assert!(banner.contains(expected), "the banner lacks {expected}: {banner}");
    }
    let (url, token) = (url.unwrap(), token.unwrap());
    assert!(dir.path().join("tidings.db").exists(), "the default database is a SQLite file in the working directory");
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::new();
    let response = client.get(format!("{url}/api/v1/partners?limit=500")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 40);
    let members: serde_json::Value = client
        .get(format!("{url}/api/v1/members?limit=500"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 400);
    let topics: serde_json::Value =
        client.get(format!("{url}/api/v1/topics")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let names: Vec<&str> = topics["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Announcements", "Incentives", "Product Updates", "Operations", "Support"]);

    // The recall is out, and its emails reach the mail catcher, its texts the stand-in SMS
    // provider (which reports them delivered), its Slack messages the stand-in Slack and
    // its cards the partners' bound Teams channels: the report's counts move.
    let messages: serde_json::Value =
        client.get(format!("{url}/api/v1/messages")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let recall = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["content"]["variants"]["en"]["title"] == "Recall: X-200 power units, lot 44")
        .unwrap_or_else(|| panic!("no demo recall in {messages}"));
    let report_url = format!("{url}/api/v1/messages/{}/report", recall["id"].as_str().unwrap());
    let started = Instant::now();
    loop {
        let report: serde_json::Value =
            client.get(&report_url).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let count = |channel: &str, status: &str| report["channels"][channel][status].as_i64().unwrap_or(0);
        if report["funnel"]["delivered"].as_i64().unwrap_or(0) > 0
            && count("sms", "delivered") > 0
            && count("slack", "sent") > 0
            && count("web_push", "sent") > 0
            && report["channel_posts"]["teams"]["sent"].as_i64().unwrap_or(0) == 3
            && report["channel_posts"]["slack"]["sent"].as_i64().unwrap_or(0) == 3
        {
            assert!(report["funnel"]["acknowledged"].as_i64().unwrap() > 0, "{report}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "not delivered on email, SMS, Slack, Teams and web push: {report}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The demo's webhook endpoint got the release and the acknowledgments, signed and sent.
    let endpoints: serde_json::Value =
        client.get(format!("{url}/api/v1/webhooks")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let endpoint = endpoints[0]["id"].as_str().unwrap_or_else(|| panic!("no demo webhook endpoint: {endpoints}"));
    let started = Instant::now();
    loop {
        let log: serde_json::Value = client
            .get(format!("{url}/api/v1/webhooks/{endpoint}/deliveries"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let sent =
            |kind: &str| log.as_array().unwrap().iter().any(|d| d["event_type"] == kind && d["status"] == "sent");
        if sent("message.released") && sent("acknowledgment.recorded") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the demo's webhooks were not sent: {log}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A link printed by another process points where the server runs, not at the default port.
    let link = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .current_dir(dir.path())
        .args(["sign-in-link", members["items"][0]["email"].as_str().unwrap()])
        .output()
        .unwrap();
    let link = String::from_utf8_lossy(&link.stdout).trim().to_owned();
    assert!(link.starts_with(&format!("{url}/portal/sign-in/")), "{link} is not under {url}");

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "serve did not stop on SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test]
async fn import_export_and_tokens_work_from_the_command_line_on_both_engines() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(db) = TestDb::new(engine).await else {
            continue;
        };
        let dir = tempfile::tempdir().unwrap();
        let partners = dir.path().join("partners.csv");
        let members = dir.path().join("members.csv");
        std::fs::write(&partners, "external_id,name,type,tier\nP-1,Acme,dealer,growth\n").unwrap();
        std::fs::write(&members, "email,partner,roles\nana@acme.example,P-1,sales\nbad,P-1,sales\n").unwrap();

        let (ok, out, _) = output(tidings(&db.url).arg("migrate"));
        assert!(ok && out.contains("migrations applied"), "{engine:?}");
        let (ok, out, _) = output(tidings(&db.url).args(["import", "partners"]).arg(&partners));
        assert!(ok, "{engine:?}: {out}");
        assert_eq!(out.trim(), "created 1, updated 0, unchanged 0, failed 0");
        let (ok, out, err) = output(tidings(&db.url).args(["import", "members"]).arg(&members));
        assert!(!ok, "a file with a bad row exits non-zero");
        assert_eq!(out.trim(), "created 1, updated 0, unchanged 0, failed 1");
        assert!(err.contains("line 3, column email: 'bad' is not a valid email address"), "{err}");
        let (_, out, _) = output(tidings(&db.url).args(["import", "members", "--strict"]).arg(&members));
        assert_eq!(out.trim(), "created 0, updated 0, unchanged 1, failed 1 (strict: nothing was written)");

        let (ok, csv, _) = output(tidings(&db.url).args(["export", "members"]));
        assert!(ok);
        assert!(csv.starts_with("external_id,partner_external_id,email,"), "{csv}");
        assert!(csv.contains(",P-1,ana@acme.example,"), "{csv}");
        let exported = dir.path().join("export.csv");
        let (ok, _, _) = output(tidings(&db.url).args(["export", "partners", "--output"]).arg(&exported));
        assert!(ok);
        let (_, out, _) = output(tidings(&db.url).args(["import", "partners"]).arg(&exported));
        assert_eq!(out.trim(), "created 0, updated 0, unchanged 1, failed 0");

        let (ok, token, _) =
            output(tidings(&db.url).args(["token", "create", "--role", "analyst", "--name", "reports"]));
        assert!(ok && token.trim().starts_with("tid_"), "{token}");
        let (ok, _, err) = output(tidings(&db.url).args(["token", "create", "--role", "overlord"]));
        assert!(!ok && err.contains("not a staff role"), "{err}");
        let (ok, _, err) = output(tidings(&db.url).args(["import", "members", "/no/such/file.csv"]));
        assert!(!ok && err.contains("cannot open /no/such/file.csv"), "{err}");
        db.cleanup().await;
    }
}

#[test]
fn configuration_comes_from_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tidings.toml");
    std::fs::write(&file, "database_url = \"sqlite:from-file.db\"\n").unwrap();
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
        command.current_dir(dir.path()).arg("--config").arg(&file);
        if let Some(flag) = flag {
            command.arg("--database-url").arg(flag);
        }
        match env {
            Some(v) => command.env("TIDINGS_DATABASE_URL", v),
            None => command.env_remove("TIDINGS_DATABASE_URL"),
        };
        let (ok, _, err) = output(command.arg("migrate"));
        assert!(ok, "{err}");
    };
    run(None, None);
    assert!(dir.path().join("from-file.db").exists());
    run(Some("sqlite:from-env.db"), None);
    assert!(dir.path().join("from-env.db").exists());
    run(Some("sqlite:from-env2.db"), Some("sqlite:from-flag.db"));
    assert!(dir.path().join("from-flag.db").exists() && !dir.path().join("from-env2.db").exists());

    let partners = dir.path().join("partners.csv");
    std::fs::write(&partners, "external_id,name,type,region\nP-1,Acme,dealer,north\n").unwrap();
    let (ok, out, err) = output(
        Command::new(env!("CARGO_BIN_EXE_tidings"))
            .current_dir(dir.path())
            .env("TIDINGS_CATALOG__REGIONS", "north,south")
            .args(["--database-url", "sqlite:catalog.db", "import", "partners"])
            .arg(&partners),
    );
    assert!(ok, "a region list from the environment is used: {out} {err}");
    let (ok, _, err) = output(
        Command::new(env!("CARGO_BIN_EXE_tidings"))
            .current_dir(dir.path())
            .args(["--database-url", "sqlite:catalog2.db", "import", "partners"])
            .arg(&partners),
    );
    assert!(!ok && err.contains("'north' is not a known region"), "{err}");

    let (ok, example, _) = output(Command::new(env!("CARGO_BIN_EXE_tidings")).arg("print-config"));
    assert!(ok && example.contains("listen = \"127.0.0.1:8080\""), "{example}");
    std::fs::write(&file, "databse_url = \"x\"\n").unwrap();
    let (ok, _, err) = output(Command::new(env!("CARGO_BIN_EXE_tidings")).arg("--config").arg(&file).arg("migrate"));
    assert!(!ok && err.contains("databse_url"), "{err}");
}

#[tokio::test]
async fn topics_segments_and_audiences_work_from_the_command_line() {
    let db = TestDb::sqlite().await;
    tidings_app::demo::seed(&tidings_app::App::new(db.db.clone(), Default::default())).await.unwrap();
    let (ok, _, err) = output(tidings(&db.url).args([
        "topic",
        "set-policy",
        "incentives",
        "--default",
        "optional_off",
        "--role",
        "sales=required",
    ]));
    assert!(ok, "{err}");
    let (_, topics, _) = output(tidings(&db.url).args(["topic", "list"]));
    assert!(topics.contains("incentives  Incentives  default optional_off  sales=required"), "{topics}");

    let rule = r#"partner.type = "distributor" and member.role = "support""#;
    let (ok, id, err) =
        output(tidings(&db.url).args(["segment", "create", "--name", "Distributor support", "--rule", rule]));
    assert!(ok, "{err}");
    let (ok, preview, _) = output(tidings(&db.url).args(["audience", "preview", "--segment", id.trim()]));
    assert!(ok && preview.contains("member(s)") && preview.contains("by tier:"), "{preview}");
    let (_, count, _) = output(tidings(&db.url).args(["audience", "count", "--rule", rule]));
    let (_, ids, _) = output(tidings(&db.url).args(["audience", "members", "--rule", rule]));
    assert_eq!(count.trim().parse::<usize>().unwrap(), ids.lines().count());
    let first = ids.lines().next().unwrap();
    let (ok, why, _) =
        output(tidings(&db.url).args(["audience", "explain", "--member", first, "--rule", rule, "--topic", "support"]));
    assert!(ok && why.contains(": in: selected by the rule") && why.contains("email    closed"), "{why}");
    let (ok, _, err) = output(tidings(&db.url).args(["audience", "preview", "--rule", "partner.tier > 3"]));
    assert!(!ok && err.contains("rule: at character 14: partner.tier is text"), "{err}");
}

#[tokio::test]
async fn messages_are_composed_released_and_followed_from_the_command_line() {
    let db = TestDb::sqlite().await;
    let app = tidings_app::App::new(db.db.clone(), Default::default());
    tidings_app::demo::seed(&app).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recall.json");
    let rule = r#"member.role = "support""#;
    let draft = serde_json::json!({
        "importance": "critical",
        "content": {"variants": {"en": {
            "title": "Recall of X-200 power units",
            "what_changed": "Lot 44 can overheat.",
            "what_to_do": "Hello {{ member.first_name }}: pull lot 44 from stock.",
        }}},
        "audience": {"rule": rule},
        "acknowledgment": {"statement": "I have pulled lot 44 from stock."},
    });
    std::fs::write(&file, draft.to_string()).unwrap();
    let file = file.to_str().unwrap();

    let (ok, status, err) = output(tidings(&db.url).args(["channel", "status"]));
    assert!(ok, "{err}");
    assert!(status.contains("inbox\tthe portal") && status.contains("web push public key\t"), "{status}");
    let (ok, defaults, err) = output(tidings(&db.url).args(["channel", "defaults", "--set", "action=inbox,email,sms"]));
    assert!(ok, "{err}");
    assert!(defaults.contains("action\tinbox,email,sms\n") && defaults.contains("info\tinbox\n"), "{defaults}");
    let (ok, _, err) = output(tidings(&db.url).args(["channel", "defaults", "--set", "urgent=inbox"]));
    assert!(!ok && err.contains("urgent"), "{err}");

    let (ok, queue, err) = output(tidings(&db.url).args(["message", "overdue"]));
    assert!(ok && queue.is_empty(), "nothing released yet: {queue}{err}");

    let (ok, _, err) = output(tidings(&db.url).args(["message", "create", "--file", file, "--topic", "nope"]));
    assert!(!ok && err.contains("topic not found"), "{err}");
    let (ok, id, err) = output(tidings(&db.url).args(["message", "create", "--file", file, "--topic", "support"]));
    assert!(ok, "{err}");
    let id = id.trim();
    let (_, list, _) = output(tidings(&db.url).args(["message", "list", "--state", "draft"]));
    assert!(list.contains(&format!("{id}  draft      critical  Recall of X-200 power units")), "{list}");

    let (_, members, _) = output(tidings(&db.url).args(["audience", "members", "--rule", rule]));
    let first = members.lines().next().unwrap();
    let (ok, preview, err) = output(tidings(&db.url).args(["message", "preview", id, "--member", first]));
    assert!(ok, "{err}");
    let preview: serde_json::Value = serde_json::from_str(&preview).unwrap();
    assert!(preview["rendered"]["what_to_do"].as_str().unwrap().starts_with("<p>Hello "), "{preview}");

    let (ok, released, err) = output(tidings(&db.url).args(["message", "release", id]));
    assert!(ok, "{err}");
    assert!(released.starts_with("released to "), "{released}");
    let (ok, _, err) = output(tidings(&db.url).args(["message", "release", id]));
    assert!(!ok && err.contains("cannot be released"), "{err}");
    let (ok, report, _) = output(tidings(&db.url).args(["message", "report", id]));
    assert!(ok);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let recipients = report["funnel"]["audience"].as_u64().unwrap();
    assert!(recipients > 0 && recipients <= members.lines().count() as u64, "{report}");
    let (_, queued, _) = output(tidings(&db.url).args(["message", "events", id, "--kind", "queued"]));
    let inbox_events = queued.lines().filter(|l| l.contains(r#""channel":"inbox""#)).count();
    assert_eq!(inbox_events as u64, recipients);
    let by_partner: u64 =
        report["by_partner"].as_array().unwrap().iter().map(|r| r["steps"]["recipients"].as_u64().unwrap()).sum();
    assert_eq!(by_partner, recipients, "every copy is counted under its partner: {report}");
    let (ok, done, err) = output(tidings(&db.url).args(["message", "recount", id]));
    assert!(ok && done.trim() == "recounted", "{err}");
    let (_, again, _) = output(tidings(&db.url).args(["message", "report", id]));
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again["funnel"], report["funnel"], "a recount finds the counts kept");

    // Compliance, as the console shows it: the same recipients, partner by partner.
    let (ok, compliance, err) = output(tidings(&db.url).args(["message", "compliance", id]));
    assert!(ok, "{err}");
    let compliance: serde_json::Value = serde_json::from_str(&compliance).unwrap();
    assert_eq!(compliance["summary"]["tally"]["recipients"].as_u64(), Some(recipients), "{compliance}");
    let partner = compliance["partners"][0]["partner_id"].as_str().unwrap();
    let (ok, one, err) = output(tidings(&db.url).args(["message", "compliance", id, "--partner", partner]));
    assert!(ok && one.contains("\"members\""), "{err}");
    let (ok, csv, err) = output(tidings(&db.url).args(["message", "compliance", id, "--csv"]));
    assert!(ok, "{err}");
    assert_eq!(csv.lines().count() as u64, recipients + 1, "a header and a row per copy");

    let (ok, token, err) = output(tidings(&db.url).args(["member-token", first, "--days", "2"]));
    assert!(ok, "{err}");
    let app = app.with_stored_signing_key().await.unwrap();
    let member = tidings_app::inbox::authenticate(&app, token.trim()).await.unwrap();
    assert_eq!(member.id.to_string(), first);
    let (ok, _, err) = output(tidings(&db.url).args(["member-token", first, "--days", "90"]));
    assert!(!ok && err.contains("days: must be between 1 and 30"), "{err}");

    // A portal sign-in link without email: it signs the member in, once.
    let (ok, link, err) = output(tidings(&db.url).args(["sign-in-link", first]));
    assert!(ok, "{err}");
    let token = link.trim().rsplit('/').next().unwrap();
    assert!(link.contains("/portal/sign-in/sl_"), "{link}");
    assert_eq!(tidings_app::sign_in::redeem(&app, token).await.unwrap().to_string(), first);
    assert!(tidings_app::sign_in::redeem(&app, token).await.is_err(), "single use");
    let (ok, _, err) = output(tidings(&db.url).args(["sign-in-link", "nobody@nowhere.example"]));
    assert!(!ok && err.contains("not found"), "{err}");

    // The widget: the secret a vendor signs with, and a token signed with it.
    let (ok, secret, err) = output(tidings(&db.url).args(["widget-secret"]));
    assert!(ok && secret.starts_with("tws_"), "{err}");
    let (ok, again, _) = output(tidings(&db.url).args(["widget-secret"]));
    assert!(ok && again == secret, "the same secret until rotated");
    let (ok, token, err) = output(tidings(&db.url).args(["widget-token", first, "--minutes", "5"]));
    assert!(ok, "{err}");
    let member = tidings_app::widget::authenticate(&app, token.trim()).await.unwrap();
    assert_eq!(member.id.to_string(), first);
    let (ok, rotated, _) = output(tidings(&db.url).args(["widget-secret", "--rotate"]));
    assert!(ok && rotated != secret);
    assert!(tidings_app::widget::authenticate(&app, token.trim()).await.is_err(), "rotation ends old tokens");
}

#[tokio::test]
async fn staff_are_added_given_a_password_and_sign_in_with_it() {
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(db) = TestDb::new(engine).await else {
            continue;
        };
        let (ok, _, err) = output(tidings(&db.url).args([
            "staff",
            "add",
            "--email",
            "Cora@Vendor.example",
            "--name",
            "Cora",
            "--role",
            "approver",
        ]));
        assert!(ok, "{err}");
        let (ok, _, err) = output(tidings(&db.url).args([
            "staff",
            "add",
            "--email",
            "cora@vendor.example",
            "--name",
            "Twin",
            "--role",
            "admin",
        ]));
        assert!(!ok && err.contains("already a staff member"), "{err}");
        let (ok, list, _) = output(tidings(&db.url).args(["staff", "list"]));
        assert!(ok && list.contains("cora@vendor.example\tapprover\tCora"), "{list}");

        let password = |input: &str| {
            let mut child = tidings(&db.url)
                .args(["staff", "password", "cora@vendor.example"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
            let out = child.wait_with_output().unwrap();
            (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
        };
        let (ok, err) = password("short\n");
        assert!(!ok && err.contains("12 to 200 characters"), "{err}");
        let (ok, err) = password("a long enough secret\n");
        assert!(ok, "{err}");

        let app = tidings_app::App::new(db.db.clone(), Default::default());
        let cora =
            tidings_app::passwords::staff_sign_in(&app, "cora@vendor.example", "a long enough secret").await.unwrap();
        assert_eq!(cora.role, tidings_core::StaffRole::Approver);
        for (email, secret) in
            [("cora@vendor.example", "a wrong secret!!"), ("nobody@vendor.example", "a long enough secret")]
        {
            let refused = tidings_app::passwords::staff_sign_in(&app, email, secret).await.unwrap_err();
            assert_eq!(refused.to_string(), "invalid input: password: the email address or the password is wrong");
        }

        let (ok, log, err) = output(tidings(&db.url).args(["audit", "--action", "staff"]));
        assert!(ok, "{err}");
        let entries: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["staff.password", "staff.create"], "the refused ones are not there");
        assert_eq!(entries[1]["actor"]["kind"], "operator");
        assert_eq!(entries[1]["after"]["role"], "approver");
        assert_eq!(entries[0]["after"], serde_json::Value::Null, "no password in the log");
        db.cleanup().await;
    }
}

/// `tidings fake-providers` answers as a Twilio-compatible API and Slack do, and says on
/// SIGTERM how many messages it was asked to send; it listens on loopback only.
#[tokio::test]
async fn fake_providers_answer_like_the_real_apis_and_count_what_they_got() {
    let refused =
        Command::new(env!("CARGO_BIN_EXE_tidings")).args(["fake-providers", "--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("loopback"));

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["fake-providers", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    out.read_line(&mut banner).unwrap();
    assert!(banner.contains(&format!("http://127.0.0.1:{port}")), "{banner}");
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let text = client
        .post(format!("{base}/2010-04-01/Accounts/AC1/Messages.json"))
        .form(&[("To", "+15551234567"), ("From", "+15005550006"), ("Body", "Hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 201);
    let sid: serde_json::Value = text.json().await.unwrap();
    assert!(sid["sid"].as_str().unwrap().starts_with("SM"));
    let user: serde_json::Value = client
        .post(format!("{base}/users.lookupByEmail"))
        .form(&[("email", "ana@acme.example")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let posted: serde_json::Value = client
        .post(format!("{base}/chat.postMessage"))
        .json(&serde_json::json!({"channel": user["user"]["id"], "text": "Hi"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(posted["ok"], true);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    child.wait().unwrap();
    assert!(rest.contains("2 messages received"), "{rest}");
}

#[tokio::test]
async fn events_are_posted_and_triggers_set_from_the_command_line() {
    let db = TestDb::sqlite().await;
    tidings_app::demo::seed(&tidings_app::App::new(db.db.clone(), Default::default())).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("trigger.json");
    let trigger = serde_json::json!({"key": "deal-approved", "name": "Deal approved", "event_type": "deal.approved",
        "topic": "incentives", "recipients": "partner_leads", "channels": ["inbox"],
        "content": {"variants": {"en": {"title": "{{ event.deal_name }} approved"}}}});
    std::fs::write(&file, trigger.to_string()).unwrap();
    let (ok, out, err) = output(tidings(&db.url).args(["trigger", "put"]).arg(&file));
    assert!(ok && out.contains("created deal-approved: deal.approved\tpartner_leads"), "{out}{err}");
    let (ok, types, _) = output(tidings(&db.url).args(["event", "types"]));
    assert!(ok && types.contains("deal.rejected\tbuilt in\tdeal_id*, reason*"), "{types}");

    let post = |key: &str, data: &str| {
        output(tidings(&db.url).args([
            "event",
            "post",
            "--type",
            "deal.approved",
            "--partner",
            "P-1001",
            "--key",
            key,
            "--data",
            data,
        ]))
    };
    let (ok, _, err) = post("k-1", "{\"deal_name\": \"Hospital\"}");
    assert!(!ok && err.contains("data.deal_id: is required"), "{err}");
    let (ok, _, err) = post("k-1", "{deal_id}");
    assert!(!ok && err.contains("data: is not JSON"), "{err}");
    let (ok, out, err) = post("k-1", r#"{"deal_id": "D-1", "deal_name": "Hospital"}"#);
    assert!(ok && out.contains("taken in") && out.contains("deal-approved: sent message"), "{out}{err}");
    let (ok, out, _) = post("k-1", r#"{"deal_id": "D-1", "deal_name": "Hospital"}"#);
    assert!(ok && out.contains("nothing applied again"), "{out}");
    let (_, list, _) = output(tidings(&db.url).args(["event", "list"]));
    assert_eq!(list.lines().count(), 1, "{list}");
    let (_, triggers, _) = output(tidings(&db.url).args(["trigger", "list"]));
    assert!(triggers.contains("deal-approved\tdeal.approved\tpartner_leads\tsent 1\tlet pass 0"), "{triggers}");

    let sequence = serde_json::json!({"key": "onboarding", "name": "Onboarding", "entry_event": "member.created",
        "goal_event": "deal.registered", "topic": "announcements",
        "steps": [{"name": "Welcome", "content": {"variants": {"en": {"title": "Welcome"}}}}]});
    std::fs::write(&file, sequence.to_string()).unwrap();
    let (ok, out, err) = output(tidings(&db.url).args(["sequence", "put"]).arg(&file));
    assert!(ok && out.contains("created onboarding: 1 steps, enrols on member.created"), "{out}{err}");
    let (_, ids, _) = output(tidings(&db.url).args(["audience", "members", "--rule", "member.role = \"sales\""]));
    let member = ids.lines().next().unwrap().to_owned();
    let (ok, _, err) =
        output(tidings(&db.url).args(["event", "post", "--type", "member.created", "--member", &member]));
    assert!(ok, "{err}");
    let (_, list, _) = output(tidings(&db.url).args(["sequence", "list"]));
    assert!(list.contains("onboarding\tmember.created -> deal.registered\t1 steps\tentered 1\tin it 1"), "{list}");
    let (ok, out, err) = output(tidings(&db.url).args(["sequence", "advance"]));
    assert!(ok && out.contains("1 steps taken"), "{out}{err}");
    let (_, list, _) = output(tidings(&db.url).args(["sequence", "list"]));
    assert!(list.contains("entered 1\tin it 0\tgoal met 0\tran out 1"), "{list}");
    let (ok, out, err) = output(tidings(&db.url).args(["sequence", "enrol"]));
    assert!(ok && out.contains("0 entered by their sequences' rules"), "{out}{err}");

    // The demo directory's every tenth partner has gone quiet.
    let (ok, found, err) = output(tidings(&db.url).args(["task", "find-silent"]));
    assert!(ok && err.contains("4 partner(s) have gone quiet") && found.contains("new task"), "{found}{err}");
    let (_, tasks, _) = output(tidings(&db.url).args(["task", "list"]));
    assert_eq!(tasks.lines().count(), 4, "{tasks}");
    let id = tasks.split('\t').next().unwrap().to_owned();
    let (ok, _, err) = output(tidings(&db.url).args(["task", "done", &id]));
    assert!(ok, "{err}");
    let (_, tasks, _) = output(tidings(&db.url).args(["task", "list", "--state", "done"]));
    assert_eq!(tasks.lines().count(), 1, "{tasks}");

    // Noise control: the vendor's caps and digests, a partner's defaults.
    let set = ["noise", "set", "--info-cap", "3", "--digest-role", "marketing=weekly"];
    let (ok, policy, err) = output(tidings(&db.url).args(set));
    assert!(
        ok && policy.contains("nice to know\tat most 3 per 7 days") && policy.contains("digest marketing\tweekly"),
        "{policy}{err}"
    );
    let (ok, _, err) = output(tidings(&db.url).args(["noise", "set", "--window-days", "90"]));
    assert!(!ok && err.contains("window_days: must be between 1 and 31 days"), "{err}");
    let partner = ["noise", "partner", "P-1001", "--digest", "daily", "--topic", "incentives=on"];
    let (ok, defaults, err) = output(tidings(&db.url).args(partner));
    assert!(ok && defaults.contains("digest\tdaily") && defaults.contains("topic incentives\ton"), "{defaults}{err}");
    let (ok, _, err) = output(tidings(&db.url).args(["noise", "partner", "P-1001", "--topic", "incentives=maybe"]));
    assert!(!ok && err.contains("write key=on, off or vendor"), "{err}");
}
