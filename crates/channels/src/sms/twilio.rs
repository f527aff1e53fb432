//! A Twilio-compatible SMS API: `POST {base}/2010-04-01/Accounts/{sid}/Messages.json`
//! with HTTP basic auth (account SID and auth token) and a form body; the answer's `sid`
//! is the delivery's provider id, which the provider's status callbacks name later.
//! Callbacks and inbound texts are signed as Twilio signs them (`X-Twilio-Signature`:
//! HMAC-SHA1 with the auth token over the URL and the sorted form fields, base64).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use tidings_core::deliveries::Outcome;

use super::OutgoingSms;
use crate::outbound::Outbound;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

#[derive(Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    /// `https://api.twilio.com`, or a compatible provider's.
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sender: an E.164 number, or a messaging service SID (`MG...`).
    pub from: String,
    /// Where the provider reports each message's fate.
    pub status_callback: Option<String>,
}

impl std::fmt::Debug for TwilioConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioConfig")
            .field("base_url", &self.base_url)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .field("from", &self.from)
            .field("status_callback", &self.status_callback)
            .finish()
    }
}

/// Sends texts through one account.
#[derive(Debug)]
pub struct Twilio {
    config: TwilioConfig,
    http: Outbound,
}

#[derive(serde::Deserialize)]
struct Accepted {
    sid: String,
}

#[derive(serde::Deserialize)]
struct Refused {
    code: Option<i64>,
    message: Option<String>,
}

impl Twilio {
    pub fn new(config: TwilioConfig, http: Outbound) -> Self {
        Self { config, http }
    }

    pub fn config(&self) -> &TwilioConfig {
        &self.config
    }

    pub async fn send(&self, sms: &OutgoingSms) -> Outcome {
        let c = &self.config;
        let url = format!("{}/2010-04-01/Accounts/{}/Messages.json", c.base_url.trim_end_matches('/'), c.account_sid);
        let sender = if c.from.starts_with("MG") { "MessagingServiceSid" } else { "From" };
        let mut form = vec![("To", sms.to.as_str()), (sender, c.from.as_str()), ("Body", sms.body.as_str())];
        if let Some(callback) = &c.status_callback {
            form.push(("StatusCallback", callback));
        }
        let request = match self.http.post(&url) {
            Ok(r) => r.basic_auth(&c.account_sid, Some(&c.auth_token)).form(&form),
            Err(e) => return e.from_provider(),
        };
        let answer = match self.http.execute(request).await {
            Ok(a) => a,
            Err(e) => return e.from_provider(),
        };
        if answer.status.is_success() {
            return match serde_json::from_str::<Accepted>(&answer.body) {
                Ok(a) => Outcome::Sent { provider_id: Some(a.sid) },
                Err(_) => Outcome::Sent { provider_id: None },
            };
        }
        let why = serde_json::from_str::<Refused>(&answer.body).ok().and_then(|r| match (r.code, r.message) {
            (Some(code), Some(m)) => Some(format!("error {code}: {m}")),
            (None, Some(m)) => Some(m),
            _ => None,
        });
        answer.failure(why)
    }
}

/// What a status callback says of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryReport {
    /// The carrier confirmed it reached the phone.
    Delivered,
    /// It will not arrive: the provider's status and error code.
    Failed(String),
    /// Still on its way (queued, sending, sent): nothing to record.
    Underway,
}

impl DeliveryReport {
    /// Reads `MessageStatus` and `ErrorCode` from a callback's fields.
    pub fn of(fields: &[(String, String)]) -> Self {
        let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        match field("MessageStatus").or(field("SmsStatus")).unwrap_or_default() {
            "delivered" => Self::Delivered,
            status @ ("undelivered" | "failed") => Self::Failed(match field("ErrorCode").filter(|c| !c.is_empty()) {
                Some(code) => format!("{status} (error {code})"),
                None => status.to_owned(),
            }),
            _ => Self::Underway,
        }
    }
}

/// The signature Twilio puts in `X-Twilio-Signature` for a POST of `fields` to `url`.
pub fn signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    signed(auth_token, url, fields).map(|mac| STANDARD.encode(mac.finalize().into_bytes())).unwrap_or_default()
}

