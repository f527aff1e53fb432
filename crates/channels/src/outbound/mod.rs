//! Outbound HTTP for every channel that speaks it (SMS providers, Slack, Teams, web push,
//! webhooks): one client, with the address guard at save time and at connect time, no
//! redirects followed, no proxy taken from the environment, bounded waits and a bounded
//! answer, and one reading of what an HTTP answer means for a delivery.

mod guard;

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::RETRY_AFTER;
use reqwest::{RequestBuilder, StatusCode};
use tidings_core::deliveries::Outcome;

pub use guard::{OutboundPolicy, Refusal, refused_range};

/// The most of an answer's body kept: enough for a provider's error message.
const BODY_LIMIT: usize = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);

/// The client every HTTP channel sends through; cheap to clone.
#[derive(Clone, Debug)]
pub struct Outbound {
    client: reqwest::Client,
    policy: OutboundPolicy,
}

/// An HTTP answer, read.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    /// `Retry-After`, in seconds or as a date.
    pub retry_after: Option<Duration>,
    pub body: String,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoAnswer {
    /// The URL or the address it resolved to is refused: never worth trying again.
    Refused(String),
    /// No connection could be made (refused, unreachable, TLS failed): nothing was sent.
    Connect(String),
    /// Connected and sent, then the answer never came: it may have arrived.
    Lost(String),
}

/// Makes ring the process's TLS provider for every `reqwest::Client`, which reqwest built
/// without one (to keep aws-lc-rs, a C build, out) requires before any client is built,
/// this crate's or another's in the same process. Calling it again does nothing.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl Outbound {
    pub fn new(policy: OutboundPolicy) -> Result<Self, String> {
        install_crypto_provider();
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS set-up: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(Arc::new(Guarded(policy)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(TIMEOUT)
            .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client set-up: {e}"))?;
        Ok(Self { client, policy })
    }

    pub fn policy(&self) -> OutboundPolicy {
        self.policy
    }

    /// A POST to `url`, if Tidings may send there.
    pub fn post(&self, url: &str) -> Result<RequestBuilder, NoAnswer> {
        let url = self.policy.check_url(url).map_err(|r| NoAnswer::Refused(format!("{}: {r}", redact(url))))?;
        Ok(self.client.post(url))
    }

    /// A GET of `url`, if Tidings may send there.
    pub fn get(&self, url: &str) -> Result<RequestBuilder, NoAnswer> {
        let url = self.policy.check_url(url).map_err(|r| NoAnswer::Refused(format!("{}: {r}", redact(url))))?;
        Ok(self.client.get(url))
    }

    /// Sends the request and reads the answer.
    pub async fn execute(&self, request: RequestBuilder) -> Result<Answer, NoAnswer> {
        let mut response = request.send().await.map_err(|e| no_answer(&e))?;
        let status = response.status();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| NoAnswer::Lost(e.to_string()))? {
            let room = BODY_LIMIT.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if room <= chunk.len() {
                break;
            }
        }
        Ok(Answer { status, retry_after, body: String::from_utf8_lossy(&body).into_owned() })
    }
}

impl Answer {
    /// What a refused answer means for the delivery: 429, 503 and other 5xx are worth
    /// trying again (not before `Retry-After`), 408 too; a redirect is not followed; any
    /// other 4xx is the request's fault and fails for good. `what` names the provider's
    /// reason, if it gave one, for the delivery's record.
    pub fn failure(&self, what: Option<String>) -> Outcome {
        let detail = what.unwrap_or_else(|| snippet(&self.body));
        let reason =
            if detail.is_empty() { format!("HTTP {}", self.status) } else { format!("HTTP {}: {detail}", self.status) };
        let code = self.status.as_u16();
        match (code, self.retry_after) {
            (429 | 503, Some(after)) => Outcome::RetryAfter { reason, after_ms: after.as_millis() as u64 },
            (429 | 408 | 500..=599, _) => Outcome::Transient(reason),
            (300..=399, _) => Outcome::Permanent(format!("{reason} (a redirect, which Tidings does not follow)")),
            _ => Outcome::Permanent(reason),
        }
    }
}

impl NoAnswer {
    /// What it means for a delivery to a provider's own API: when the provider cannot be
    /// reached at all, the channel pauses (its circuit breaker) without spending attempts.
    pub fn from_provider(self) -> Outcome {
        match self {
            Self::Refused(r) => Outcome::Permanent(r),
            Self::Connect(r) => Outcome::ProviderDown { reason: r, retry_after_ms: 0 },
            Self::Lost(r) => Outcome::Unknown(r),
        }
    }

    /// What it means for a delivery to an endpoint someone set up (a webhook, a Teams or
    /// Slack channel's URL): one dead endpoint is that endpoint's failure, not the
    /// channel's, so it is retried like any transient failure.
    pub fn from_endpoint(self) -> Outcome {
        match self {
            Self::Refused(r) => Outcome::Permanent(r),
            Self::Connect(r) => Outcome::Transient(r),
            Self::Lost(r) => Outcome::Unknown(r),
        }
    }
}

