//! Signed webhooks as the Standard Webhooks specification has them
//! (standardwebhooks.com): every request carries `webhook-id` (the same on every retry, so
//! a receiver drops repeats), `webhook-timestamp` (unix seconds) and `webhook-signature`
//! (`v1,` then the base64 HMAC-SHA256 of `id.timestamp.body` under the endpoint's secret,
//! which is shown to its owner as `whsec_` and the base64 of its bytes).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};

use tidings_core::deliveries::Outcome;

use crate::outbound::{NoAnswer, Outbound};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const PREFIX: &str = "whsec_";

/// An endpoint's signing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a webhook secret: write whsec_ then base64 (24 to 64 bytes)")]
pub struct SecretError;

impl Secret {
    /// A new random secret of 32 bytes.
    pub fn generate() -> Self {
        let mut bytes = vec![0u8; 32];
        let _ = getrandom::fill(&mut bytes);
        Self(bytes)
    }

    /// `whsec_...`, as its owner copies it.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text.trim().strip_prefix(PREFIX).ok_or(SecretError)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| SecretError)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(SecretError);
        }
        Ok(Self(bytes))
    }

    /// As its owner copies it: `whsec_` and the base64 of its bytes.
    pub fn reveal(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `webhook-signature` header of a request: `v1,` and the signature.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.0) else { return String::new() };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

/// The three headers of one signed request.
pub fn headers(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> [(&'static str, String); 3] {
    [
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", secret.sign(id, timestamp, body)),
    ]
}

/// What an endpoint made of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx status.
    Delivered(u16),
    /// 410 Gone: the endpoint says it will never take another; it is disabled.
    Gone,
    /// Any other status, or no answer: tried again on the schedule.
    Retry { status: Option<u16>, reason: String },
    /// The address guard refused the URL: never sent.
    Refused(String),
}

/// Sends signed requests to endpoints through the guarded client; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sender {
    http: Outbound,
}

impl Sender {
    pub fn new(http: Outbound) -> Self {
        Self { http }
    }

    /// Checks an endpoint URL as it is saved.
    pub fn check_url(&self, url: &str) -> Result<String, String> {
        self.http.policy().check_url(url).map(|u| u.to_string()).map_err(|r| format!("the endpoint URL {r}"))
    }

    /// POSTs `body` as JSON, signed for `id` at `timestamp` (unix seconds).
    pub async fn send(&self, url: &str, secret: &Secret, id: &str, timestamp: i64, body: &str) -> Answer {
        let mut request = match self.http.post(url) {
            Ok(r) => r.header("content-type", "application/json").body(body.to_owned()),
            Err(e) => return Answer::Refused(format!("{e:?}")),
        };
        for (name, value) in headers(secret, id, timestamp, body.as_bytes()) {
            request = request.header(name, value);
        }
        match self.http.execute(request).await {
            Ok(a) if a.status.is_success() => Answer::Delivered(a.status.as_u16()),
            Ok(a) if a.status.as_u16() == 410 => Answer::Gone,
            Ok(a) => {
                let reason = match a.failure(None) {
                    Outcome::Permanent(r) | Outcome::Transient(r) | Outcome::RetryAfter { reason: r, .. } => r,
                    other => format!("{other:?}"),
                };
                Answer::Retry { status: Some(a.status.as_u16()), reason }
            }
            Err(NoAnswer::Refused(r)) => Answer::Refused(r),
            Err(NoAnswer::Connect(r) | NoAnswer::Lost(r)) => Answer::Retry { status: None, reason: r },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The receiver side is the specification's own Rust library, sharing no code with
    /// this signer (it computes HMAC-SHA256 with another crate).
    #[test]
    fn signatures_verify_with_the_standard_webhooks_library() {
        let secret = Secret::generate();
        let body = br#"{"type":"message.released","data":{"id":"01"}}"#;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let mut map = http::HeaderMap::new();
        for (name, value) in headers(&secret, "msg_2Kx", now, body) {
            map.insert(name, value.parse().unwrap());
        }
        let receiver = standardwebhooks::Webhook::new(&secret.reveal()).unwrap();
        assert!(receiver.verify(body, &map).is_ok());
        assert!(receiver.verify(br#"{"type":"message.released","data":{"id":"02"}}"#, &map).is_err());
        let other = standardwebhooks::Webhook::new(&Secret::generate().reveal()).unwrap();
        assert!(other.verify(body, &map).is_err());
        // The library signs the same bytes the same way.
        let theirs = receiver.sign("msg_2Kx", now, body).unwrap();
        assert_eq!(theirs, secret.sign("msg_2Kx", now, body));
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let secret = Secret::generate();
        assert_eq!(Secret::parse(&secret.reveal()).unwrap(), secret);
        for bad in ["", "whsec_", "whsec_not base64!", "sk_abc", "whsec_c2hvcnQ="] {
            assert_eq!(Secret::parse(bad), Err(SecretError), "{bad}");
        }
    }
}
