//! The harness the app's tests share: each test runs once per engine on a fresh database.

#![allow(dead_code)]

use tidings_app::{App, Clock, demo};
use tidings_core::{Catalog, Timestamp};
pub use tidings_store::testing::Engine;
use tidings_store::testing::TestDb;

/// Runs each listed test once per engine, as `sqlite::name` and `postgres::name`; the
/// test gets an `App` over a fresh database, with the demo data when `$seed` is `seeded`.
#[macro_export]
macro_rules! both_engines {
    ($seed:ident: $($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { $crate::common::run($crate::common::Engine::Sqlite, stringify!($seed) == "seeded", super::$name).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { $crate::common::run($crate::common::Engine::Postgres, stringify!($seed) == "seeded", super::$name).await } )* }
    };
}

/// The fixed time every test runs at.
pub const NOW: i64 = 1_780_000_000_000;

pub async fn run<F, Fut>(engine: Engine, seeded: bool, test: F)
where
    F: FnOnce(App) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(t) = TestDb::new(engine).await {
        let mut app = App::new(t.db.clone(), Catalog::default());
        app.clock = Clock::fixed(Timestamp::from_millis(NOW));
        if seeded {
            demo::seed(&app).await.expect("demo data");
        }
        test(app).await;
        t.cleanup().await;
    }
}

/// Ana and Bo of Acme and Cy of Beta (dealers; each in support), and the topic `recalls`.
pub async fn recall_directory(app: &App) -> Vec<tidings_core::Member> {
    use tidings_app::Caller;
    use tidings_core::{MemberDraft, PartnerDraft};
    let mut people = Vec::new();
    for (partner, emails) in [("Acme", &["ana@acme.example", "bo@acme.example"][..]), ("Beta", &["cy@beta.example"])] {
        let draft =
            PartnerDraft { name: Some(partner.into()), partner_type: Some("dealer".into()), ..Default::default() };
        let partner = tidings_app::partners::create(app, &Caller::operator(), &draft).await.expect("a partner");
        for email in emails {
            let draft = MemberDraft {
                partner_id: Some(partner.id),
                email: Some((*email).into()),
                name: email.split('@').next().map(str::to_owned),
                roles: Some(vec!["support".into()]),
                ..Default::default()
            };
            people.push(tidings_app::members::create(app, &Caller::operator(), &draft).await.expect("a member"));
        }
    }
    let topic =
        tidings_core::TopicDraft { key: Some("recalls".into()), name: Some("Recalls".into()), ..Default::default() };
    tidings_app::topics::create(app, &Caller::operator(), &topic).await.expect("the topic");
    people
}

/// Lee, the lead of Acme (from [`recall_directory`]).
pub async fn acme_lead(app: &App, acme: tidings_core::PartnerId) -> tidings_core::Member {
    use tidings_app::Caller;
    let draft = tidings_core::MemberDraft {
        partner_id: Some(acme),
        email: Some("lee@acme.example".into()),
        name: Some("Lee".into()),
        roles: Some(vec!["partner_lead".into()]),
        ..Default::default()
    };
    tidings_app::members::create(app, &Caller::operator(), &draft).await.expect("the lead")
}
