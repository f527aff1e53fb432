//! Consent records, preferences within topic policies, and the channel decisions they
//! lead to, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use tidings_app::audiences::{self, AudienceDraft};
use tidings_app::consent::{self, ConsentInput, PreferencesPatch};
use tidings_app::{App, AppError, Caller};
use tidings_core::consent::Channel;
use tidings_core::{Member, MemberStatus, Role};
use tidings_store::members;
use tidings_store::members::MemberFilter;

both_engines!(
    seeded:
    consent_changes_are_recorded_with_who_what_when_how_and_text,
    bad_consent_input_names_each_field,
    required_topics_cannot_be_turned_off,
    explain_shows_which_channels_are_open_and_why,
    an_import_states_email_consent_with_its_lawful_basis,
    accepting_terms_can_imply_email_opt_in,
);

async fn member_with(app: &App, role: Role) -> Member {
    let mut tx = app.db.read().await.unwrap();
    let filter = MemberFilter { role: Some(role), status: Some(MemberStatus::Active), ..Default::default() };
    members::list(&mut tx, &filter, None, Some(500))
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|m| m.profile.roles.iter().count() == 1)
        .expect("a member with only that role")
}

fn opt_in(granted: bool) -> ConsentInput {
    ConsentInput { purpose: "email".into(), granted, lawful_basis: None, text_version: "privacy-2026-03".into() }
}

async fn consent_changes_are_recorded_with_who_what_when_how_and_text(app: App) {
    let caller = Caller::operator();
    let m = member_with(&app, Role::Sales).await;
    let before = consent::preferences(&app, &caller, m.id).await.unwrap();
    assert!(!before.preferences.email_opted_in, "email is opt-in: new members are opted out");
    consent::record(&app, &caller, m.id, &opt_in(true)).await.unwrap();
    app.clock.advance(60_000);
    consent::record(&app, &caller, m.id, &opt_in(false)).await.unwrap();
    app.clock.advance(60_000);
    consent::record(&app, &caller, m.id, &opt_in(true)).await.unwrap();
    let history = consent::history(&app, &caller, m.id).await.unwrap();
    let trail: Vec<(bool, &str, &str, &str)> = history
        .iter()
        .map(|r| (r.granted, r.source.as_str(), r.recorded_by.as_str(), r.text_version.as_str()))
        .collect();
    assert_eq!(
        trail,
        [
            (true, "api", "operator", "privacy-2026-03"),
            (false, "api", "operator", "privacy-2026-03"),
            (true, "api", "operator", "privacy-2026-03")
        ]
    );
    assert!(history.windows(2).all(|w| w[0].recorded_at < w[1].recorded_at));
    assert_eq!(history[0].lawful_basis, "consent");
    assert!(consent::preferences(&app, &caller, m.id).await.unwrap().preferences.email_opted_in);
}

async fn bad_consent_input_names_each_field(app: App) {
    let caller = Caller::operator();
    let m = member_with(&app, Role::Sales).await;
    let bad = ConsentInput {
        purpose: "fax".into(),
        granted: true,
        lawful_basis: Some("because".into()),
        text_version: " ".into(),
    };
    match consent::record(&app, &caller, m.id, &bad).await {
        Err(AppError::Invalid(e)) => {
            let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
            assert_eq!(fields, ["purpose", "lawful_basis", "text_version"]);
        }
        other => panic!("{other:?}"),
    }
    let missing = consent::record(&app, &caller, tidings_core::MemberId::new(), &opt_in(true)).await;
    assert!(matches!(missing, Err(AppError::NotFound("member"))));
}

async fn required_topics_cannot_be_turned_off(app: App) {
    let caller = Caller::operator();
    let support_person = member_with(&app, Role::Support).await;
    let view = consent::preferences(&app, &caller, support_person.id).await.unwrap();
    let support = view.topics.iter().find(|t| t.key == "support").unwrap();
    assert!(support.on && support.locked, "{support:?}");
    let incentives = view.topics.iter().find(|t| t.key == "incentives").unwrap();
    assert!(!incentives.on && !incentives.locked, "incentives are off by default for support people");

    let off = PreferencesPatch { topics: BTreeMap::from([("support".into(), false)]), ..Default::default() };
    match consent::set_preferences(&app, &caller, support_person.id, &off).await {
        Err(AppError::Invalid(e)) => assert!(e.to_string().contains("required for this member's roles"), "{e}"),
        other => panic!("{other:?}"),
    }
    let choose = PreferencesPatch {
        topics: BTreeMap::from([("incentives".into(), true), ("product-updates".into(), false)]),
        channels: BTreeMap::from([("slack".into(), false)]),
        topic_channels: BTreeMap::from([(
            "support".into(),
            BTreeMap::from([("email".into(), false), ("web_push".into(), true)]),
        )]),
        ..Default::default()
    };
    let view = consent::set_preferences(&app, &caller, support_person.id, &choose).await.unwrap();
    let on = |k: &str| view.topics.iter().find(|t| t.key == k).map(|t| t.on);
    assert_eq!((on("incentives"), on("product-updates"), on("support")), (Some(true), Some(false), Some(true)));
    assert_eq!(view.preferences.channels.get(&Channel::Slack), Some(&false));
    let support = view.topics.iter().find(|t| t.key == "support").unwrap();
    let email = support.channels.iter().find(|c| c.channel == Channel::Email).unwrap();
    assert!(!email.chosen && !email.reaches, "{email:?}");
    assert_eq!(email.reason, "the member turned email off for topic support");
    let kept: Vec<Channel> = view.preferences.topic_channels.values().flat_map(|c| c.keys().copied()).collect();
    assert_eq!(kept, [Channel::Email], "only what is off is kept");

    let sales_person = member_with(&app, Role::Sales).await;
    let off = PreferencesPatch { topics: BTreeMap::from([("support".into(), false)]), ..Default::default() };
    let view = consent::set_preferences(&app, &caller, sales_person.id, &off).await.unwrap();
    assert_eq!(view.topics.iter().find(|t| t.key == "support").map(|t| t.on), Some(false));

    let unknown = PreferencesPatch {
        topics: BTreeMap::from([("gossip".into(), true)]),
        channels: BTreeMap::from([("pigeon".into(), true), ("inbox".into(), false)]),
        topic_channels: BTreeMap::from([
            ("gossip".into(), BTreeMap::from([("email".into(), false)])),
            ("support".into(), BTreeMap::from([("teams".into(), false)])),
        ]),
        ..Default::default()
    };
    match consent::set_preferences(&app, &caller, sales_person.id, &unknown).await {
        Err(AppError::Invalid(e)) => {
            assert_eq!(e.iter().count(), 5, "{e}");
            assert!(e.to_string().contains("inbox cannot be chosen by a member: the portal's inbox is always on"));
        }
        other => panic!("{other:?}"),
    }
}

