//! Running Tidings as an operator does: metrics scraped and parsed, the system's state,
//! migrations raced by nodes starting together, a database from a newer binary refused,
//! migrations listed before they run, and a backup taken mid-send restored whole.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tidings_app::{App, Caller, demo, release};
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_core::deliveries::DeliveryStatus;
use tidings_core::{Catalog, MemberStatus, MessageId};
use tidings_store::members::MemberFilter;
use tidings_store::testing::{Engine, TestDb};
use tidings_store::{Db, deliveries, members, reports, topics};

use common::{grant, worker};

fn tidings(url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tidings"));
    command.arg("--database-url").arg(url).env_remove("RUST_LOG").env("TIDINGS_LOG__LEVEL", "warn");
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn three_nodes_starting_together_migrate_once_on_sqlite() {
    migrations_raced(Engine::Sqlite).await;
}

#[tokio::test]
async fn three_nodes_starting_together_migrate_once_on_postgres() {
    migrations_raced(Engine::Postgres).await;
}

async fn migrations_raced(engine: Engine) {
    let Some(t) = TestDb::new_at(engine, 0).await else { return };
    let listed = tidings(&t.url).args(["migrate", "--dry-run"]).output().unwrap();
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let known = t.db.known_schema_version();
    assert!(text(&listed.stdout).lines().count() > 40, "every migration is listed: {}", text(&listed.stdout));
    assert!(text(&listed.stdout).starts_with("1\t"), "{}", text(&listed.stdout));
    assert_eq!(t.db.schema_version().await.unwrap(), None, "a dry run applies nothing");

    let racers: Vec<_> = (0..3)
        .map(|_| tidings(&t.url).arg("migrate").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let outputs: Vec<Output> = racers.into_iter().map(|c| c.wait_with_output().unwrap()).collect();
    for out in &outputs {
        assert!(out.status.success(), "each node starts: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(&format!("the schema is at migration {known}")), "{}", text(&out.stdout));
    }
    assert_eq!(t.db.schema_version().await.unwrap(), Some(known));
    assert!(t.db.pending_migrations().await.unwrap().is_empty());
    let again = tidings(&t.url).args(["migrate", "--dry-run"]).output().unwrap();
    assert!(text(&again.stdout).starts_with("nothing to migrate"), "{}", text(&again.stdout));
    t.cleanup().await;
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_refused_with_what_to_do_on_sqlite() {
    newer_schema_refused(Engine::Sqlite).await;
}

#[tokio::test]
async fn a_database_from_a_newer_binary_is_refused_with_what_to_do_on_postgres() {
    newer_schema_refused(Engine::Postgres).await;
}

async fn newer_schema_refused(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let future = t.db.known_schema_version() + 1;
    t.db.execute_raw(&format!(
        "insert into _sqlx_migrations (version, description, success, checksum, execution_time) \
         values ({future}, 'from the future', true, {blob}, 1)",
        blob = if engine == Engine::Sqlite { "x'00'" } else { "'\\x00'::bytea" },
    ))
    .await
    .unwrap();
    for args in [&["migrate"][..], &["migrate", "--dry-run"], &["worker"]] {
        let out = tidings(&t.url).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} refuses");
        let said = text(&out.stderr);
        assert!(said.contains("migrated by a newer Tidings"), "{args:?}: {said}");
        assert!(said.contains(&format!("at migration {future}")), "{said}");
    }
    t.cleanup().await;
}

#[tokio::test]
async fn a_backup_taken_mid_send_restores_to_the_moment_it_was_taken() {
    let t = TestDb::sqlite().await;
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    t.db.execute_raw("update partners set working_hours = null; update members set working_hours = null")
        .await
        .unwrap();
    let message = released_to_everyone_active(&app).await;
    let smtp = MailCatcher::start();
    // Slow enough that the send outlasts starting the backup process.
    smtp.set_mode(Mode::Slow(Duration::from_millis(30)));
    let mut sender = worker(&t.url, smtp.port);
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.received_count() < 30 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let sent_before = sent(&t.db, message).await;
    let out = tidings(&t.url).arg("backup").arg(&file).output().unwrap();
    let sent_after = sent(&t.db, message).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("backed up to"), "{}", text(&out.stdout));
    let again = tidings(&t.url).arg("backup").arg(&file).output().unwrap();
    assert!(!again.status.success() && text(&again.stderr).contains("already exists"), "no backup is overwritten");
    let deadline = Instant::now() + Duration::from_secs(90);
    // Outcomes are saved a round at a time: wait for the database, not the mail server.
    while sent(&t.db, message).await <= sent_after && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sender.kill().unwrap();
    sender.wait().unwrap();

    let restored_url = format!("sqlite:{}", dir.path().join("restored.db").display());
    let out = tidings(&restored_url).arg("restore").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("partners"), "{}", text(&out.stdout));
    let out = tidings(&restored_url).arg("restore").arg(&file).output().unwrap();
    assert!(!out.status.success() && text(&out.stderr).contains("already exists"), "no database is overwritten");

    let restored = Db::connect(&restored_url).await.unwrap();
    let at_backup = sent(&restored, message).await;
    assert!(
        (sent_before..=sent_after).contains(&at_backup),
        "the copy holds the send as it stood while the backup ran: {sent_before} <= {at_backup} <= {sent_after}"
    );
    assert!(at_backup < sent(&t.db, message).await, "the send went on after the backup");
    let backup = Db::open(&format!("sqlite:{}", file.display())).await.unwrap();
    assert_eq!(restored.table_counts().await.unwrap(), backup.table_counts().await.unwrap());
    backup.close().await;

    let kept = counts(&restored, message).await;
    let mut tx = restored.begin().await.unwrap();
    reports::recount(&mut tx, message).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept, counts(&restored, message).await, "the report in the copy matches its rows");
    restored.close().await;
    t.cleanup().await;
}

