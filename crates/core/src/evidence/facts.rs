//! What the evidence log records: one fact per leaf, written as JSON. The leaf's data is
//! the JSON's bytes exactly as stored, so nothing has to be re-serialised to check a
//! proof; the fields are there for people and for the audit, which holds each one to the
//! row it records.
//!
//! People appear only as commitments (SHA-256 over a secret salt and their id). The salt
//! lives beside the member in the ordinary tables; erasing the member deletes it, and then
//! nothing links a leaf to them, while every leaf and proof stays as it was.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::messages::Rendered;
use crate::{MessageId, Roles, Timestamp};

/// The version of the leaf format, written in every leaf.
pub const FORMAT: u8 = 1;

/// A commitment to a member or a partner: hex SHA-256 of a domain tag, the member's salt
/// and the id. The tag keeps a member's and a partner's commitments apart.
pub fn commitment(salt: &[u8; 32], what: Committed, id: Uuid) -> String {
    let digest = Sha256::new().chain_update(what.tag()).chain_update(salt).chain_update(id.as_bytes()).finalize();
    hex::encode(digest)
}

/// A commitment to where a request came from: the IP address and user agent are personal
/// data, so the leaf holds only this, which the member's salt opens (and erasure closes).
pub fn origin_commitment(salt: &[u8; 32], ip: Option<&str>, user_agent: Option<&str>) -> String {
    let mut hasher = Sha256::new().chain_update(b"tidings evidence origin\n").chain_update(salt);
    for part in [ip, user_agent] {
        match part {
            Some(text) => {
                hasher.update([1]);
                hasher.update((text.len() as u64).to_be_bytes());
                hasher.update(text.as_bytes());
            }
            None => hasher.update([0]),
        }
    }
    hex::encode(hasher.finalize())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    Member,
    Partner,
}

impl Committed {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Member => b"tidings evidence member\n",
            Self::Partner => b"tidings evidence partner\n",
        }
    }
}

/// How the person who acknowledged was signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// A portal session (password or a sign-in link).
    PortalSession,
    /// The signed link in a message sent to them (email, chat, SMS).
    MessageLink,
    /// The widget's token, issued by the vendor's own portal.
    WidgetToken,
    /// A member API token.
    MemberToken,
    /// The demo's story, acknowledging for its people.
    Demo,
}

/// Where the acknowledgment was given, each of which shows the whole text it binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Surface {
    /// The portal's pop-up for a must-know message.
    Popup,
    /// The portal's message page.
    MessagePage,
    /// The confirmation page an emailed (or chat, or SMS) link opens.
    LinkPage,
    /// The widget in the vendor's own portal.
    Widget,
    /// The API, for a vendor's own front end.
    Api,
    Demo,
}

/// One member's acknowledgment of exactly one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Acknowledged {
    pub message: MessageId,
    /// The message's version acknowledged (1 as released; leaves from before corrections
    /// existed hold none and mean 1).
    #[serde(default = "first_version")]
    pub version: u32,
    /// SHA-256 of the exact rendered text the member was shown (its language and
    /// personalization), which the evidence pack carries.
    pub content_hash: String,
    pub locale: String,
    /// The statement the member confirmed.
    pub statement: String,
    pub member: String,
    pub partner: String,
    /// The roles the member held at that moment.
    pub roles: Roles,
    pub authentication: Authentication,
    pub surface: Surface,
    pub at: Timestamp,
    /// A commitment to the IP address and user agent (`origin_commitment`).
    pub origin: String,
    /// The hash of the answers to the message's attestation form (`Answers::hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
}

fn first_version() -> u32 {
    1
}

/// A member opened a message to read it (in the portal, the widget or the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Read {
    pub message: MessageId,
    pub member: String,
    pub at: Timestamp,
    pub origin: String,
}

/// A member's consent given or withdrawn (email, SMS, the terms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentChanged {
    /// The consent record's id.
    pub record: Uuid,
    pub member: String,
    pub purpose: String,
    pub granted: bool,
    pub source: String,
    pub lawful_basis: String,
    pub text_version: String,
    /// `member`, or the staff member's or token's name.
    pub recorded_by: String,
    pub at: Timestamp,
}

/// A partner met its obligation on a must-know message: the acknowledgment that
/// completed its quotas came at `at`. Partners are companies: named in the clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationMet {
    pub message: MessageId,
    /// The version whose acknowledgments met it (a material correction asks again).
    #[serde(default = "first_version")]
    pub version: u32,
    pub partner: crate::PartnerId,
    pub at: Timestamp,
}

