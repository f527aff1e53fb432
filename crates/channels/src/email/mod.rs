//! An email as Tidings sends it: multipart text and HTML, a Message-ID derived from the
//! delivery (the same on every retry, so receivers can drop duplicates), and RFC 8058
//! one-click unsubscribe headers.

mod identity;
mod layout;
mod smtp;

pub use identity::{MailSettings, parse_message_id};
pub use layout::{Layout, Personal, answers_as_text, html_to_text};
pub use smtp::SmtpMailer;

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use serde::Deserialize;

/// Everything one email needs; filled in from a [`Layout`] or built by the app, sent by
/// [`SmtpMailer`] (or kept by the in-memory outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// The visible sender: `Name <address>`.
    pub from: String,
    /// The envelope sender (bounces go there); the `from` address when `None`.
    pub return_path: Option<String>,
    pub to_name: String,
    pub to: String,
    pub subject: String,
    pub text: PartBody,
    pub html: PartBody,
    /// Without angle brackets: `local@domain`.
    pub message_id: String,
    /// The one-click unsubscribe URL (HTTPS), for `List-Unsubscribe`.
    pub unsubscribe_url: Option<String>,
}

/// The content of a body part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartBody {
    /// Plain text, encoded when the email is built.
    Text(String),
    /// Already quoted-printable, lines CRLF and at most 76 characters: a sender composing
    /// many emails from one layout encodes the layout once.
    QuotedPrintable(String),
}

impl PartBody {
    fn into_body(self) -> Body {
        match self {
            Self::Text(text) => Body::new(text),
            Self::QuotedPrintable(encoded) => {
                Body::dangerous_pre_encoded(encoded.into_bytes(), ContentTransferEncoding::QuotedPrintable)
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the email cannot be built: {0}")]
pub struct BuildError(String);

impl OutgoingEmail {
    /// The MIME message.
    pub fn to_message(self) -> Result<Message, BuildError> {
        let bad = |e: &dyn std::fmt::Display| BuildError(e.to_string());
        let from: Mailbox = self.from.parse().map_err(|e| bad(&e))?;
        let to = Mailbox::new(Some(self.to_name.clone()), self.to.parse().map_err(|e| bad(&e))?);
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.clone())
            .message_id(Some(format!("<{}>", self.message_id)));
        if let Some(url) = &self.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(header("List-Unsubscribe")?, format!("<{url}>")))
                .raw_header(HeaderValue::new(header("List-Unsubscribe-Post")?, "List-Unsubscribe=One-Click".into()));
        }
        if let Some(path) = &self.return_path {
            let sender: lettre::Address = path.parse().map_err(|e| bad(&e))?;
            let recipient: lettre::Address = self.to.parse().map_err(|e| bad(&e))?;
            let envelope = lettre::address::Envelope::new(Some(sender), vec![recipient]).map_err(|e| bad(&e))?;
            builder = builder.envelope(envelope);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(self.text.into_body()))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(self.html.into_body())),
            )
            .map_err(|e| bad(&e))
    }
}

fn header(name: &str) -> Result<HeaderName, BuildError> {
    HeaderName::new_from_ascii(name.to_owned()).map_err(|e| BuildError(e.to_string()))
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    /// Plain text: only for a relay on the same machine.
    None,
    /// Upgrade with STARTTLS, refusing a server that does not offer it.
    #[default]
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The name this client gives in EHLO.
    pub hello_name: String,
    /// Connections kept open and used at once.
    pub connections: usize,
    /// For connecting and for each command.
    pub timeout_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 25,
            security: Security::None,
            username: None,
            password: None,
            hello_name: "localhost".into(),
            connections: 16,
            timeout_secs: 30,
        }
    }
}
