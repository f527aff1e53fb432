//! Posts to a partner's shared channel: a Microsoft Teams channel through a Teams
//! Workflows webhook (an Adaptive Card) or a Slack channel through an incoming webhook
//! (Block Kit with a plain-text fallback). A partner's admin or the vendor's staff saves
//! the webhook URL (a binding); every post is checked by the address guard, and each
//! webhook is posted to no faster than its service takes (Slack: about one message a
//! second per channel; Teams workflows: a few requests a second).

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{Value, json};
use tidings_core::consent::Channel;
use tidings_core::deliveries::Outcome;
use tidings_core::messages::{Message, Rendered};

use crate::outbound::{Outbound, Refusal};
use crate::{slack, teams};

/// A message laid out for a partner's channel, once per text.
#[derive(Debug, Clone)]
pub enum PostLayout {
    Teams(teams::Layout),
    Slack(slack::Layout),
}

impl PostLayout {
    /// The layout for `channel`; `None` for a channel that takes no partner posts.
    pub fn new(channel: Channel, message: &Message, rendered: Rendered) -> Option<Self> {
        match channel {
            Channel::Teams => Some(Self::Teams(teams::Layout::new(message, rendered))),
            Channel::Slack => Some(Self::Slack(slack::Layout::new(message, rendered))),
            _ => None,
        }
    }

    /// The webhook request's body: `open` opens the message in the portal (each member
    /// signs in there and acknowledges it), `due_at` is the acknowledgment's due time.
    pub fn body(&self, open: &str, due_at: Option<&str>) -> Value {
        match self {
            Self::Teams(l) => l.card(open, due_at),
            Self::Slack(l) => {
                let (blocks, text) = l.fill(open, due_at);
                json!({"text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false})
            }
        }
    }
}

/// The channels a partner can bind a shared channel on.
pub const POSTED: [Channel; 2] = [Channel::Teams, Channel::Slack];

/// Whether `channel` takes partner posts.
pub fn takes_posts(channel: Channel) -> bool {
    POSTED.contains(&channel)
}

/// Sends posts to partners' webhooks; cheap to clone.
#[derive(Clone, Debug)]
pub struct ChannelPoster {
    http: Outbound,
    slack: Arc<DefaultKeyedRateLimiter<String>>,
    teams: Arc<DefaultKeyedRateLimiter<String>>,
}

impl ChannelPoster {
    pub fn new(http: Outbound) -> Self {
        let per_second = |n: u32| Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            http,
            slack: Arc::new(RateLimiter::keyed(per_second(1))),
            teams: Arc::new(RateLimiter::keyed(per_second(4))),
        }
    }

    /// Checks a webhook URL as it is saved: it must be one Tidings may send to, and look
    /// like the service's (a Slack incoming webhook is `https://hooks.slack.com/...`;
    /// Teams workflow URLs live on several Microsoft hosts, so any https URL is taken).
    pub fn check_url(&self, channel: Channel, url: &str) -> Result<String, String> {
        if !takes_posts(channel) {
            return Err(format!("{channel} takes no channel posts; Teams and Slack do"));
        }
        let parsed = self.http.policy().check_url(url).map_err(|r: Refusal| format!("the webhook URL {r}"))?;
        if channel == Channel::Slack
            && parsed.scheme() == "https"
            && parsed.host_str().is_some_and(|h| h.ends_with("slack.com"))
            && !parsed.path().starts_with("/services/")
        {
            return Err("a Slack incoming webhook URL looks like https://hooks.slack.com/services/...".into());
        }
        Ok(parsed.to_string())
    }

    /// Posts `body` to the webhook at `url`: a 2xx answer is sent; Slack's and Teams'
    /// refusals (a removed channel, a deleted workflow: 4xx) fail for good with their
    /// reason; 429 and 5xx come back later, not before `Retry-After`.
    pub async fn post(&self, channel: Channel, url: &str, body: &Value) -> Outcome {
        let limiter = if channel == Channel::Slack { &self.slack } else { &self.teams };
        limiter.until_key_ready(&url.to_owned()).await;
        let request = match self.http.post(url) {
            Ok(r) => r.json(body),
            Err(e) => return e.from_endpoint(),
        };
        match self.http.execute(request).await {
            Ok(answer) if answer.status.is_success() => Outcome::Sent { provider_id: None },
            Ok(answer) => answer.failure(None),
            Err(e) => e.from_endpoint(),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::outbound::OutboundPolicy;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn poster(allow_loopback: bool) -> ChannelPoster {
        ChannelPoster::new(Outbound::new(OutboundPolicy { allow_loopback }).unwrap())
    }

    #[test]
    fn webhook_urls_are_checked_as_they_are_saved() {
        let p = poster(false);
        assert!(p.check_url(Channel::Teams, "https://prod-01.westeurope.logic.azure.com/workflows/1").is_ok());
        assert!(p.check_url(Channel::Slack, "https://hooks.slack.com/services/T1/B2/x").is_ok());
        let refused = [
            (Channel::Slack, "https://hooks.slack.com/api/chat.postMessage", "looks like"),
            (Channel::Teams, "http://example.com/hook", "https://"),
            (Channel::Teams, "https://10.0.0.5/hook", "private"),
            (Channel::Teams, "https://169.254.169.254/latest", "link-local"),
            (Channel::Slack, "https://127.0.0.1/services/x", "loopback"),
            (Channel::Email, "https://example.com/hook", "no channel posts"),
        ];
        for (channel, url, why) in refused {
            let e = p.check_url(channel, url).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
    }

    #[tokio::test]
    async fn teams_and_slack_answers_become_outcomes() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/teams"))
            .and(header("content-type", "application/json"))
            .respond_with(ResponseTemplate::new(202))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/slack-gone"))
            .respond_with(ResponseTemplate::new(404).set_body_string("channel_not_found"))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/busy"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
            .mount(&server)
            .await;
        Mock::given(method("POST")).and(path("/down")).respond_with(ResponseTemplate::new(502)).mount(&server).await;
        let p = poster(true);
        let body = json!({"text": "hi"});
        let at = |p: &str| format!("{}/{p}", server.uri());
        assert_eq!(p.post(Channel::Teams, &at("teams"), &body).await, Outcome::Sent { provider_id: None });
        assert_eq!(
            p.post(Channel::Slack, &at("slack-gone"), &body).await,
            Outcome::Permanent("HTTP 404 Not Found: channel_not_found".into())
        );
        assert!(matches!(p.post(Channel::Teams, &at("busy"), &body).await, Outcome::RetryAfter { after_ms: 7000, .. }));
        assert!(matches!(p.post(Channel::Teams, &at("down"), &body).await, Outcome::Transient(_)));
        let sent: Value = serde_json::from_slice(&server.received_requests().await.unwrap()[0].body).unwrap();
        assert_eq!(sent, body);
    }

    #[tokio::test]
    async fn a_guarded_client_never_posts_inside() {
        let p = poster(false);
        let outcome = p.post(Channel::Teams, "http://127.0.0.1:9/hook", &json!({})).await;
        assert!(matches!(outcome, Outcome::Permanent(ref r) if r.contains("https")), "{outcome:?}");
    }
}