/// Whether `given` is the signature of a POST of `fields` to `url`, compared in constant time.
pub fn verify_signature(auth_token: &str, url: &str, fields: &[(String, String)], given: &str) -> bool {
    let Ok(given) = STANDARD.decode(given.trim()) else { return false };
    signed(auth_token, url, fields).is_some_and(|mac| mac.verify_slice(&given).is_ok())
}

/// The MAC over the URL and the fields sorted by name, each name followed by its value.
fn signed(auth_token: &str, url: &str, fields: &[(String, String)]) -> Option<HmacSha1> {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut mac = HmacSha1::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    Some(mac)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::outbound::OutboundPolicy;
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Twilio's own documented example (its signature validation snippets).
    #[test]
    fn signatures_match_twilios_documented_example() {
        let params = fields(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ]);
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let token = "12345";
        assert_eq!(signature(token, url, &params), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
        assert!(verify_signature(token, url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify_signature(token, url, &params, "HvWf1cFY/Q7PnoempGyD5oXAezc="));
        assert!(!verify_signature("other", url, &params, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
    }

    #[test]
    fn status_callbacks_read_as_delivered_failed_or_underway() {
        assert_eq!(DeliveryReport::of(&fields(&[("MessageStatus", "delivered")])), DeliveryReport::Delivered);
        assert_eq!(
            DeliveryReport::of(&fields(&[("MessageStatus", "undelivered"), ("ErrorCode", "30003")])),
            DeliveryReport::Failed("undelivered (error 30003)".into())
        );
        assert_eq!(DeliveryReport::of(&fields(&[("MessageStatus", "sent")])), DeliveryReport::Underway);
    }

    fn twilio(server: &MockServer) -> Twilio {
        let config = TwilioConfig {
            base_url: server.uri(),
            account_sid: "AC123".into(),
            auth_token: "secret".into(),
            from: "+15005550006".into(),
            status_callback: Some("https://tidings.example/hooks/sms/status".into()),
        };
        Twilio::new(config, Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap())
    }

    fn sms() -> OutgoingSms {
        OutgoingSms { to: "+4915112345678".into(), body: "MUST KNOW: Recall & return".into(), reference: "r1".into() }
    }

    #[tokio::test]
    async fn a_text_is_posted_as_twilio_documents_and_its_sid_kept() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/2010-04-01/Accounts/AC123/Messages.json"))
            // Basic auth of AC123:secret.
            .and(header("authorization", "Basic QUMxMjM6c2VjcmV0"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string_contains("To=%2B4915112345678"))
            .and(body_string_contains("From=%2B15005550006"))
            .and(body_string_contains("Body=MUST+KNOW%3A+Recall+%26+return"))
            .and(body_string_contains("StatusCallback=https%3A%2F%2Ftidings.example%2Fhooks%2Fsms%2Fstatus"))
            .respond_with(
                ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "SM42", "status": "queued"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        assert_eq!(twilio(&server).send(&sms()).await, Outcome::Sent { provider_id: Some("SM42".into()) });
    }

    #[tokio::test]
    async fn refusals_fail_with_the_providers_reason_and_limits_are_retried() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "code": 21211, "message": "The 'To' number +4915112345678 is not a valid phone number.", "status": 400
            })))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&server).await;
        let t = twilio(&server);
        assert_eq!(
            t.send(&sms()).await,
            Outcome::Permanent(
                "HTTP 400 Bad Request: error 21211: The 'To' number +4915112345678 is not a valid phone number.".into()
            )
        );
        assert!(matches!(t.send(&sms()).await, Outcome::RetryAfter { after_ms: 3000, .. }));
        assert!(matches!(t.send(&sms()).await, Outcome::Transient(_)));
    }

    #[tokio::test]
    async fn an_unreachable_provider_is_an_outage() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
        let config = TwilioConfig {
            base_url: format!("http://127.0.0.1:{port}"),
            account_sid: "AC1".into(),
            auth_token: "t".into(),
            from: "+15005550006".into(),
            status_callback: None,
        };
        let t = Twilio::new(config, Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap());
        assert!(matches!(t.send(&sms()).await, Outcome::ProviderDown { .. }));
    }
}