/// A message released: the version that went out, its text word for word in every
/// language (the source each member's copy is rendered from), and what it asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Released {
    pub message: MessageId,
    pub importance: crate::messages::Importance,
    /// The statement a member confirms, for a message that asks for acknowledgment.
    pub statement: Option<String>,
    pub due_at: Option<Timestamp>,
    /// Each language's text, by language tag.
    pub variants: std::collections::BTreeMap<String, crate::messages::Variant>,
    pub at: Timestamp,
}

/// A must-know message reached a member: their copy put in their portal inbox at release
/// (`channel` `inbox`), or a send on an outside channel handed to its provider or refused
/// (`outcome` `sent`, `bounced`, `failed` or `suppressed`), for the release or a reminder,
/// escalation or correction notice (`purpose`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delivered {
    pub message: MessageId,
    pub member: String,
    pub channel: crate::consent::Channel,
    pub purpose: crate::deliveries::Purpose,
    pub outcome: DeliveryOutcome,
    pub at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryOutcome {
    /// In the member's portal inbox.
    InInbox,
    /// The channel's provider took it (an SMTP server's 250, an API's acceptance).
    Sent,
    /// The provider refused the address for good.
    Bounced,
    /// It could not be sent after every attempt.
    Failed,
    /// Not sent: the address is suppressed or the member cannot be reached there.
    Suppressed,
}

/// The key that signs the log's checkpoints was replaced: the checkpoint that first
/// includes this leaf is signed by both, so whoever trusts `previous` comes to trust
/// `next` (keys as `name+keyid+base64`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRotated {
    pub previous: String,
    pub next: String,
    pub at: Timestamp,
}

/// A released message's text corrected, as a new version: why, whether everyone must
/// acknowledge again, and the new text word for word in every language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corrected {
    pub message: MessageId,
    pub version: u32,
    /// `material` (everyone acknowledges again) or `editorial`.
    pub correction: crate::messages::CorrectionKind,
    pub note: String,
    /// The staff member who corrected it.
    pub by: String,
    pub statement: Option<String>,
    pub variants: std::collections::BTreeMap<String, crate::messages::Variant>,
    pub at: Timestamp,
}

/// A fact the log records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    Released(Released),
    Acknowledged(Acknowledged),
    Read(Read),
    Consent(ConsentChanged),
    ObligationMet(ObligationMet),
    Corrected(Corrected),
    Delivered(Delivered),
    KeyRotated(KeyRotated),
}

impl Fact {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Released(_) => "released",
            Self::Acknowledged(_) => "acknowledged",
            Self::Read(_) => "read",
            Self::Consent(_) => "consent",
            Self::ObligationMet(_) => "obligation_met",
            Self::Corrected(_) => "corrected",
            Self::Delivered(_) => "delivered",
            Self::KeyRotated(_) => "key_rotated",
        }
    }

    pub fn message(&self) -> Option<MessageId> {
        match self {
            Self::Released(r) => Some(r.message),
            Self::Acknowledged(a) => Some(a.message),
            Self::Read(r) => Some(r.message),
            Self::ObligationMet(o) => Some(o.message),
            Self::Corrected(c) => Some(c.message),
            Self::Delivered(d) => Some(d.message),
            Self::Consent(_) | Self::KeyRotated(_) => None,
        }
    }

    /// The message version the fact is about, where it names one.
    pub fn version(&self) -> Option<u32> {
        match self {
            Self::Acknowledged(a) => Some(a.version),
            Self::Corrected(c) => Some(c.version),
            Self::ObligationMet(o) => Some(o.version),
            _ => None,
        }
    }

    /// The member commitment the leaf holds, if it is about one member.
    pub fn member(&self) -> Option<&str> {
        match self {
            Self::Acknowledged(a) => Some(&a.member),
            Self::Read(r) => Some(&r.member),
            Self::Consent(c) => Some(&c.member),
            Self::Delivered(d) => Some(&d.member),
            Self::ObligationMet(_) | Self::Released(_) | Self::Corrected(_) | Self::KeyRotated(_) => None,
        }
    }

    pub fn at(&self) -> Timestamp {
        match self {
            Self::Released(r) => r.at,
            Self::Acknowledged(a) => a.at,
            Self::Read(r) => r.at,
            Self::Consent(c) => c.at,
            Self::ObligationMet(o) => o.at,
            Self::Corrected(c) => c.at,
            Self::Delivered(d) => d.at,
            Self::KeyRotated(k) => k.at,
        }
    }
}