async fn explain_shows_which_channels_are_open_and_why(app: App) {
    let caller = Caller::operator();
    let m = member_with(&app, Role::Operations).await;
    let draft = AudienceDraft { rule: Some("member.email exists".into()), ..Default::default() };
    let channel = |e: &audiences::MemberExplanation, c: Channel| {
        e.channels.iter().find(|d| d.channel == c).map(|d| (d.allowed, d.reason.clone())).unwrap()
    };
    let e = audiences::explain(&app, &caller, &draft, m.profile.email.as_str(), Some("operations")).await.unwrap();
    assert!(channel(&e, Channel::Inbox).0);
    assert_eq!(channel(&e, Channel::Email), (false, "email is opt-in and the member has not opted in".into()));
    consent::record(&app, &caller, m.id, &opt_in(true)).await.unwrap();
    let e = audiences::explain(&app, &caller, &draft, m.profile.email.as_str(), Some("operations")).await.unwrap();
    let (open, reason) = channel(&e, Channel::Email);
    assert!(open && reason.contains("topic operations is required for the member's role"), "{reason}");
    let e = audiences::explain(&app, &caller, &draft, m.profile.email.as_str(), Some("incentives")).await.unwrap();
    assert!(e.channels.iter().all(|d| !d.allowed), "incentives are off by default for operations people");
    let bad = audiences::explain(&app, &caller, &draft, m.profile.email.as_str(), Some("gossip")).await;
    assert!(matches!(bad, Err(AppError::Invalid(_))));
}

async fn import(app: &App, csv: &str) -> tidings_app::import::ImportReport {
    let source = Box::new(std::io::Cursor::new(csv.to_owned()));
    tidings_app::import::import_members(app, &Caller::operator(), source, Default::default()).await.unwrap()
}

async fn an_import_states_email_consent_with_its_lawful_basis(app: App) {
    let caller = Caller::operator();
    let m = member_with(&app, Role::Sales).await;
    let email = m.profile.email.to_string();
    let csv = format!("email,email_consent,lawful_basis,consent_text_version\n{email},yes,consent,privacy-2026-03\n");
    let report = import(&app, &csv).await;
    assert_eq!((report.updated, report.failed), (1, 0), "{:?}", report.errors);
    let history = consent::history(&app, &caller, m.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!((history[0].source.as_str(), history[0].lawful_basis.as_str()), ("import", "consent"));
    assert!(consent::preferences(&app, &caller, m.id).await.unwrap().preferences.email_opted_in);
    let again = import(&app, &csv).await;
    assert_eq!((again.unchanged, again.updated), (1, 0), "re-running the file records nothing new");
    assert_eq!(consent::history(&app, &caller, m.id).await.unwrap().len(), 1);

    let report = import(&app, &format!("email,email_consent\n{email},no\n")).await;
    assert_eq!(report.failed, 1);
    assert_eq!(report.errors[0].column.as_deref(), Some("lawful_basis"));
    let report = import(&app, &format!("email,email_consent,lawful_basis\n{email},maybe,consent\n")).await;
    assert_eq!(report.errors[0].column.as_deref(), Some("email_consent"));
    let report = import(
        &app,
        &format!("email,email_consent,lawful_basis,consent_version\n{email},no,consent,privacy-2026-03\n"),
    )
    .await;
    assert_eq!(report.updated, 1);
    assert!(!consent::preferences(&app, &caller, m.id).await.unwrap().preferences.email_opted_in);
}

async fn accepting_terms_can_imply_email_opt_in(app: App) {
    let caller = Caller::operator();
    let m = member_with(&app, Role::Sales).await;
    let terms = ConsentInput {
        purpose: "terms".into(),
        granted: true,
        lawful_basis: Some("contract".into()),
        text_version: "terms-v4".into(),
    };
    consent::record(&app, &caller, m.id, &terms).await.unwrap();
    assert!(
        !consent::preferences(&app, &caller, m.id).await.unwrap().preferences.email_opted_in,
        "off unless configured"
    );
    let app = App { terms_imply_email_opt_in: true, ..app };
    consent::record(&app, &caller, m.id, &terms).await.unwrap();
    let history = consent::history(&app, &caller, m.id).await.unwrap();
    let email = history.iter().find(|r| r.purpose == "email").unwrap();
    assert_eq!((email.source.as_str(), email.text_version.as_str()), ("terms", "terms-v4"));
    assert!(consent::preferences(&app, &caller, m.id).await.unwrap().preferences.email_opted_in);
}
