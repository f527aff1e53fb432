//! Delivery status notifications (RFC 3464): a multipart/report whose
//! message/delivery-status part lists each recipient's action and status, and whose last
//! part returns the original message's headers (where our Message-ID is).

use mail_parser::MimeHeaders;

/// What a DSN says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dsn {
    pub original_message_id: Option<String>,
    pub recipients: Vec<RecipientStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    pub address: String,
    /// `failed`, `delayed`, `delivered`, ...
    pub action: String,
    /// `5.1.1`: the first digit says permanent (5), transient (4) or success (2).
    pub status: String,
    pub diagnostic: Option<String>,
}

pub fn parse(raw: &[u8]) -> Result<Dsn, String> {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .ok_or_else(|| "the body is not an email message".to_owned())?;
    let mut status_text = None;
    let mut original_message_id = None;
    for part in message.parts.iter() {
        let Some(ct) = part.content_type() else { continue };
        let kind = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase();
        match kind.as_str() {
            "message/delivery-status" | "message/global-delivery-status" => {
                status_text = Some(String::from_utf8_lossy(part.contents()).into_owned());
            }
            "text/rfc822-headers" | "message/rfc822" | "message/global-headers" => {
                let headers = String::from_utf8_lossy(part.contents()).into_owned();
                original_message_id = original_message_id.or_else(|| field(&headers, "message-id"));
            }
            _ => {}
        }
        if let Some(nested) = part.message() {
            original_message_id = original_message_id.or_else(|| nested.message_id().map(|id| format!("<{id}>")));
        }
    }
    let status_text = status_text.ok_or_else(|| "no message/delivery-status part: this is not a DSN".to_owned())?;
    // Groups of fields separated by blank lines: the first is about the message, each
    // following one about a recipient.
    let unfolded = status_text.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    let recipients = unfolded
        .split("\n\n")
        .filter_map(|group| {
            let address = field(group, "final-recipient").or_else(|| field(group, "original-recipient"))?;
            let address = address.split_once(';').map_or(address.as_str(), |(_, a)| a).trim().to_owned();
            Some(RecipientStatus {
                address,
                action: field(group, "action").unwrap_or_default().to_ascii_lowercase(),
                status: field(group, "status").unwrap_or_default(),
                diagnostic: field(group, "diagnostic-code"),
            })
        })
        .collect::<Vec<_>>();
    if recipients.is_empty() {
        return Err("the delivery-status part names no recipient".into());
    }
    Ok(Dsn { original_message_id, recipients })
}

fn field(block: &str, name: &str) -> Option<String> {
    block.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_postfix_style_bounce() {
        let raw = "From: MAILER-DAEMON@mx.example\r\nTo: bounces@tidings.example\r\nSubject: Undelivered\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; ana@acme.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <abc.def@tidings.example>\r\nSubject: Recall\r\n\r\n--B--\r\n";
        let dsn = parse(raw.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(dsn.original_message_id.as_deref(), Some("<abc.def@tidings.example>"));
        assert_eq!(dsn.recipients.len(), 1);
        assert_eq!(dsn.recipients[0].address, "ana@acme.example");
        assert_eq!(dsn.recipients[0].status, "5.1.1");
        assert!(parse(b"Subject: hi\r\n\r\nnot a report").is_err());
    }
}
