//! Web push (RFC 8030) to members' browsers: the payload encrypted for each subscription
//! per RFC 8291 (aes128gcm), signed with the instance's VAPID key (RFC 8292), sent through
//! the guarded client. A subscription its push service answers 404 or 410 is gone and is
//! removed; a click on the notification opens the message in the portal (the service
//! worker reads `url` from the payload).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tidings_core::deliveries::Outcome;
use tidings_core::messages::{Importance, Message, Rendered};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike, ES256KeyPair};
use web_push_native::{Auth, WebPushBuilder};

use crate::chat::ChatText;
use crate::outbound::{NoAnswer, Outbound};

/// How long a push service keeps a notification for a browser that is offline.
const TTL: Duration = Duration::from_secs(2 * 86_400);
/// How long a VAPID signature is valid: RFC 8292 allows at most 24 hours, and push
/// services refuse a longer one.
const VAPID_VALID: Duration = Duration::from_secs(12 * 3_600);
/// A cached signature is signed again when less than this is left of it.
const VAPID_RENEW_BEFORE: Duration = Duration::from_secs(3_600);
/// The longest body shown in a notification.
const BODY_LIMIT: usize = 180;

/// The instance's VAPID key pair (P-256), kept in the database.
#[derive(Clone)]
pub struct VapidKey(Arc<ES256KeyPair>);

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VapidKey([redacted])")
    }
}

impl VapidKey {
    pub fn generate() -> Self {
        Self(Arc::new(ES256KeyPair::generate()))
    }

    /// From the stored secret scalar (base64url).
    pub fn from_stored(text: &str) -> Result<Self, String> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|e| format!("the stored VAPID key: {e}"))?;
        ES256KeyPair::from_bytes(&bytes).map(|k| Self(Arc::new(k))).map_err(|e| format!("the stored VAPID key: {e}"))
    }

    /// The secret scalar as stored (base64url).
    pub fn to_stored(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.to_bytes())
    }

    /// The public key browsers subscribe with (`applicationServerKey`): the uncompressed
    /// point, base64url.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.public_key().public_key().to_bytes_uncompressed())
    }
}

/// A browser's subscription, as its `PushSubscription.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The 16-byte authentication secret, base64url.
    pub auth: String,
}

impl Subscription {
    /// A subscription with fresh keys whose private half nobody keeps: for the demo's
    /// stand-in browsers, which show that a notification arrived, not what it says.
    pub fn stand_in(endpoint: String) -> Self {
        let secret =
            web_push_native::p256::SecretKey::random(&mut web_push_native::p256::elliptic_curve::rand_core::OsRng);
        let mut auth = [0u8; 16];
        let _ = getrandom::fill(&mut auth);
        Self {
            endpoint,
            p256dh: URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
        }
    }

    /// Checks the keys' shapes (a 65-byte uncompressed P-256 point, a 16-byte secret).
    pub fn check(&self) -> Result<(), String> {
        self.keys().map(|_| ())
    }

    fn keys(&self) -> Result<(web_push_native::p256::PublicKey, Auth), String> {
        let public = URL_SAFE_NO_PAD.decode(self.p256dh.trim()).map_err(|_| "keys.p256dh is not base64url")?;
        let public = web_push_native::p256::PublicKey::from_sec1_bytes(&public)
            .map_err(|_| "keys.p256dh is not a P-256 public key")?;
        let auth = URL_SAFE_NO_PAD.decode(self.auth.trim()).map_err(|_| "keys.auth is not base64url")?;
        let auth: [u8; 16] = auth.try_into().map_err(|_| "keys.auth must be 16 bytes")?;
        Ok((public, Auth::from(auth)))
    }
}

/// A message laid out for a notification, once per text.
#[derive(Debug, Clone)]
pub struct Layout(ChatText);

impl Layout {
    pub fn new(message: &Message, rendered: Rendered) -> Self {
        Self(ChatText::new(message, rendered))
    }

    pub fn rendered(&self) -> &Rendered {
        &self.0.rendered
    }

