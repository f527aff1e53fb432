//! `TestApp`: Tidings served on a free port over a fresh database, with tokens per role.

use std::sync::Arc;

use reqwest::{Method, Response};
use serde_json::Value;
pub use tidings_app::testing::Engine;
use tidings_app::testing::TestDb;
use tidings_app::{App, Caller, auth};
use tidings_channels::catcher::MailCatcher;
use tidings_channels::{Channels, SmtpConfig};
use tidings_core::{Catalog, StaffRole};

/// The one origin allowed to embed the widget in tests.
pub const WIDGET_ORIGIN: &str = "https://partners.vendor.example";

pub struct TestApp {
    pub base: String,
    pub admin: String,
    pub analyst: String,
    pub client: reqwest::Client,
    /// The app the server runs (same database, same signing key), for driving workers.
    pub app: App,
    /// Where the server sends the email it sends itself (sign-in links).
    pub smtp: MailCatcher,
    db: Option<TestDb>,
    server: tokio::task::JoinHandle<()>,
}

/// Runs `test` once per engine, as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { $crate::helpers::run($crate::helpers::Engine::Sqlite, super::$name).await } )* }
        mod postgres { $( #[tokio::test] async fn $name() { $crate::helpers::run($crate::helpers::Engine::Postgres, super::$name).await } )* }
    };
}

pub async fn run<F, Fut>(engine: Engine, test: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = TestApp>,
{
    if let Some(app) = TestApp::spawn(engine).await {
        let app = test(app).await;
        app.stop().await;
    }
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Option<Self> {
        tidings_channels::outbound::install_crypto_provider();
        let db = TestDb::new(engine).await?;
        let mut app = App::new(db.db.clone(), Catalog::default());
        let (_, admin) = auth::create_token(&app, &Caller::operator(), "admin", StaffRole::Admin, None).await.unwrap();
        let (_, analyst) =
            auth::create_token(&app, &Caller::operator(), "analyst", StaffRole::Analyst, None).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let smtp = MailCatcher::start();
        app.public_url = Arc::from(base.as_str());
        app.widget_origins = Arc::new(vec![WIDGET_ORIGIN.to_owned()]);
        // Partners' channels may be bound to local stand-ins (wiremock) in tests.
        let loopback = tidings_channels::outbound::Outbound::new(tidings_channels::outbound::OutboundPolicy {
            allow_loopback: true,
        })
        .unwrap();
        app.channels = Channels::default()
            .with_smtp(SmtpConfig { port: smtp.port, ..SmtpConfig::default() })
            .with_outbound(loopback.clone());
        let mut app = app.with_web_push(loopback, "mailto:ops@vendor.example").await.unwrap();
        app.mail_catcher = Some(smtp.clone());
        app.chat_catcher = Some(tidings_channels::fake::ChatCatcher::new(100));
        let served = app.clone();
        let server = tokio::spawn(async move {
            let _ = tidings_web::serve(listener, served, std::future::pending()).await;
        });
        Some(Self { base, admin, analyst, client: reqwest::Client::new(), app, smtp, db: Some(db), server })
    }

    /// A second server over the same database, with the channels `add` makes from this
    /// one's (given its own base URL, where providers call back), served on its own port.
    /// Returns its app (to drive workers with) and its base URL.
    pub async fn serve_with(&self, add: impl FnOnce(Channels, &str) -> Channels) -> (App, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut app = self.app.clone();
        app.public_url = Arc::from(base.as_str());
        app.channels = add(app.channels.clone(), &base);
        let served = app.clone();
        tokio::spawn(async move {
            let _ = tidings_web::serve(listener, served, std::future::pending()).await;
        });
        (app, base)
    }

    /// As the admin, against another server over the same database (see [`Self::serve_with`]).
    pub async fn admin_at(&self, base: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{base}{path}")).bearer_auth(&self.admin);
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.unwrap()).await
    }

    pub fn db(&self) -> &tidings_app::Db {
        &self.db.as_ref().expect("the test database").db
    }

    pub async fn stop(mut self) {
        self.server.abort();
        let _ = (&mut self.server).await;
        if let Some(db) = self.db.take() {
            db.cleanup().await;
        }
    }

    /// Sends a request as `token` (or anonymously), with an optional JSON body.
    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Response {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.unwrap()
    }

    /// As the admin; returns the status and the JSON body (Null when empty).
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let response = self.call(method, path, Some(&self.admin.clone()), body).await;
        read(response).await
    }

    pub async fn post_csv(&self, path: &str, csv: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin)
            .header("content-type", "text/csv")
            .body(csv.to_owned())
            .send()
            .await
            .unwrap();
        read(response).await
    }
}

pub async fn read(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

/// Opts every member `rule` selects in to email, as partners who agreed to be mailed have:
/// the demo data holds no opt-ins.
pub async fn opt_in_to_email(app: &TestApp, rule: &str) {
    let caller = tidings_app::Caller::operator();
    let draft = tidings_core::audiences::AudienceDraft { rule: Some(rule.to_owned()), ..Default::default() };
    let mut ids = Vec::new();
    tidings_app::audiences::each_member(&app.app, &caller, &draft, |chunk| {
        ids.extend_from_slice(chunk);
        Ok(())
    })
    .await
    .unwrap();
    for id in ids {
        let input = tidings_app::consent::ConsentInput {
            purpose: "email".into(),
            granted: true,
            lawful_basis: None,
            text_version: "v1".into(),
        };
        tidings_app::consent::record(&app.app, &caller, id, &input).await.unwrap();
    }
}
