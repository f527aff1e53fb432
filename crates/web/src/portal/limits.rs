//! Rate limits on signing in, per client address: asking for links and using them. The
//! app also caps links per email address (5 an hour); this stops one client from walking
//! through many addresses or guessing tokens. The address is the TCP peer's, which a
//! client cannot forge; behind a reverse proxy every client shares the proxy's address,
//! so the limit is then the proxy's as a whole.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::Response;
use governor::middleware::NoOpMiddleware;
use tower_governor::GovernorError;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_governor::key_extractor::PeerIpKeyExtractor;

use super::page::error_page;
use tidings_app::i18n::Tr;

/// Attempts one address may make at once, then one more every few seconds.
const BURST: u32 = 10;
const REFILL: Duration = Duration::from_secs(6);

pub type SignInLimit = GovernorLayer<PeerIpKeyExtractor, NoOpMiddleware, Body>;

pub fn sign_in() -> SignInLimit {
    let mut builder = GovernorConfigBuilder::default();
    builder.period(REFILL).burst_size(BURST);
    let config = builder.finish().unwrap_or_default();
    forget_idle_addresses(&config);
    GovernorLayer::new(config).error_handler(refused)
}

/// Drops the state of addresses that have been quiet for a while, once a minute, for as
/// long as the router that holds the limit lives.
fn forget_idle_addresses(config: &tower_governor::governor::GovernorConfig<PeerIpKeyExtractor, NoOpMiddleware>) {
    let limiter = std::sync::Arc::downgrade(config.limiter());
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                match limiter.upgrade() {
                    Some(limiter) => limiter.retain_recent(),
                    None => break,
                }
            }
        });
    }
}

fn refused(error: GovernorError) -> Response<Body> {
    let tr = Tr::default();
    match error {
        GovernorError::TooManyRequests { wait_time, .. } => {
            let mut page = error_page(&tr, StatusCode::TOO_MANY_REQUESTS, tr.text("error-too-many"));
            if let Ok(value) = wait_time.to_string().parse() {
                page.headers_mut().insert(RETRY_AFTER, value);
            }
            page
        }
        other => {
            tracing::error!(error = %other, "sign-in rate limit could not tell the client's address");
            error_page(&tr, StatusCode::INTERNAL_SERVER_ERROR, tr.text("error-unexpected"))
        }
    }
}
