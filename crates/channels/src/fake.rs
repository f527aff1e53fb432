//! What the demo's stand-in providers (an SMS API and Slack, served on loopback by the
//! web crate) were asked to send: kept in memory, newest last, so that a newcomer sees
//! texts and chat messages go out without an account at either provider.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tidings_core::consent::Channel;

/// One caught text or chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaughtChat {
    pub number: u64,
    /// Unix milliseconds.
    pub at_ms: i64,
    pub channel: Channel,
    /// The phone number or the chat user.
    pub to: String,
    pub text: String,
}

#[derive(Debug)]
struct Kept {
    limit: usize,
    total: u64,
    items: VecDeque<CaughtChat>,
}

/// Keeps the latest `limit` messages; cheap to clone.
#[derive(Debug, Clone)]
pub struct ChatCatcher {
    kept: Arc<Mutex<Kept>>,
    /// Where the stand-ins answer, once started: the demo binds partners' channels there.
    base_url: Arc<std::sync::OnceLock<String>>,
}

impl ChatCatcher {
    pub fn new(limit: usize) -> Self {
        Self {
            kept: Arc::new(Mutex::new(Kept { limit: limit.max(1), total: 0, items: VecDeque::new() })),
            base_url: Arc::default(),
        }
    }

    /// Records where the stand-ins answer.
    pub fn served_at(&self, base_url: &str) {
        let _ = self.base_url.set(base_url.to_owned());
    }

    /// The stand-in push service's endpoint for one browser.
    pub fn push_endpoint(&self, browser: &str) -> Option<String> {
        self.base_url.get().map(|base| format!("{base}/push/{browser}"))
    }

    /// The stand-in receiver of Tidings' own webhooks.
    pub fn webhook_receiver(&self) -> Option<String> {
        self.base_url.get().map(|base| format!("{base}/webhooks/receiver"))
    }

    /// The stand-in Teams webhook for `channel`, and the stand-in Slack incoming webhook.
    pub fn webhook_urls(&self, channel: &str) -> Option<(String, String)> {
        self.base_url
            .get()
            .map(|base| (format!("{base}/teams/{channel}"), format!("{base}/slack/services/T0/B0/{channel}")))
    }

    /// Keeps one message; returns its number (from 1).
    pub fn keep(&self, channel: Channel, to: &str, text: &str) -> u64 {
        let at_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let Ok(mut kept) = self.kept.lock() else { return 0 };
        kept.total += 1;
        let number = kept.total;
        kept.items.push_back(CaughtChat { number, at_ms, channel, to: to.to_owned(), text: text.to_owned() });
        while kept.items.len() > kept.limit {
            kept.items.pop_front();
        }
        number
    }

    /// The latest `n`, newest first.
    pub fn latest(&self, n: usize) -> Vec<CaughtChat> {
        self.kept.lock().map(|k| k.items.iter().rev().take(n).cloned().collect()).unwrap_or_default()
    }

    /// How many were caught since the start.
    pub fn count(&self) -> u64 {
        self.kept.lock().map(|k| k.total).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_are_kept_newest_first() {
        let c = ChatCatcher::new(2);
        for to in ["a", "b", "c"] {
            c.keep(Channel::Sms, to, "hi");
        }
        let latest: Vec<(u64, String)> = c.latest(5).into_iter().map(|m| (m.number, m.to)).collect();
        assert_eq!(latest, [(3, "c".to_owned()), (2, "b".to_owned())]);
        assert_eq!(c.count(), 3);
    }
}
