//! SMS: a message made for a phone (its importance and title, what to do, and a short
//! signed link to the message in the portal, where a must-know message is acknowledged),
//! kept to two segments, sent through a Twilio-compatible HTTP API.

pub mod segments;
mod twilio;

use tidings_core::messages::{Importance, Message, Rendered};

pub use segments::{Encoding, Segments};
pub use twilio::{DeliveryReport, Twilio, TwilioConfig, signature, verify_signature};

use crate::email::html_to_text;

/// The most segments a message may cost: what to do is shortened to fit.
pub const MAX_SEGMENTS: usize = 2;
const OPT_OUT: &str = "Reply STOP to opt out";

/// A message laid out for SMS, once per text.
#[derive(Debug, Clone)]
pub struct Layout {
    rendered: Rendered,
    head: String,
    action: String,
    acknowledgment: bool,
}

/// One recipient's text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    /// E.164.
    pub to: String,
    pub body: String,
    /// The same on every attempt of one delivery.
    pub reference: String,
}

impl Layout {
    pub fn new(message: &Message, rendered: Rendered) -> Self {
        Self::of(message.importance, message.acknowledgment.is_some(), rendered)
    }

    fn of(importance: Importance, acknowledgment: bool, rendered: Rendered) -> Self {
        let badge = match importance {
            Importance::Critical => "MUST KNOW: ",
            Importance::Action => "Action needed: ",
            Importance::Info => "",
        };
        let head = format!("{badge}{}", one_line(&rendered.title));
        let mut action = one_line(&html_to_text(&rendered.what_to_do));
        if action.is_empty()
            && let Some(cta) = &rendered.call_to_action
        {
            action = one_line(&cta.label);
        }
        Self { rendered, head, action, acknowledgment }
    }

    pub fn rendered(&self) -> &Rendered {
        &self.rendered
    }

    /// The text one recipient gets: `link` opens the message in the portal; `due_at` is
    /// the acknowledgment's due time as they read it.
    pub fn fill(&self, link: &str, due_at: Option<&str>) -> String {
        let link_line = match (self.acknowledgment, due_at) {
            (true, Some(due)) => format!("Acknowledge by {due}: {link}"),
            (true, None) => format!("Read and acknowledge: {link}"),
            (false, _) => format!("Read more: {link}"),
        };
        let assemble = |head: &str, action: &str| {
            [head, action, &link_line, OPT_OUT].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join("\n")
        };
        let (mut head, mut action) = (self.head.clone(), self.action.clone());
        // Shortens what to do first, then the title, a few characters at a time.
        while segments::count(&assemble(&head, &action)).count > MAX_SEGMENTS {
            let shortened = if action.is_empty() { &mut head } else { &mut action };
            let keep = shortened.chars().count().saturating_sub(8);
            if keep < 4 {
                shortened.clear();
                continue;
            }
            *shortened = format!("{}...", shortened.chars().take(keep - 3).collect::<String>().trim_end());
            if head.is_empty() && action.is_empty() {
                break;
            }
        }
        assemble(&head, &action)
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tidings_core::messages::CallToAction;

    fn rendered(title: &str, what_to_do: &str) -> Rendered {
        Rendered {
            locale: tidings_core::Locale::parse("en").unwrap(),
            title: title.into(),
            summary: String::new(),
            what_changed: "<p>Batch 42 overheats.</p>".into(),
            why_it_matters: String::new(),
            what_to_do: what_to_do.into(),
            call_to_action: Some(CallToAction { label: "Open the recall".into(), url: "https://v.example/r".into() }),
            content_hash: "h".into(),
        }
    }

    fn layout(importance: Importance, ack: bool, title: &str, what_to_do: &str) -> Layout {
        Layout::of(importance, ack, rendered(title, what_to_do))
    }

    #[test]
    fn a_must_know_text_says_so_and_leads_to_acknowledging() {
        let l = layout(
            Importance::Critical,
            true,
            "Recall of X200",
            "<ol><li>Stop selling.</li><li>Return stock.</li></ol>",
        );
        let body = l.fill("https://t.example/s/abc", Some("24 Dec 2026 09:00 CET"));
        assert_eq!(
            body,
            "MUST KNOW: Recall of X200\n- Stop selling. - Return stock.\nAcknowledge by 24 Dec 2026 09:00 CET: https://t.example/s/abc\nReply STOP to opt out"
        );
        assert_eq!(segments::count(&body).count, 1);
    }

    #[test]
    fn a_long_text_is_shortened_to_two_segments_keeping_the_link() {
        let long = format!("<p>{}</p>", "Check every unit in stock and return it. ".repeat(30));
        let l = layout(Importance::Action, false, "Price list", &long);
        let link = "https://tidings.example/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        let body = l.fill(link, None);
        assert!(segments::count(&body).count <= MAX_SEGMENTS, "{body}");
        assert!(body.starts_with("Action needed: Price list\nCheck every unit"));
        assert!(body.contains(&format!("Read more: {link}")) && body.contains("...\n"));

        // A text outside GSM-7 costs UCS-2 segments, and still fits two.
        let polish = layout(
            Importance::Info,
            false,
            "Zmiana cennika",
            &format!("<p>{}</p>", "Sprawdź każdą pozycję. ".repeat(20)),
        );
        let body = polish.fill("https://t.example/s/abc", None);
        assert_eq!(segments::count(&body).encoding, Encoding::Ucs2);
        assert!(segments::count(&body).count <= MAX_SEGMENTS, "{body}");
    }

    #[test]
    fn without_steps_the_call_to_action_is_the_action() {
        let l = layout(Importance::Info, false, "New brochure", "");
        assert_eq!(l.fill("L", None), "New brochure\nOpen the recall\nRead more: L\nReply STOP to opt out");
    }
}