    /// The payload the service worker shows: `url` opens the message in the portal.
    pub fn fill(&self, url: &str, tag: &str) -> Vec<u8> {
        let (rendered, importance) = (&self.0.rendered, self.0.importance);
        let prefix = match importance {
            Importance::Critical => "Must know: ",
            Importance::Action => "Need to know: ",
            Importance::Info => "",
        };
        // The summary, else what to do next, else what changed.
        let mut body = if rendered.summary.trim().is_empty() {
            self.0.sections.iter().rev().map(|(_, text)| text.clone()).next().unwrap_or_default()
        } else {
            rendered.summary.clone()
        };
        if let Some((at, _)) = body.char_indices().nth(BODY_LIMIT) {
            body.truncate(at);
            body.push('…');
        }
        if self.0.acknowledgment {
            body.push_str(if body.is_empty() {
                "Please read and acknowledge."
            } else {
                " Please read and acknowledge."
            });
        }
        json!({
            "title": format!("{prefix}{}", rendered.title), "body": body, "url": url, "tag": tag,
            "requireInteraction": importance == Importance::Critical,
        })
        .to_string()
        .into_bytes()
    }

    /// How soon the push service should deliver it (RFC 8030 `Urgency`).
    pub fn urgency(&self) -> &'static str {
        match self.0.importance {
            Importance::Critical => "high",
            Importance::Action => "normal",
            Importance::Info => "low",
        }
    }
}

/// What a push service made of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Delivered,
    /// 404 or 410: the subscription is gone for good and is removed.
    Gone,
    /// Worth trying again (429, 5xx, no connection), not before `after` when given.
    Retry {
        reason: String,
        after_ms: u64,
    },
    Refused(String),
}

/// Sends notifications; cheap to clone.
#[derive(Clone, Debug)]
pub struct PushSender {
    http: Outbound,
    key: VapidKey,
    /// Who the push services may contact about this sender (`mailto:` or https).
    contact: String,
    /// The VAPID `Authorization` header per push service origin, and when it was signed:
    /// an ECDSA signature per notification cost a fifth of web push's CPU.
    signatures: Arc<std::sync::Mutex<std::collections::HashMap<String, (String, std::time::Instant)>>>,
}

impl PushSender {
    pub fn new(http: Outbound, key: VapidKey, contact: String) -> Self {
        Self { http, key, contact, signatures: Arc::default() }
    }

    /// The VAPID header for the push service at `endpoint`: signed for its origin, valid
    /// 12 hours, reused until an hour is left.
    fn vapid(&self, endpoint: &http::Uri) -> Result<String, String> {
        let origin = format!(
            "{}://{}",
            endpoint.scheme_str().unwrap_or_default(),
            endpoint.authority().map(http::uri::Authority::as_str).unwrap_or_default()
        );
        let now = std::time::Instant::now();
        let mut cache = self.signatures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((header, signed)) = cache.get(&origin)
            && now.duration_since(*signed) + VAPID_RENEW_BEFORE < VAPID_VALID
        {
            return Ok(header.clone());
        }
        let signature = web_push_native::vapid::VapidSignature::sign(endpoint, VAPID_VALID, &self.contact, &self.key.0)
            .map_err(|e| format!("the VAPID signature could not be made: {e}"))?;
        let header = signature.to_string();
        cache.insert(origin, (header.clone(), now));
        Ok(header)
    }

    pub fn key(&self) -> &VapidKey {
        &self.key
    }

    /// Checks a subscription as a browser gives it: its endpoint must be one Tidings may
    /// send to, and its keys well formed.
    pub fn check(&self, s: &Subscription) -> Result<(), String> {
        self.http.policy().check_url(&s.endpoint).map_err(|r| format!("endpoint {r}"))?;
        s.check()
    }

