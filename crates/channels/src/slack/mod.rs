//! Slack direct messages through a bot token: the member's Slack user is found by their
//! email address (`users.lookupByEmail`, remembered for a while, as that method allows
//! about fifty calls a minute), then `chat.postMessage` sends Block Kit with a plain-text
//! fallback to that user. A member whose address has no Slack user is recorded as such
//! (the delivery is suppressed with that reason), not failed silently.

pub mod blocks;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;
use tidings_core::deliveries::Outcome;

pub use blocks::Layout;

use crate::outbound::{Answer, Outbound};

/// How long a found user, and a missing one, is remembered.
const FOUND_FOR: Duration = Duration::from_secs(24 * 3600);
const MISSING_FOR: Duration = Duration::from_secs(3600);

#[derive(Clone, PartialEq, Eq)]
pub struct SlackConfig {
    /// `https://slack.com/api`.
    pub api_url: String,
    /// A bot token (`xoxb-...`) with `chat:write` and `users:read.email`.
    pub bot_token: String,
}

impl std::fmt::Debug for SlackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackConfig").field("api_url", &self.api_url).field("bot_token", &"[redacted]").finish()
    }
}

/// One member's direct message.
#[derive(Debug, Clone, PartialEq)]
pub struct OutgoingSlack {
    /// The member's email address, by which their Slack user is found.
    pub email: String,
    pub blocks: Vec<Value>,
    /// The plain-text fallback.
    pub text: String,
    pub reference: String,
}

#[derive(Debug)]
pub struct SlackBot {
    config: SlackConfig,
    http: Outbound,
    users: Mutex<HashMap<String, (Option<String>, Instant)>>,
}

/// What a Web API method answered: Slack answers 200 with `ok: false` for most errors.
enum Called {
    Ok(Value),
    Failed(String),
    Other(Outcome),
}

impl SlackBot {
    pub fn new(config: SlackConfig, http: Outbound) -> Self {
        Self { config, http, users: Mutex::default() }
    }

    pub async fn send(&self, message: &OutgoingSlack) -> Outcome {
        let user = match self.user(&message.email).await {
            Ok(Some(user)) => user,
            Ok(None) => return Outcome::Suppressed(format!("no Slack user has the address {}", message.email)),
            Err(outcome) => return outcome,
        };
        let body = serde_json::json!({
            "channel": user,
            "text": message.text,
            "blocks": message.blocks,
            "unfurl_links": false,
            "unfurl_media": false,
        });
        match self.call("chat.postMessage", |r| r.json(&body)).await {
            Called::Ok(answer) => Outcome::Sent { provider_id: answer["ts"].as_str().map(str::to_owned) },
            Called::Failed(error) => match error.as_str() {
                "ratelimited" => Outcome::RetryAfter { reason: "Slack: ratelimited".into(), after_ms: 1000 },
                "channel_not_found" | "user_not_found" | "user_disabled" | "cannot_dm_bot" | "is_archived" => {
                    Outcome::Permanent(format!("Slack: {error}"))
                }
                _ => Outcome::Transient(format!("Slack: {error}")),
            },
            Called::Other(outcome) => outcome,
        }
    }

    /// The Slack user with this address, from memory or from Slack.
    async fn user(&self, email: &str) -> Result<Option<String>, Outcome> {
        let key = email.to_lowercase();
        if let Ok(users) = self.users.lock()
            && let Some((user, at)) = users.get(&key)
        {
            let keep = if user.is_some() { FOUND_FOR } else { MISSING_FOR };
            if at.elapsed() < keep {
                return Ok(user.clone());
            }
        }
        let found = match self.call("users.lookupByEmail", |r| r.form(&[("email", email)])).await {
            Called::Ok(answer) => answer["user"]["id"].as_str().map(str::to_owned),
            Called::Failed(error) if error == "users_not_found" => None,
            Called::Failed(error) => return Err(Outcome::Transient(format!("Slack users.lookupByEmail: {error}"))),
            Called::Other(outcome) => return Err(outcome),
        };
        if let Ok(mut users) = self.users.lock() {
            users.insert(key, (found.clone(), Instant::now()));
        }
        Ok(found)
    }

