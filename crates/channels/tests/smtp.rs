//! The mailer against a real SMTP server, with and without PIPELINING: every email
//! arrives whole and to the right person over reused connections, and a refusal is
//! reported as what it is without spoiling the emails after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use futures_util::future::join_all;
use tidings_channels::catcher::{MailCatcher, Mode};
use tidings_channels::{OutgoingEmail, PartBody, SmtpConfig, SmtpMailer};
use tidings_core::deliveries::Outcome;

fn mailer(port: u16) -> SmtpMailer {
    SmtpMailer::new(SmtpConfig { port, connections: 2, timeout_secs: 5, ..SmtpConfig::default() })
}

fn email(n: usize) -> OutgoingEmail {
    OutgoingEmail {
        from: "Vendor <news@vendor.test>".into(),
        return_path: Some("bounces@vendor.test".into()),
        to_name: format!("Member {n}"),
        to: format!("member{n}@partner.test"),
        subject: format!("Notice {n}"),
        // A line starting with a dot must reach the server unstuffed.
        text: PartBody::Text(format!("Hello {n}\n.hidden line\nend")),
        html: PartBody::Text(format!("<p>Hello {n}</p>")),
        message_id: format!("{n}@vendor.test"),
        unsubscribe_url: Some(format!("https://vendor.test/u/{n}")),
    }
}

async fn sends_many_over_few_connections(smtp: MailCatcher, pipelines: bool) {
    let mailer = mailer(smtp.port);
    // All at once, as the worker sends a round: more emails than connections.
    for outcome in join_all((0..40).map(|n| mailer.send(email(n)))).await {
        assert!(matches!(outcome, Outcome::Sent { .. }), "{outcome:?}");
    }
    let mut received = smtp.received();
    assert_eq!(received.len(), 40);
    received.sort_by_key(|r| r.to.clone());
    for r in &received {
        let n: usize = r.to[0].trim_start_matches("member").trim_end_matches("@partner.test").parse().unwrap();
        assert_eq!(r.to, vec![format!("member{n}@partner.test")]);
        assert_eq!(r.from, "bounces@vendor.test");
        assert_eq!(r.subject(), format!("Notice {n}"));
        assert_eq!(r.text().replace("\r\n", "\n"), format!("Hello {n}\n.hidden line\nend"));
        assert_eq!(r.header("Message-ID").unwrap(), format!("<{n}@vendor.test>"));
    }
    let pipelined = smtp.pipelined_count();
    if pipelines {
        assert_eq!(pipelined, 40, "every transaction's commands go out together");
    } else {
        assert_eq!(pipelined, 0, "no pipelining where the server does not announce it");
    }
    mailer.close().await;
}

async fn refusals_are_classified_and_the_next_email_still_goes(smtp: MailCatcher) {
    let mailer = mailer(smtp.port);
    assert!(matches!(mailer.send(email(1)).await, Outcome::Sent { .. }));
    smtp.set_mode(Mode::Permanent);
    assert!(matches!(mailer.send(email(2)).await, Outcome::Permanent(reason) if reason.contains("550")));
    smtp.set_mode(Mode::Transient);
    assert!(matches!(mailer.send(email(3)).await, Outcome::Transient(reason) if reason.contains("451")));
    smtp.set_mode(Mode::Accept);
    assert!(matches!(mailer.send(email(4)).await, Outcome::Sent { .. }));
    let to: Vec<String> = smtp.received().into_iter().map(|r| r.to[0].clone()).collect();
    assert_eq!(to, vec!["member1@partner.test", "member4@partner.test"]);
}

#[tokio::test]
async fn pipelined_sends_arrive_whole() {
    sends_many_over_few_connections(MailCatcher::start(), true).await;
}

#[tokio::test]
async fn sends_arrive_whole_without_pipelining() {
    sends_many_over_few_connections(MailCatcher::start_without_pipelining(), false).await;
}

#[tokio::test]
async fn pipelined_refusals() {
    refusals_are_classified_and_the_next_email_still_goes(MailCatcher::start()).await;
}

#[tokio::test]
async fn refusals_without_pipelining() {
    refusals_are_classified_and_the_next_email_still_goes(MailCatcher::start_without_pipelining()).await;
}

/// A server that accepts connections and never says a word (nor answers once it has
/// greeted): every attempt ends within the configured time, as a transient failure before
/// the message is handed over, and the mailer is free for the next email.
#[tokio::test]
async fn a_server_that_accepts_and_never_answers_does_not_stall_the_mailer() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Keeps every accepted socket open and silent for the test's lifetime.
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let mailer = SmtpMailer::new(SmtpConfig { port, connections: 2, timeout_secs: 1, ..SmtpConfig::default() });
    let started = std::time::Instant::now();
    let outcomes = join_all((0..4).map(|n| mailer.send(email(n)))).await;
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Outcome::ProviderDown { reason, .. } if reason.contains("no greeting")),
            "{outcome:?}"
        );
    }
    // Two connections at a time, one second each: two rounds, not a hang.
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(held.lock().unwrap().len() >= 2, "the mailer did connect");
}
