//! A provider that keeps what it is given instead of sending it: tests read what would
//! have gone out, and can make it answer as a failing provider would.

use std::sync::{Arc, Mutex};

use tidings_core::consent::Channel;
use tidings_core::deliveries::Outcome;

use crate::Payload;

/// One send the outbox kept.
#[derive(Debug, Clone)]
pub struct Sent {
    pub channel: Channel,
    pub payload: Payload,
}

/// Keeps every payload it is handed, answering with `answer` (accepted by default).
#[derive(Debug, Clone, Default)]
pub struct Outbox {
    sent: Arc<Mutex<Vec<Sent>>>,
    answer: Arc<Mutex<Option<Outcome>>>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on, answers every send with `outcome` instead of accepting it; kept sends
    /// are only those accepted.
    pub fn answer_with(&self, outcome: Option<Outcome>) {
        if let Ok(mut answer) = self.answer.lock() {
            *answer = outcome;
        }
    }

    /// Everything accepted so far, oldest first.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub(crate) fn keep(&self, channel: Channel, payload: Payload) -> Outcome {
        if let Some(answer) = self.answer.lock().ok().and_then(|a| a.clone()) {
            return answer;
        }
        let provider_id = payload.idempotency_key().to_owned();
        if let Ok(mut sent) = self.sent.lock() {
            sent.push(Sent { channel, payload });
        }
        Outcome::Sent { provider_id: Some(provider_id) }
    }
}