fn no_answer(e: &reqwest::Error) -> NoAnswer {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(refusal) = s.downcast_ref::<Refusal>() {
            return NoAnswer::Refused(refusal.to_string());
        }
        source = s.source();
    }
    let text = error_text(e);
    if e.is_connect() || e.is_builder() { NoAnswer::Connect(text) } else { NoAnswer::Lost(text) }
}

/// The error with its causes, minus the URL's secret path.
fn error_text(e: &reqwest::Error) -> String {
    let mut parts = vec![match e.url() {
        Some(url) => e.to_string().replace(url.as_str(), &redact(url.as_str())),
        None => e.to_string(),
    }];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// A URL as it may be logged: webhook URLs carry their secret in the path, so only the
/// scheme and host are kept.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => format!("{}://{}/...", u.scheme(), u.host_str().unwrap_or("")),
        Err(_) => "the URL".to_owned(),
    }
}

fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}...", &one_line[..at]),
        None => one_line,
    }
}

/// `Retry-After` as seconds, or as an HTTP date from now; at most an hour.
fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = httpdate(value)?;
            at.duration_since(std::time::SystemTime::now()).unwrap_or_default()
        }
    };
    Some(wait.min(Duration::from_secs(3600)))
}

fn httpdate(value: &str) -> Option<std::time::SystemTime> {
    let parsed = jiff::fmt::rfc2822::parse(value).ok()?;
    let millis = u64::try_from(parsed.timestamp().as_millisecond()).ok()?;
    Some(std::time::UNIX_EPOCH + Duration::from_millis(millis))
}

/// The system's resolver, with every answer checked: a name that resolves to a refused
/// address is refused when the connection is made, whatever it resolved to when saved.
struct Guarded(OutboundPolicy);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| Box::new(Refusal::Unresolved(host.clone())) as Box<dyn std::error::Error + Send + Sync>)?
                .collect();
            let (allowed, refused): (Vec<_>, Vec<_>) = found.into_iter().partition(|a| policy.check_ip(a.ip()).is_ok());
            if allowed.is_empty() {
                let list: Vec<String> = refused.iter().map(|a| a.ip().to_string()).collect();
                return Err(Box::new(Refusal::ResolvesInside(list.join(", "))) as Box<_>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn answer(code: u16, retry: Option<u64>) -> Outcome {
        Answer {
            status: StatusCode::from_u16(code).unwrap_or_default(),
            retry_after: retry.map(Duration::from_secs),
            body: "nope".into(),
        }
        .failure(None)
    }

    #[test]
    fn answers_map_to_retry_later_or_fail_for_good() {
        assert_eq!(
            answer(429, Some(7)),
            Outcome::RetryAfter { reason: "HTTP 429 Too Many Requests: nope".into(), after_ms: 7000 }
        );
        assert_eq!(
            answer(503, Some(2)),
            Outcome::RetryAfter { reason: "HTTP 503 Service Unavailable: nope".into(), after_ms: 2000 }
        );
        assert!(matches!(answer(429, None), Outcome::Transient(_)));
        assert!(matches!(answer(500, None), Outcome::Transient(_)));
        assert!(matches!(answer(502, None), Outcome::Transient(_)));
        assert!(matches!(answer(400, None), Outcome::Permanent(ref r) if r == "HTTP 400 Bad Request: nope"));
        assert!(matches!(answer(404, None), Outcome::Permanent(_)));
        assert!(matches!(answer(302, None), Outcome::Permanent(ref r) if r.contains("redirect")));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("soon"), None);
    }

    #[tokio::test]
    async fn loopback_is_refused_at_connect_time_unless_tests_allow_it() {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
        // A name, so the check happens after DNS, at connect time.
        let by_name = server.uri().replace("127.0.0.1", "localhost");

        let production = Outbound::new(OutboundPolicy::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(production.post(&server.uri()), Err(NoAnswer::Refused(_))));
        let unchecked = production.client.post(by_name.as_str());
        let refused = production.execute(unchecked).await;
        assert!(matches!(refused, Err(NoAnswer::Refused(ref r)) if r.contains("resolves only to")), "{refused:?}");

        let tests = Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap_or_else(|e| panic!("{e}"));
        let request = tests.post(&by_name).unwrap_or_else(|e| panic!("{e:?}"));
        let ok = tests.execute(request).await.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.status, StatusCode::OK);
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(307).insert_header("location", "http://169.254.169.254/"))
            .mount(&server)
            .await;
        let tests = Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap_or_else(|e| panic!("{e}"));
        let request = tests.post(&server.uri()).unwrap_or_else(|e| panic!("{e:?}"));
        let answer = tests.execute(request).await.unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(answer.status.as_u16(), 307);
        assert!(matches!(answer.failure(None), Outcome::Permanent(_)));
        assert_eq!(server.received_requests().await.map(|r| r.len()), Some(1));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_connect_failure() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let port = closed.unwrap_or_else(|e| panic!("{e}"));
        let tests = Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap_or_else(|e| panic!("{e}"));
        let request = tests.post(&format!("http://127.0.0.1:{port}/")).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(matches!(tests.execute(request).await, Err(NoAnswer::Connect(_))));
    }
}