    async fn call(
        &self,
        method: &str,
        body: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Called {
        let url = format!("{}/{method}", self.config.api_url.trim_end_matches('/'));
        let request = match self.http.post(&url) {
            Ok(r) => body(r.bearer_auth(&self.config.bot_token)),
            Err(e) => return Called::Other(e.from_provider()),
        };
        let answer = match self.http.execute(request).await {
            Ok(a) => a,
            Err(e) => return Called::Other(e.from_provider()),
        };
        if !answer.status.is_success() {
            return Called::Other(answer.failure(None));
        }
        read(&answer)
    }
}

fn read(answer: &Answer) -> Called {
    let Ok(value) = serde_json::from_str::<Value>(&answer.body) else {
        return Called::Other(Outcome::Transient("Slack answered with something other than JSON".into()));
    };
    if value["ok"].as_bool() == Some(true) {
        return Called::Ok(value);
    }
    let error = value["error"].as_str().unwrap_or("unknown_error").to_owned();
    // A token Slack refuses is the set-up's fault, not the member's: the channel pauses
    // (its circuit breaker) and deliveries wait, unspent, until it is fixed.
    if matches!(
        error.as_str(),
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired" | "missing_scope"
    ) {
        return Called::Other(Outcome::ProviderDown {
            reason: format!("Slack refused the bot token: {error}"),
            retry_after_ms: 0,
        });
    }
    Called::Failed(error)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::outbound::OutboundPolicy;
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn bot(server: &MockServer) -> SlackBot {
        let config = SlackConfig { api_url: server.uri(), bot_token: "xoxb-1".into() };
        SlackBot::new(config, Outbound::new(OutboundPolicy { allow_loopback: true }).unwrap())
    }

    fn dm(email: &str) -> OutgoingSlack {
        OutgoingSlack {
            email: email.into(),
            blocks: vec![serde_json::json!({"type": "section", "text": {"type": "mrkdwn", "text": "hi"}})],
            text: "Must know: hi".into(),
            reference: "r".into(),
        }
    }

    #[tokio::test]
    async fn a_member_is_found_by_email_once_and_messaged_with_blocks() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/users.lookupByEmail"))
            .and(header("authorization", "Bearer xoxb-1"))
            .and(body_string_contains("email=ana%40acme.example"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true, "user": {"id": "U42"}})),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/chat.postMessage"))
            .and(header("authorization", "Bearer xoxb-1"))
            .and(header("content-type", "application/json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true, "ts": "1700.1"})))
            .expect(2)
            .mount(&server)
            .await;
        let bot = bot(&server);
        assert_eq!(bot.send(&dm("ana@acme.example")).await, Outcome::Sent { provider_id: Some("1700.1".into()) });
        assert_eq!(bot.send(&dm("Ana@Acme.example")).await, Outcome::Sent { provider_id: Some("1700.1".into()) });
        let posted = server.received_requests().await.unwrap();
        let body: Value = serde_json::from_slice(&posted.last().unwrap().body).unwrap();
        assert_eq!((body["channel"].as_str(), body["text"].as_str()), (Some("U42"), Some("Must know: hi")));
        assert_eq!(body["blocks"][0]["type"], "section");
    }

    #[tokio::test]
    async fn no_slack_user_is_recorded_and_limits_and_bad_tokens_wait() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/users.lookupByEmail"))
            .and(body_string_contains("nobody"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": false, "error": "users_not_found"})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/users.lookupByEmail"))
            .and(body_string_contains("busy"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/users.lookupByEmail"))
            .and(body_string_contains("revoked"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": false, "error": "token_revoked"})),
            )
            .mount(&server)
            .await;
        let bot = bot(&server);
        assert_eq!(
            bot.send(&dm("nobody@acme.example")).await,
            Outcome::Suppressed("no Slack user has the address nobody@acme.example".into())
        );
        assert!(matches!(bot.send(&dm("busy@acme.example")).await, Outcome::RetryAfter { after_ms: 30_000, .. }));
        assert!(
            matches!(bot.send(&dm("revoked@acme.example")).await, Outcome::ProviderDown { ref reason, .. } if reason.contains("token_revoked"))
        );
    }
}
