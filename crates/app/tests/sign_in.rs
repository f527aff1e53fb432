//! Portal sign-in links on both engines, mailed through a real SMTP server: single use,
//! short-lived, capped per hour, and silent about addresses that are not members.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use tidings_app::{App, AppError, sign_in};
use tidings_channels::catcher::MailCatcher;
use tidings_channels::{Channels, SmtpConfig};
use tidings_core::{Email, MemberStatus};
use tidings_store::members::{self, MemberFilter};

both_engines!(
    seeded:
    a_link_signs_in_once_and_only_until_it_expires,
    an_unknown_or_disabled_address_gets_nothing_and_the_same_answer,
    links_to_one_address_are_capped_per_hour,
    many_wrong_passwords_pause_one_account_for_a_quarter_of_an_hour,
);

fn with_smtp(mut app: App, port: u16) -> App {
    app.channels =
        Channels::default().with_smtp(SmtpConfig { port, timeout_secs: 5, connections: 2, ..SmtpConfig::default() });
    app.public_url = Arc::from("https://tidings.example");
    app
}

async fn some_member(app: &App, status: MemberStatus) -> tidings_core::Member {
    let mut tx = app.db.read().await.unwrap();
    let filter = MemberFilter { status: Some(status), ..Default::default() };
    members::list(&mut tx, &filter, None, Some(1)).await.unwrap().items.remove(0)
}

/// Waits for `n` emails without blocking the test's runtime, which also runs the task
/// that sends the link.
async fn mails(smtp: &MailCatcher, n: usize) -> Vec<tidings_channels::catcher::Received> {
    for _ in 0..100 {
        if smtp.received().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    smtp.received()
}

fn token_in(text: &str) -> String {
    let start = text.find("https://tidings.example/portal/sign-in/").expect("a sign-in link") + 39;
    text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn a_link_signs_in_once_and_only_until_it_expires(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    let member = some_member(&app, MemberStatus::Active).await;
    // Case does not matter: addresses are stored and matched in lower case.
    sign_in::request_link(&app, &member.profile.email.as_str().to_uppercase()).unwrap();
    let mails = mails(&smtp, 1).await;
    assert_eq!(mails[0].to, [member.profile.email.to_string()]);
    let token = token_in(&mails[0].text());
    assert!(mails[0].html().contains(&token));

    assert_eq!(sign_in::redeem(&app, &token).await.unwrap(), member.id);
    let again = sign_in::redeem(&app, &token).await;
    assert!(matches!(again, Err(AppError::Invalid(_))), "a link works once: {again:?}");

    assert!(sign_in::send_link(&app, &member.profile.email).await.unwrap());
    let late = token_in(&smtp.wait_for(2, Duration::from_secs(5))[1].text());
    app.clock.advance(sign_in::LINK_LIFETIME_MS);
    assert!(matches!(sign_in::redeem(&app, &late).await, Err(AppError::Invalid(_))), "an expired link is refused");
    let (purged, _) = tidings_app::workers::housekeeping::purge_expired(&app).await.unwrap();
    assert_eq!(purged, 2, "both links are past their 15 minutes and forgotten");
    let altered = format!("{}0", &token[..token.len() - 1]);
    assert!(matches!(sign_in::redeem(&app, &altered).await, Err(AppError::Invalid(_))));
    assert!(matches!(sign_in::redeem(&app, "not-a-token").await, Err(AppError::Invalid(_))));
}

async fn an_unknown_or_disabled_address_gets_nothing_and_the_same_answer(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    assert!(sign_in::request_link(&app, "nobody@unknown.example").is_ok());
    assert!(!sign_in::send_link(&app, &Email::parse("nobody@unknown.example").unwrap()).await.unwrap());
    let mut disabled = some_member(&app, MemberStatus::Active).await;
    disabled.profile.status = MemberStatus::Disabled;
    let mut tx = app.db.begin().await.unwrap();
    members::update(&mut tx, &disabled).await.unwrap();
    tx.commit().await.unwrap();
    assert!(sign_in::request_link(&app, disabled.profile.email.as_str()).is_ok());
    assert!(!sign_in::send_link(&app, &disabled.profile.email).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.received().is_empty(), "no email for an address that cannot sign in");
    let bad = sign_in::request_link(&app, "not an address");
    assert!(matches!(bad, Err(AppError::Invalid(_))), "a malformed address is an input error: {bad:?}");
}

async fn links_to_one_address_are_capped_per_hour(app: App) {
    let smtp = MailCatcher::start();
    let app = with_smtp(app, smtp.port);
    let member = some_member(&app, MemberStatus::Active).await;
    for _ in 0..sign_in::LINKS_PER_HOUR {
        assert!(sign_in::send_link(&app, &member.profile.email).await.unwrap());
    }
    assert!(!sign_in::send_link(&app, &member.profile.email).await.unwrap(), "over the cap");
    app.clock.advance(3_600_001);
    assert!(sign_in::send_link(&app, &member.profile.email).await.unwrap(), "an hour later it works again");
    assert_eq!(smtp.wait_for(6, Duration::from_secs(5)).len(), 6);
}

/// Wrong passwords from anywhere pause password sign-in for that one address, for a
/// quarter of an hour at most; other accounts, and the emailed link, are unaffected.
async fn many_wrong_passwords_pause_one_account_for_a_quarter_of_an_hour(app: App) {
    let ana = some_member(&app, MemberStatus::Active).await;
    let change = tidings_app::passwords::Change { current: "", session: None };
    tidings_app::passwords::set(&app, &ana, "correct horse battery", change).await.unwrap();
    let email = ana.profile.email.to_string();
    for _ in 0..10 {
        let wrong = tidings_app::passwords::sign_in(&app, &email, "not the password").await;
        assert!(matches!(wrong, Err(AppError::Invalid(_))), "{wrong:?}");
    }
    let paused = tidings_app::passwords::sign_in(&app, &email, "correct horse battery").await;
    assert!(matches!(paused, Err(AppError::TooMany(_))), "even the right password waits: {paused:?}");
    // The same for an address nobody has: the pause tells nothing about who exists.
    for _ in 0..10 {
        let _ = tidings_app::passwords::sign_in(&app, "nobody@nowhere.example", "not the password").await;
    }
    let unknown = tidings_app::passwords::sign_in(&app, "nobody@nowhere.example", "not the password").await;
    assert!(matches!(unknown, Err(AppError::TooMany(_))), "{unknown:?}");
    // A sign-in link still works meanwhile.
    let link = sign_in::operator_link(&app, &tidings_app::Caller::operator(), ana.id).await.unwrap();
    let token = link.rsplit('/').next().unwrap();
    assert_eq!(sign_in::redeem(&app, token).await.ok(), Some(ana.id), "links are not paused");

    app.clock.advance(15 * 60_000 + 1);
    let back = tidings_app::passwords::sign_in(&app, &email, "correct horse battery").await;
    assert_eq!(back.ok(), Some(ana.id), "a quarter of an hour later the right password works");
}
