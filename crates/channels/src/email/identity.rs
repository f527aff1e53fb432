//! Who email comes from, and the Message-ID of each delivery: the same on every attempt,
//! so a receiver that gets a retry of a message it already has can drop it, and different
//! for each purpose, so a reminder is not dropped as a repeat of the first send. The
//! first send's keeps the form it had before purposes (`message.member@domain`), so
//! deliveries queued before an upgrade keep their Message-ID.

use tidings_core::deliveries::Purpose;

use super::{OutgoingEmail, PartBody};
use tidings_core::{MemberId, MessageId};

/// Who the email comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailSettings {
    /// The visible sender: `Name <address>`.
    pub from: String,
    /// The envelope sender bounces go to; the `from` address when `None`.
    pub return_path: Option<String>,
    /// The domain part of each Message-ID.
    pub message_id_domain: String,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            from: "Tidings <tidings@localhost>".into(),
            return_path: None,
            message_id_domain: "tidings.localhost".into(),
        }
    }
}

impl MailSettings {
    /// The Message-ID (without angle brackets) of one email delivery.
    pub fn message_id(&self, message: MessageId, member: MemberId, purpose: Purpose) -> String {
        let (message, member, domain) =
            (message.as_uuid().simple(), member.as_uuid().simple(), &self.message_id_domain);
        match purpose {
            Purpose::Initial => format!("{message}.{member}@{domain}"),
            other => format!("{message}.{member}.{other}@{domain}"),
        }
    }

    /// A Message-ID for an email that is no delivery (a sign-in link, a colleague's
    /// reminder): unique, never the same twice.
    pub fn one_off_message_id(&self) -> String {
        format!("{}@{}", uuid::Uuid::now_v7().simple(), self.message_id_domain)
    }

    /// An email that is no delivery (a sign-in link, a colleague's reminder, a test email),
    /// from this sender, with a Message-ID of its own and no unsubscribe link.
    pub fn one_off(&self, to_name: &str, to: &str, subject: String, text: PartBody, html: PartBody) -> OutgoingEmail {
        OutgoingEmail {
            from: self.from.clone(),
            return_path: self.return_path.clone(),
            to_name: to_name.to_owned(),
            to: to.to_owned(),
            subject,
            text,
            html,
            message_id: self.one_off_message_id(),
            unsubscribe_url: None,
        }
    }
}

/// The delivery a Message-ID names (for bounce reports), if it has the form of ours.
pub fn parse_message_id(id: &str) -> Option<(MessageId, MemberId, Purpose)> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _) = id.split_once('@')?;
    let mut parts = local.splitn(3, '.');
    let (message, member) = (parts.next()?, parts.next()?);
    let purpose = match parts.next() {
        None => Purpose::Initial,
        // `initial` is never written out: a second spelling would be a second key.
        Some(p) => p.parse().ok().filter(|p| *p != Purpose::Initial)?,
    };
    Some((
        MessageId::from_uuid(uuid::Uuid::parse_str(message).ok()?),
        MemberId::from_uuid(uuid::Uuid::parse_str(member).ok()?),
        purpose,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_round_trip() {
        let mail = MailSettings { message_id_domain: "mail.example".into(), ..MailSettings::default() };
        let (message, member) = (MessageId::new(), MemberId::new());
        let id = mail.message_id(message, member, Purpose::Initial);
        assert_eq!(id, format!("{}.{}@mail.example", message.as_uuid().simple(), member.as_uuid().simple()));
        assert_eq!(parse_message_id(&format!("<{id}>")), Some((message, member, Purpose::Initial)));
        assert_eq!(parse_message_id("<abc@elsewhere.example>"), None);
    }

    #[test]
    fn each_purpose_has_its_own_message_id() {
        let mail = MailSettings::default();
        let (message, member) = (MessageId::new(), MemberId::new());
        let first = mail.message_id(message, member, Purpose::Initial);
        let reminder = mail.message_id(message, member, Purpose::Reminder(1));
        assert_ne!(first, reminder);
        assert_eq!(parse_message_id(&reminder), Some((message, member, Purpose::Reminder(1))));
        let spelled_out = reminder.replace("reminder-1", "initial");
        assert_eq!(parse_message_id(&spelled_out), None);
    }
}