/// A leaf's data: the format version and the fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaf {
    pub v: u8,
    #[serde(flatten)]
    pub fact: Fact,
}

impl Leaf {
    pub fn new(fact: Fact) -> Self {
        Self { v: FORMAT, fact }
    }

    /// The JSON the log stores and hashes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// The text a content hash covers, as an evidence pack carries it, so that a verifier
/// recomputes the hash from the words themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShownText {
    pub locale: String,
    pub title: String,
    pub summary: String,
    /// Sanitized HTML, as shown.
    pub what_changed: String,
    pub why_it_matters: String,
    pub what_to_do: String,
    pub call_to_action_label: Option<String>,
    pub call_to_action_url: Option<String>,
}

impl ShownText {
    pub fn of(r: &Rendered) -> Self {
        Self {
            locale: r.locale.to_string(),
            title: r.title.clone(),
            summary: r.summary.clone(),
            what_changed: r.what_changed.clone(),
            why_it_matters: r.why_it_matters.clone(),
            what_to_do: r.what_to_do.clone(),
            call_to_action_label: r.call_to_action.as_ref().map(|c| c.label.clone()),
            call_to_action_url: r.call_to_action.as_ref().map(|c| c.url.clone()),
        }
    }

    /// The content hash: SHA-256 over each part, length-prefixed so that moving text from
    /// one part to another changes it.
    pub fn content_hash(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.locale.as_str(),
            &self.title,
            &self.summary,
            &self.what_changed,
            &self.why_it_matters,
            &self.what_to_do,
            self.call_to_action_label.as_deref().unwrap_or(""),
            self.call_to_action_url.as_deref().unwrap_or(""),
        ] {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part.as_bytes());
        }
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_reads_back_as_written_and_names_its_kind() -> Result<(), serde_json::Error> {
        let leaf = Leaf::new(Fact::Acknowledged(Acknowledged {
            message: MessageId::new(),
            version: 2,
            content_hash: "ab".repeat(32),
            locale: "en".into(),
            statement: "We have pulled the stock".into(),
            member: commitment(&[1; 32], Committed::Member, Uuid::nil()),
            partner: commitment(&[1; 32], Committed::Partner, Uuid::nil()),
            roles: Roles::default(),
            authentication: Authentication::PortalSession,
            surface: Surface::MessagePage,
            at: Timestamp::from_millis(1_765_000_000_123),
            origin: origin_commitment(&[1; 32], Some("192.0.2.1"), None),
            attestation: None,
        }));
        let json = leaf.to_json();
        assert!(json.starts_with(r#"{"v":1,"kind":"acknowledged","message":""#), "{json}");
        assert!(json.contains(r#""at":"2025-12-06T05:46:40.123Z""#), "{json}");
        assert_eq!(Leaf::parse(&json)?, leaf);
        Ok(())
    }

    #[test]
    fn an_acknowledgment_leaf_from_before_corrections_is_of_version_1() -> Result<(), serde_json::Error> {
        let json = r#"{"v":1,"kind":"acknowledged","message":"0193a000-0000-7000-8000-000000000000","content_hash":"ab","locale":"en","statement":"s","member":"m","partner":"p","roles":[],"authentication":"portal_session","surface":"message_page","at":"2026-12-07T09:14:02.117Z","origin":"o"}"#;
        assert_eq!(Leaf::parse(json)?.fact.version(), Some(1));
        Ok(())
    }

    #[test]
    fn a_member_and_a_partner_commitment_differ_for_the_same_id_and_salt() {
        let id = Uuid::now_v7();
        assert_ne!(commitment(&[3; 32], Committed::Member, id), commitment(&[3; 32], Committed::Partner, id));
        assert_ne!(commitment(&[3; 32], Committed::Member, id), commitment(&[4; 32], Committed::Member, id));
        let salt = [3; 32];
        assert_ne!(origin_commitment(&salt, Some("a"), None), origin_commitment(&salt, None, Some("a")));
        assert_ne!(origin_commitment(&salt, Some("ab"), Some("")), origin_commitment(&salt, Some("a"), Some("b")));
    }
}