async fn released_to_everyone_active(app: &App) -> MessageId {
    let mut tx = app.db.begin().await.unwrap();
    let filter = MemberFilter { status: Some(MemberStatus::Active), ..Default::default() };
    let active = members::list(&mut tx, &filter, None, Some(500)).await.unwrap().items;
    for m in &active {
        grant(&mut tx, m.id, "email", app.clock.now()).await;
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    let draft = common::price_list(topic.id, active.iter().map(|m| m.id).collect(), "Update your quotes.");
    let message = tidings_app::messages::create(app, &Caller::operator(), &draft).await.unwrap();
    let report = release::release(app, &Caller::operator(), message.id).await.unwrap();
    assert!(report.deliveries > 100, "{report:?}");
    message.id
}

async fn sent(db: &Db, message: MessageId) -> u64 {
    let mut tx = db.read().await.unwrap();
    let all = deliveries::of_message(&mut tx, message).await.unwrap();
    all.iter().filter(|d| d.status == DeliveryStatus::Sent).count() as u64
}

/// The message's report as kept, without keys that count nothing.
async fn counts(db: &Db, message: MessageId) -> HashMap<reports::Key, reports::Counts> {
    let mut tx = db.read().await.unwrap();
    let mut all = reports::of_message(&mut tx, message).await.unwrap();
    all.retain(|_, c| *c != reports::Counts::default());
    all
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

type Exposition =
    openmetrics_parser::MetricsExposition<openmetrics_parser::PrometheusType, openmetrics_parser::PrometheusValue>;

/// The value of the family `name`'s sample whose labels include all of `labels` (a
/// histogram's: its count).
fn sample(scrape: &Exposition, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    use openmetrics_parser::PrometheusValue;
    let family = scrape.families.get(name)?;
    let found = family.iter_samples().find(|s| {
        let set = s.get_labelset().unwrap();
        labels.iter().all(|(k, v)| set.get_label_value(k) == Some(*v))
    })?;
    Some(match &found.value {
        PrometheusValue::Unknown(n) | PrometheusValue::Gauge(n) => n.as_f64(),
        PrometheusValue::Counter(c) => c.value.as_f64(),
        PrometheusValue::Histogram(h) => h.count.map_or(f64::NAN, |c| c as f64),
        PrometheusValue::Summary(_) => f64::NAN,
    })
}

/// Every label value in the exposition.
fn label_values(scrape: &Exposition) -> Vec<String> {
    scrape
        .families
        .values()
        .flat_map(|f| {
            f.iter_samples().flat_map(|s| s.get_labelset().unwrap().iter_values().cloned().collect::<Vec<_>>())
        })
        .collect()
}

#[tokio::test]
async fn metrics_are_scraped_and_parsed_and_the_system_page_shows_this_node() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let metrics = ("TIDINGS_METRICS__LISTEN", format!("127.0.0.1:{metrics_port}"));
    let (mut child, token) = common::demo_server(dir.path(), port, &[metrics]);
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..3 {
        let partners = client.get(format!("{url}/api/v1/partners")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(partners.status(), 200);
    }
    let missing = client.get(format!("{url}/api/v1/partners/{}", uuid::Uuid::nil())).bearer_auth(&token);
    assert_eq!(missing.send().await.unwrap().status(), 404);
    let public = client.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404, "metrics are not on the public listener");

    // The demo's recall goes out to its mail catcher; wait for a delivery and a job run.
    let deadline = Instant::now() + Duration::from_secs(60);
    let scrape = loop {
        let body = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap();
        assert_eq!(body.status(), 200);
        let content_type = body.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
        let text = body.text().await.unwrap();
        let scrape = openmetrics_parser::prometheus::parse_prometheus(&text).unwrap();
        let sent = sample(&scrape, "tidings_deliveries_total", &[("channel", "email"), ("status", "sent")]);
        let jobs = sample(&scrape, "tidings_job_runs_total", &[("job", "release_scheduled")]);
        if (sent.is_some() && jobs.is_some()) || Instant::now() > deadline {
            break scrape;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let requests = [("route", "/api/v1/partners"), ("method", "GET"), ("status", "200")];
    assert_eq!(sample(&scrape, "tidings_http_requests_total", &requests), Some(3.0));
    let not_found = [("route", "/api/v1/partners/{id}"), ("status", "404")];
    assert_eq!(sample(&scrape, "tidings_http_requests_total", &not_found), Some(1.0), "labelled by template");
    assert!(
        label_values(&scrape).iter().all(|v| !v.contains(&uuid::Uuid::nil().to_string())),
        "no raw path becomes a label"
    );
    let latency = sample(&scrape, "tidings_http_request_duration_seconds", &[("route", "/api/v1/partners")]);
    assert_eq!(latency, Some(3.0), "a histogram with buckets, every request in the last");
    assert!(sample(&scrape, "tidings_deliveries_total", &[("channel", "email"), ("status", "sent")]) >= Some(1.0));
    assert!(sample(&scrape, "tidings_job_runs_total", &[("job", "release_scheduled")]) >= Some(1.0));
    assert_eq!(sample(&scrape, "tidings_nodes", &[("state", "alive")]), Some(1.0));
    assert!(sample(&scrape, "tidings_queue_waiting", &[("channel", "sms")]).is_some());
    assert!(sample(&scrape, "tidings_database_bytes", &[]) > Some(0.0));
    assert!(sample(&scrape, "tidings_db_pool_connections_max", &[]) >= Some(2.0));
    let described = &scrape.families["tidings_queue_oldest_due_age_seconds"];
    assert!(described.help.contains("oldest due delivery"), "every metric is described");

    let system: serde_json::Value =
        client.get(format!("{url}/api/v1/system")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(system["engine"], "sqlite");
    let nodes = system["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{system}");
    assert_eq!((nodes[0]["state"].as_str(), nodes[0]["kind"].as_str()), (Some("alive"), Some("serve+worker")));
    assert_eq!(nodes[0]["this_node"], true);
    assert!(system["jobs"].as_array().unwrap().iter().any(|j| j["name"] == "release_scheduled"));
    let anonymous = client.get(format!("{url}/api/v1/system")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(child.wait().unwrap().success());
    let db = Db::open(&format!("sqlite:{}", dir.path().join("tidings.db").display())).await.unwrap();
    let mut tx = db.read().await.unwrap();
    let nodes = tidings_store::nodes::seen_since(&mut tx, tidings_core::Timestamp::from_millis(0)).await.unwrap();
    assert!(nodes[0].stopped_at.is_some(), "a clean stop is recorded");
}

/// A stand-alone `tidings serve` without a worker, answering at `port`.
fn server(url: &str, port: u16, public: u16) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["serve", "--no-worker", "--listen", &format!("127.0.0.1:{port}")])
        .env("TIDINGS_DATABASE_URL", url)
        .env("TIDINGS_PUBLIC_URL", format!("http://127.0.0.1:{public}"))
        .env("TIDINGS_LOG__LEVEL", "warn")
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn scrape(port: u16) -> Exposition {
    try_scrape(port).await.expect("the worker answers at /metrics")
}

/// `None` until the process listens.
async fn try_scrape(port: u16) -> Option<Exposition> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.ok()?.text().await.ok()?;
    Some(openmetrics_parser::prometheus::parse_prometheus(&text).unwrap())
}

async fn system(client: &reqwest::Client, base: &str, token: &str) -> serde_json::Value {
    client.get(format!("{base}/api/v1/system")).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

/// The states of the worker nodes, by pid.
fn worker_states(system: &serde_json::Value) -> HashMap<u32, String> {
    system["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "worker")
        .map(|n| (n["pid"].as_u64().unwrap() as u32, n["state"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn two_servers_and_two_workers_share_one_postgresql_and_a_killed_worker_loses_nothing() {
    let Some(t) = TestDb::postgres().await else { return };
    let app = App::new(t.db.clone(), Catalog::default());
    demo::seed(&app).await.unwrap();
    t.db.execute_raw("update partners set working_hours = null; update members set working_hours = null")
        .await
        .unwrap();
    let (active, topic) = consenting(&app).await;
    let token =
        text(&tidings(&t.url).args(["token", "create", "--role", "admin"]).output().unwrap().stdout).trim().to_owned();
    let smtp = MailCatcher::start();
    // Two workers send twice as fast as one: slow enough that the kill comes mid-send.
    smtp.set_mode(Mode::Slow(Duration::from_millis(30)));
    let (a, b, metrics_1, metrics_2) = (free_port(), free_port(), free_port(), free_port());
    let mut servers = [server(&t.url, a, a), server(&t.url, b, a)];
    let start_worker = |metrics: u16| {
        common::worker_command(&t.url, smtp.port)
            .env("TIDINGS_METRICS__LISTEN", format!("127.0.0.1:{metrics}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut workers = [start_worker(metrics_1), start_worker(metrics_2)];
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (base_a, base_b) = (format!("http://127.0.0.1:{a}"), format!("http://127.0.0.1:{b}"));
    for base in [&base_a, &base_b] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !client.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status() == 200) {
            assert!(Instant::now() < deadline, "{base} never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Each job's run is claimed by one worker: the slow jobs, due once since the start,
    // run once between the two.
    let slow = ["purge_expired", "chase", "checkpoint_evidence", "find_silent_partners", "enrol_sequences_by_rule"];
    let deadline = Instant::now() + Duration::from_secs(30);
    let runs = loop {
        let (Some(first), Some(second)) = (try_scrape(metrics_1).await, try_scrape(metrics_2).await) else {
            assert!(Instant::now() < deadline, "both workers answer at /metrics");
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let ran = |job: &str| {
            let of = |s: &Exposition| sample(s, "tidings_job_runs_total", &[("job", job)]).unwrap_or(0.0);
            of(&first) + of(&second)
        };
        let runs: Vec<f64> = slow.iter().map(|job| ran(job)).collect();
        if runs.iter().all(|n| *n >= 1.0) || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(runs, vec![1.0; slow.len()], "{slow:?} ran once each between two workers");

    // A draft made on one server and scheduled on the other; one worker's job releases it.
    let draft = serde_json::json!({
        "topic_id": topic, "importance": "action",
        "content": {"variants": {"en": {"title": "Price list 2027", "what_to_do": "Update your quotes."}}},
        "audience": {"members": active},
    });
    let made: serde_json::Value = client
        .post(format!("{base_a}/api/v1/messages"))
        .bearer_auth(&token)
        .json(&draft)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = made["id"].as_str().unwrap_or_else(|| panic!("{made}")).to_owned();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let at = tidings_core::Timestamp::from_millis(i64::try_from(now.as_millis()).unwrap() + 2_000);
    let scheduled = client
        .post(format!("{base_b}/api/v1/messages/{id}/schedule"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"send_at": at}))
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.status(), 200, "{}", scheduled.text().await.unwrap());
    let expected = active.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    while smtp.received_count() < expected / 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = workers[0].id();
    workers[0].kill().unwrap(); // SIGKILL: its leased deliveries wait for the lease to run out
    workers[0].wait().unwrap();
    assert!(smtp.received_count() < expected, "the kill came mid-send");
    let waiting = sample(&scrape(metrics_2).await, "tidings_queue_waiting", &[("channel", "email")]);
    assert!(waiting > Some(0.0), "mid-send the queue is not empty: {waiting:?}");
    let message = MessageId::from_uuid(id.parse().unwrap());
    let mut tx = t.db.read().await.unwrap();
    let all = deliveries::of_message(&mut tx, message).await.unwrap();
    let in_flight = all.iter().filter(|d| d.status == DeliveryStatus::Sending).count();
    drop(tx);
    // A backup taken while the other worker sends, as `tidings backup` says to take one.
    let sent_before = sent(&t.db, message).await;
    let dump = pg_dump(&t.url);
    let sent_after = sent(&t.db, message).await;

    let deadline = Instant::now() + Duration::from_secs(120);
    while sent(&t.db, message).await < expected as u64 {
        assert!(Instant::now() < deadline, "the surviving worker finishes the send");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut copies: HashMap<String, usize> = HashMap::new();
    for mail in smtp.received() {
        *copies.entry(mail.to.join(",")).or_default() += 1;
    }
    assert_eq!(copies.len(), expected, "everyone got the email");
    let second_copies: usize = copies.values().map(|n| n - 1).sum();
    assert!(second_copies <= in_flight, "{second_copies} second copies, {in_flight} in flight at the kill");
    let deadline = Instant::now() + Duration::from_secs(20);
    let released = loop {
        let mut tx = t.db.read().await.unwrap();
        let log = tidings_store::evidence::entries(&mut tx, Some(message), None, -1, i64::MAX, 500).await.unwrap();
        let released = log.iter().filter(|e| e.kind.contains("releas")).count();
        if released > 0 || Instant::now() > deadline {
            break released;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(released, 1, "one worker's job released it, once (its leaf in the evidence log)");

    // The backup restores, into a fresh database, to the moment it was taken.
    let (restored, drop_restored) = pg_restore(&t.url, &dump.0).await;
    let at_backup = sent(&restored, message).await;
    assert!((sent_before..=sent_after).contains(&at_backup), "{sent_before} <= {at_backup} <= {sent_after}");
    let kept = counts(&restored, message).await;
    let mut tx = restored.begin().await.unwrap();
    reports::recount(&mut tx, message).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(kept, counts(&restored, message).await, "the restored report matches its rows");
    restored.close().await;
    drop_restored.await;

    // The queue drains in /metrics; the system page shows the killed worker going stale.
    let deadline = Instant::now() + Duration::from_secs(30);
    while sample(&scrape(metrics_2).await, "tidings_queue_waiting", &[("channel", "email")]) != Some(0.0) {
        assert!(Instant::now() < deadline, "the queue drains");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(40);
    let states = loop {
        let states = worker_states(&system(&client, &base_a, &token).await);
        if states.get(&killed).is_some_and(|s| s == "stale") || Instant::now() > deadline {
            break states;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(states.get(&killed).map(String::as_str), Some("stale"), "{states:?}");
    assert_eq!(states.get(&workers[1].id()).map(String::as_str), Some("alive"), "{states:?}");
    let serving = system(&client, &base_b, &token).await;
    let servers_alive = serving["nodes"].as_array().unwrap().iter().filter(|n| n["kind"] == "serve").count();
    assert_eq!(servers_alive, 2, "{serving}");

    // A portal session begun on one server is good on the other.
    let link =
        text(&tidings(&t.url).args(["sign-in-link", &members_email(&app, active[0]).await]).output().unwrap().stdout);
    let link = link.trim();
    let landing = client.get(link).send().await.unwrap();
    let cookie = |r: &reqwest::Response| {
        r.headers().get("set-cookie").map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
    };
    let first = cookie(&landing).expect("the landing page starts a session");
    let page = landing.text().await.unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).and_then(|r| r.split('"').next()).unwrap().to_owned();
    let path = link.strip_prefix(&base_a).unwrap();
    // Shown by one server, answered on the other.
    let signed_in = client
        .post(format!("{base_b}{path}"))
        .header("cookie", &first)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the other server knows the session");
    let session = cookie(&signed_in).unwrap_or(first);
    let portal = client.get(format!("{base_a}/portal")).header("cookie", &session).send().await.unwrap();
    assert_eq!(portal.status(), 200, "and the first one knows it signed in");
    let anonymous = client.get(format!("{base_b}/portal")).send().await.unwrap();
    assert_ne!(anonymous.status(), 200);

    for child in servers.iter_mut().chain(workers.iter_mut().skip(1)) {
        child.kill().unwrap();
        child.wait().unwrap();
    }
    t.cleanup().await;
}

/// The active members, each opted in to email, and the announcements topic.
async fn consenting(app: &App) -> (Vec<uuid::Uuid>, uuid::Uuid) {
    let mut tx = app.db.begin().await.unwrap();
    let filter = MemberFilter { status: Some(MemberStatus::Active), ..Default::default() };
    let active = members::list(&mut tx, &filter, None, Some(200)).await.unwrap().items;
    for m in &active {
        grant(&mut tx, m.id, "email", app.clock.now()).await;
    }
    let topic = topics::get_by_key(&mut tx, "announcements").await.unwrap();
    tx.commit().await.unwrap();
    (active.iter().map(|m| m.id.as_uuid()).collect(), topic.id.as_uuid())
}

async fn members_email(app: &App, id: uuid::Uuid) -> String {
    let mut tx = app.db.read().await.unwrap();
    members::get(&mut tx, tidings_core::MemberId::from_uuid(id)).await.unwrap().profile.email.to_string()
}

/// The test schema's name, from its URL's `search_path`.
fn schema_of(url: &str) -> &str {
    url.rsplit("search_path%3D").next().unwrap()
}

/// `pg_dump` of the test's schema with the flags `tidings backup` names (custom format, no
/// owners or privileges); the file lives as long as the returned directory.
fn pg_dump(url: &str) -> (std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tidings.dump");
    let base = url.split('?').next().unwrap();
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--no-privileges", "--schema", schema_of(url), "--file"])
        .arg(&file)
        .arg(base)
        .output()
        .expect("pg_dump is installed beside PostgreSQL");
    assert!(out.status.success(), "pg_dump: {}", text(&out.stderr));
    (file, dir)
}

/// Restores a dump into a new database; returns it open, and what drops it.
async fn pg_restore(url: &str, file: &std::path::Path) -> (Db, impl std::future::Future<Output = ()>) {
    let base = url.split('?').next().unwrap().to_owned();
    let name = format!("tidings_restore_{}", uuid::Uuid::now_v7().simple());
    let admin = Db::connect_unmigrated(&base).await.unwrap();
    admin.execute_raw(&format!("create database {name}")).await.unwrap();
    let server = base.rsplit_once('/').unwrap().0.to_owned();
    let target = format!("{server}/{name}");
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--no-privileges", "--exit-on-error", "--dbname", &target])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_restore: {}", text(&out.stderr));
    let restored = Db::open(&format!("{target}?options=-c%20search_path%3D{}", schema_of(url))).await.unwrap();
    assert_eq!(restored.pending_migrations().await.unwrap(), vec![], "the restored schema is complete");
    let drop = async move {
        let _ = admin.execute_raw(&format!("drop database if exists {name} with (force)")).await;
        admin.close().await;
    };
    (restored, drop)
}