    /// Sends `body` to one subscription.
    pub async fn send(&self, s: &Subscription, body: &[u8], urgency: &str) -> Answer {
        let (public, auth) = match s.keys() {
            Ok(k) => k,
            Err(e) => return Answer::Refused(e),
        };
        let Ok(uri) = s.endpoint.parse::<http::Uri>() else {
            return Answer::Refused("the endpoint is not a URL".into());
        };
        let vapid = match self.vapid(&uri) {
            Ok(v) => v,
            Err(e) => return Answer::Refused(e),
        };
        let built = WebPushBuilder::new(uri, public, auth).with_valid_duration(TTL).build(body.to_vec());
        let request = match built {
            Ok(r) => r,
            Err(e) => return Answer::Refused(format!("the push request could not be made: {e}")),
        };
        let (parts, payload) = request.into_parts();
        let mut outgoing = match self.http.post(&s.endpoint) {
            Ok(r) => r.headers(parts.headers).header("authorization", vapid).header("urgency", urgency).body(payload),
            Err(e) => return Answer::Refused(format!("{e:?}")),
        };
        outgoing = outgoing.header("content-type", "application/octet-stream");
        match self.http.execute(outgoing).await {
            Ok(a) if a.status.is_success() => Answer::Delivered,
            Ok(a) if matches!(a.status.as_u16(), 404 | 410) => Answer::Gone,
            Ok(a) => match a.failure(None) {
                Outcome::RetryAfter { reason, after_ms } => Answer::Retry { reason, after_ms },
                Outcome::Transient(reason) => Answer::Retry { reason, after_ms: 0 },
                Outcome::Permanent(reason) => Answer::Refused(reason),
                other => Answer::Retry { reason: format!("{other:?}"), after_ms: 0 },
            },
            Err(NoAnswer::Refused(r)) => Answer::Refused(r),
            Err(NoAnswer::Connect(r) | NoAnswer::Lost(r)) => Answer::Retry { reason: r, after_ms: 0 },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::outbound::OutboundPolicy;
    use web_push_native::p256::SecretKey;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    /// A browser: its key pair and auth secret, and the subscription it would give.
    fn browser(endpoint: String) -> (SecretKey, [u8; 16], Subscription) {
        let secret = SecretKey::random(&mut web_push_native::p256::elliptic_curve::rand_core::OsRng);
        let auth = [7u8; 16];
        let p256dh = URL_SAFE_NO_PAD.encode(secret.public_key().to_sec1_bytes());
        (secret, auth, Subscription { endpoint, p256dh, auth: URL_SAFE_NO_PAD.encode(auth) })
    }

    /// The browser's side: the payload decrypts with the subscription's private key (RFC
    /// 8291) and reads back; the request carries a VAPID authorization for our key.
    #[tokio::test]
    async fn a_notification_is_encrypted_for_the_browser_and_signed_with_vapid() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/push/1"))
            .and(header("content-encoding", "aes128gcm"))
            .and(header("urgency", "high"))
            .respond_with(ResponseTemplate::new(201))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/push/gone"))
            .respond_with(ResponseTemplate::new(410))
            .mount(&server)
            .await;
        let key = VapidKey::generate();
        let sender = PushSender::new(
            Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap(),
            key.clone(),
            "mailto:ops@vendor.example".into(),
        );
        let (secret, auth, subscription) = browser(format!("{}/push/1", server.uri()));
        let body = br#"{"title":"Must know: Recall","url":"https://t.example/portal/messages/1"}"#;
        assert_eq!(sender.send(&subscription, body, "high").await, Answer::Delivered);
        let received = &server.received_requests().await.unwrap()[0];
        let plain = web_push_native::decrypt(received.body.clone(), &secret, &Auth::from(auth)).unwrap();
        assert_eq!(plain, body);
        let vapid = received.headers.get("authorization").unwrap().to_str().unwrap();
        assert!(vapid.starts_with("vapid t=") && vapid.contains(&format!("k={}", key.public_key())), "{vapid}");
        // The token verifies with the public key, names the push service's origin and the
        // contact, and expires within the 24 hours RFC 8292 allows.
        let token = vapid.trim_start_matches("vapid t=").split(',').next().unwrap();
        let claims = key
            .0
            .public_key()
            .verify_token::<web_push_native::jwt_simple::claims::NoCustomClaims>(token, None)
            .unwrap();
        let lifetime = claims.expires_at.unwrap().as_secs() - claims.issued_at.unwrap().as_secs();
        assert!(lifetime <= 24 * 3_600, "{lifetime} s");
        assert_eq!(claims.subject.as_deref(), Some("mailto:ops@vendor.example"));
        assert_eq!(claims.audiences.unwrap().into_string().unwrap(), "http://127.0.0.1");
        // A second notification to the same push service reuses the signature.
        assert_eq!(sender.send(&subscription, body, "high").await, Answer::Delivered);
        let again = &server.received_requests().await.unwrap()[1];
        assert_eq!(again.headers.get("authorization").unwrap().to_str().unwrap(), vapid);

        let (_, _, gone) = browser(format!("{}/push/gone", server.uri()));
        assert_eq!(sender.send(&gone, body, "low").await, Answer::Gone);
        let stored = VapidKey::from_stored(&key.to_stored()).unwrap();
        assert_eq!(stored.public_key(), key.public_key());
    }

    #[test]
    fn subscriptions_with_bad_keys_are_refused() {
        let (_, _, mut s) = browser("https://push.example/1".into());
        assert!(s.check().is_ok());
        s.auth = URL_SAFE_NO_PAD.encode([1u8; 8]);
        assert_eq!(s.check(), Err("keys.auth must be 16 bytes".into()));
        s.p256dh = "not a key".into();
        assert!(s.check().is_err());
    }
}
