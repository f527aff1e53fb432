//! The evidence log across processes: a server killed with SIGKILL in the middle of a burst
//! of acknowledgments leaves the log and the acknowledgments table in agreement, on both
//! engines; and a pack written by `tidings evidence export` is verified by `tidings
//! evidence verify` with the database gone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tidings_app::evidence::{self, audit};
use tidings_app::inbox::Origin;
use tidings_app::{App, Caller};
use tidings_core::{Catalog, Member, MemberDraft, MessageId, PartnerDraft};
use tidings_store::testing::{Engine, TestDb};

#[tokio::test]
async fn an_acknowledgment_burst_killed_midway_leaves_log_and_table_agreeing_on_sqlite() {
    killed_mid_burst(Engine::Sqlite).await;
}

#[tokio::test]
async fn an_acknowledgment_burst_killed_midway_leaves_log_and_table_agreeing_on_postgres() {
    killed_mid_burst(Engine::Postgres).await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A released must-know message to `people` members of one partner.
async fn recall(app: &App, people: usize) -> (MessageId, Vec<Member>) {
    let operator = Caller::operator();
    let draft = PartnerDraft { name: Some("Acme".into()), partner_type: Some("dealer".into()), ..Default::default() };
    let acme = tidings_app::partners::create(app, &operator, &draft).await.unwrap();
    let mut members = Vec::new();
    for i in 0..people {
        let draft = MemberDraft {
            partner_id: Some(acme.id),
            email: Some(format!("p{i}@acme.example")),
            roles: Some(vec!["support".into()]),
            ..Default::default()
        };
        members.push(tidings_app::members::create(app, &operator, &draft).await.unwrap());
    }
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    tidings_app::topics::create(app, &operator, &topic).await.unwrap();
    let draft: tidings_core::messages::MessageDraft = serde_json::from_value(serde_json::json!({
        "topic": "recalls", "importance": "critical",
        "content": {"variants": {"en": {"title": "Recall of lot 9", "what_to_do": "Pull it."}}},
        "audience": {"rule": "member.email exists"},
        "acknowledgment": {"statement": "Pulled."}
    }))
    .unwrap();
    let id = tidings_app::messages::create(app, &operator, &draft).await.unwrap().id;
    tidings_app::release::release(app, &operator, id).await.unwrap();
    (id, members)
}

async fn killed_mid_burst(engine: Engine) {
    let Some(t) = TestDb::new(engine).await else { return };
    let app = App::new(t.db.clone(), Catalog::default()).with_stored_signing_key().await.unwrap();
    let (id, members) = recall(&app, 120).await;
    let origin = Origin { ip: None, user_agent: None };
    let mut requests = Vec::new();
    for m in &members {
        let token = tidings_app::inbox::issue_token(&app, &Caller::operator(), m.id, Some(1)).await.unwrap().token;
        let hash = tidings_app::inbox::view(&app, m, id, &origin).await.unwrap().rendered.content_hash;
        requests.push((token, hash));
    }

    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["serve", "--no-worker", "--listen", &format!("127.0.0.1:{port}")])
        .env("TIDINGS_DATABASE_URL", &t.url)
        .env("TIDINGS_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    tidings_channels::outbound::install_crypto_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(format!("{base}/readyz")).send().await.is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Eight at a time, as fast as they are answered; the server is killed after the 40th
    // answer, with dozens more in flight or still to come.
    let answered = Arc::new(AtomicUsize::new(0));
    let confirmed = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let work = Arc::new(tokio::sync::Mutex::new(requests.into_iter().enumerate().collect::<Vec<_>>()));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, base, answered, confirmed, work) =
            (client.clone(), base.clone(), answered.clone(), confirmed.clone(), work.clone());
        tasks.push(tokio::spawn(async move {
            while let Some((i, (token, hash))) = work.lock().await.pop() {
                let sent = client
                    .post(format!("{base}/api/v1/inbox/{id}/acknowledge"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "content_hash": hash }))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        confirmed.lock().await.push(i);
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    _ => return,
                }
            }
        }));
    }
    while answered.load(Ordering::SeqCst) < 40 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().unwrap(); // SIGKILL: nothing settles
    server.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let confirmed = confirmed.lock().await.clone();
    assert!(confirmed.len() >= 40 && confirmed.len() < members.len(), "killed midway: {} answered", confirmed.len());

    // Every acknowledgment the server confirmed is there, each with its leaf, and no leaf
    // without its acknowledgment.
    let mut tx = app.db.read().await.unwrap();
    for i in &confirmed {
        let ack = tidings_store::inbox::acknowledgment(&mut tx, id, members[*i].id).await.unwrap();
        assert!(ack.is_some(), "a confirmed acknowledgment is durable");
    }
    tx.rollback().await.unwrap();
    let checkpoint = evidence::seal(&app).await.unwrap().unwrap();
    assert!(checkpoint.size >= confirmed.len() as u64);
    let found = audit::audit(&app, &Caller::operator()).await.unwrap();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    assert_eq!((found.releases, found.deliveries), (1, members.len() as u64), "the release and each inbox copy");
    assert_eq!(
        found.acknowledgments + 1 + found.deliveries,
        checkpoint.size,
        "one leaf per acknowledgment row, each in the table"
    );
    t.cleanup().await;
}

#[tokio::test]
async fn a_pack_verifies_with_the_database_gone() {
    let Some(t) = TestDb::new(Engine::Sqlite).await else { return };
    let app = App::new(t.db.clone(), Catalog::default());
    let (id, members) = recall(&app, 3).await;
    let origin = Origin { ip: None, user_agent: None };
    for m in &members[..2] {
        let hash = tidings_app::inbox::view(&app, m, id, &origin).await.unwrap().rendered.content_hash;
        let how = tidings_app::evidence::record::AckContext::PORTAL;
        tidings_app::inbox::acknowledge(&app, m, id, &hash, &Default::default(), &origin, how).await.unwrap();
    }
    let tidings = |args: &[&str], database: &str| {
        Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(args)
            .env("TIDINGS_DATABASE_URL", database)
            .env("TIDINGS_LOG__LEVEL", "warn")
            .output()
            .unwrap()
    };
    let key = tidings(&["evidence", "key"], &t.url);
    assert!(key.status.success());
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    let pack_arg = pack.to_str().unwrap();
    let exported = tidings(&["evidence", "export", &id.to_string(), "--out", pack_arg], &t.url);
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    assert!(String::from_utf8_lossy(&exported.stdout).contains("6 leaves, 1 texts"));

    // No database at all: a URL that names nothing that exists.
    t.cleanup().await;
    let nowhere = "postgres://nobody@127.0.0.1:1/none";
    let verified = tidings(&["evidence", "verify", pack_arg, "--key", &key], nowhere);
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success(), "{said}{}", String::from_utf8_lossy(&verified.stderr));
    assert!(said.contains("every proof holds") && said.contains("6 leaves (2 acknowledgments)"), "{said}");

    let leaves = pack.join("leaves.jsonl");
    let text = std::fs::read_to_string(&leaves).unwrap();
    std::fs::write(&leaves, text.replacen("Pulled.", "Pulled!", 1)).unwrap();
    let refused = tidings(&["evidence", "verify", pack_arg, "--key", &key], nowhere);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(said.contains("leaves.jsonl line 1 (position 0): the leaf is not in the checkpoint's tree"), "{said}");
}
