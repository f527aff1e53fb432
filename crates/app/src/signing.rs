//! Signed tokens for links that leave Tidings (tracking, unsubscribe, acknowledgment) and
//! for member credentials: the payload travels in the token and an HMAC-SHA256 over the
//! purpose and the payload proves it came from this instance. A changed byte or a token
//! made for another purpose fails the check; nothing is looked up first, so a forged
//! link is refused before it can point anywhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use sha2::Sha256;
use tidings_core::{MemberId, MessageId, Timestamp};
use uuid::Uuid;

type HmacSha256 = hmac::Hmac<Sha256>;

/// The MAC is cut to 128 bits: enough against forgery, shorter links.
const TAG: usize = 16;

/// What a token is for; part of the signed bytes, so one purpose's token never passes as another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Open,
    Click,
    Unsubscribe,
    Acknowledge,
    /// The one link in a text message: it opens the message, and takes its acknowledgment.
    Text,
    Member,
}

impl TokenUse {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Open => b"open",
            Self::Click => b"click",
            Self::Unsubscribe => b"unsubscribe",
            Self::Acknowledge => b"acknowledge",
            Self::Text => b"text",
            Self::Member => b"member",
        }
    }
}

#[derive(Clone)]
pub struct Signer {
    key: Vec<u8>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A key for this process only (tests, or before the stored key is loaded).
    pub fn ephemeral() -> Self {
        let mut key = [0u8; 32];
        let _ = getrandom::fill(&mut key);
        Self::new(&key)
    }

    fn mac(&self, purpose: TokenUse, payload: &[u8]) -> Vec<u8> {
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(m) => m,
            Err(_) => unreachable_key(),
        };
        mac.update(purpose.tag());
        mac.update(&[0]);
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG].to_vec()
    }

    /// `payload.tag`, both base64url.
    pub fn sign(&self, purpose: TokenUse, payload: &[u8]) -> String {
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(self.mac(purpose, payload)))
    }

    /// The payload of a token made by [`Signer::sign`] for `purpose`, or `None`.
    pub fn verify(&self, purpose: TokenUse, token: &str) -> Option<Vec<u8>> {
        let (payload, tag) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(purpose.tag());
        mac.update(&[0]);
        mac.update(&payload);
        // Constant-time comparison of the truncated tag.
        mac.verify_truncated_left(&tag).ok()?;
        (tag.len() == TAG).then_some(payload)
    }

    /// A token naming one member's copy of one message.
    pub fn recipient_token(&self, purpose: TokenUse, message: MessageId, member: MemberId) -> String {
        self.sign(purpose, &recipient_bytes(message, member, &[]))
    }

    pub fn verify_recipient(&self, purpose: TokenUse, token: &str) -> Option<(MessageId, MemberId)> {
        let bytes = self.verify(purpose, token)?;
        (bytes.len() == 32).then(|| split_recipient(&bytes))
    }

    /// A tracked link: the exact target is inside the signed bytes, so it cannot be changed.
    pub fn click_token(&self, message: MessageId, member: MemberId, url: &str) -> String {
        self.sign(TokenUse::Click, &recipient_bytes(message, member, url.as_bytes()))
    }

    pub fn verify_click(&self, token: &str) -> Option<(MessageId, MemberId, String)> {
        let bytes = self.verify(TokenUse::Click, token)?;
        if bytes.len() <= 32 {
            return None;
        }
        let (message, member) = split_recipient(&bytes[..32]);
        let url = String::from_utf8(bytes[32..].to_vec()).ok()?;
        Some((message, member, url))
    }

    /// A member's credential for the inbox API, valid until `expires_at`.
    pub fn member_token(&self, member: MemberId, expires_at: Timestamp) -> String {
        let mut bytes = member.as_uuid().as_bytes().to_vec();
        bytes.extend_from_slice(&expires_at.as_millis().to_be_bytes());
        self.sign(TokenUse::Member, &bytes)
    }

    /// The member a token names, if it is genuine and not expired at `now`.
    pub fn verify_member(&self, token: &str, now: Timestamp) -> Option<MemberId> {
        let bytes = self.verify(TokenUse::Member, token)?;
        if bytes.len() != 24 {
            return None;
        }
        let mut id = [0u8; 16];
        id.copy_from_slice(&bytes[..16]);
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&bytes[16..]);
        (Timestamp::from_millis(i64::from_be_bytes(exp)) > now).then(|| MemberId::from_uuid(Uuid::from_bytes(id)))
    }
}

fn unreachable_key() -> ! {
    // HMAC takes keys of any length; this cannot happen.
    panic!("HMAC refused its key")
}

fn recipient_bytes(message: MessageId, member: MemberId, rest: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(32 + rest.len());
    bytes.extend_from_slice(message.as_uuid().as_bytes());
    bytes.extend_from_slice(member.as_uuid().as_bytes());
    bytes.extend_from_slice(rest);
    bytes
}

fn split_recipient(bytes: &[u8]) -> (MessageId, MemberId) {
    let mut a = [0u8; 16];
    let mut b = [0u8; 16];
    a.copy_from_slice(&bytes[..16]);
    b.copy_from_slice(&bytes[16..32]);
    (MessageId::from_uuid(Uuid::from_bytes(a)), MemberId::from_uuid(Uuid::from_bytes(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_token_or_another_purpose_fails() {
        let signer = Signer::new(b"k");
        let (message, member) = (MessageId::new(), MemberId::new());
        let link = signer.click_token(message, member, "https://vendor.example/recall");
        assert_eq!(signer.verify_click(&link), Some((message, member, "https://vendor.example/recall".to_owned())));
        let other = signer.click_token(message, member, "https://evil.example/");
        let (payload, _) = other.split_once('.').unwrap_or_default();
        let (_, tag) = link.split_once('.').unwrap_or_default();
        assert_eq!(signer.verify_click(&format!("{payload}.{tag}")), None, "another URL under the old tag");
        let unsubscribe = signer.recipient_token(TokenUse::Unsubscribe, message, member);
        assert_eq!(signer.verify_recipient(TokenUse::Acknowledge, &unsubscribe), None);
        assert_eq!(signer.verify_recipient(TokenUse::Unsubscribe, &unsubscribe), Some((message, member)));
        assert_eq!(Signer::new(b"other").verify_recipient(TokenUse::Unsubscribe, &unsubscribe), None);
        assert_eq!(signer.verify_click("garbage"), None);
    }

    #[test]
    fn member_tokens_expire() {
        let signer = Signer::new(b"k");
        let member = MemberId::new();
        let token = signer.member_token(member, Timestamp::from_millis(2_000));
        assert_eq!(signer.verify_member(&token, Timestamp::from_millis(1_999)), Some(member));
        assert_eq!(signer.verify_member(&token, Timestamp::from_millis(2_000)), None);
    }
}
