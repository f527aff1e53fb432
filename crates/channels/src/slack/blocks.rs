//! A message as Slack Block Kit: a header with the title, the importance as context, the
//! three answers as sections, and buttons that open the call to action and the message in
//! the portal (where a must-know message is acknowledged: a chat message cannot record an
//! acknowledgment itself). Every text is kept within Block Kit's limits, and a plain-text
//! fallback goes with it for notifications and clients without blocks.

use serde_json::{Value, json};
use tidings_core::messages::{Importance, Message, Rendered};

use crate::chat::ChatText;

/// Block Kit's limits (api.slack.com/reference/block-kit).
pub const HEADER_LIMIT: usize = 150;
pub const SECTION_LIMIT: usize = 3000;
pub const BUTTON_TEXT_LIMIT: usize = 75;
pub const FALLBACK_LIMIT: usize = 4000;

/// A message laid out for Slack, once per text.
#[derive(Debug, Clone)]
pub struct Layout(ChatText);

impl Layout {
    pub fn new(message: &Message, rendered: Rendered) -> Self {
        Self(ChatText::new(message, rendered))
    }

    pub fn rendered(&self) -> &Rendered {
        &self.0.rendered
    }

    fn badge(&self) -> &'static str {
        match self.0.importance {
            Importance::Critical => ":rotating_light: *Must know*",
            Importance::Action => ":warning: *Need to know*",
            Importance::Info => ":information_source: Nice to know",
        }
    }

    /// The blocks and the fallback text for one recipient: `link` opens the message in
    /// the portal; `due_at` is the acknowledgment's due time as they read it.
    pub fn fill(&self, link: &str, due_at: Option<&str>) -> (Vec<Value>, String) {
        let r = &self.0.rendered;
        let mut context = self.badge().to_owned();
        if let (true, Some(due)) = (self.0.acknowledgment, due_at) {
            context.push_str(&format!(" · acknowledge by {}", escape(due)));
        }
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": cut(&r.title, HEADER_LIMIT), "emoji": true}}),
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}),
        ];
        if !r.summary.trim().is_empty() {
            blocks.push(section(&escape(&r.summary)));
        }
        for (heading, text) in &self.0.sections {
            blocks.push(section(&format!("*{heading}*\n{}", escape(text))));
        }
        let mut buttons = Vec::new();
        let open = if self.0.acknowledgment { "Read and acknowledge" } else { "Open in the portal" };
        let mut primary = json!({"type": "button", "text": {"type": "plain_text", "text": open}, "url": link,
                                 "action_id": "open"});
        if self.0.acknowledgment {
            primary["style"] = json!("primary");
        }
        buttons.push(primary);
        if let Some(cta) = &r.call_to_action {
            buttons.push(
                json!({"type": "button", "text": {"type": "plain_text", "text": cut(&cta.label, BUTTON_TEXT_LIMIT)},
                                "url": cta.url, "action_id": "call_to_action"}),
            );
        }
        blocks.push(json!({"type": "actions", "elements": buttons}));
        let mut fallback = format!("{}: {}", plain_badge(self.0.importance), r.title);
        if self.0.acknowledgment {
            fallback.push_str(" (please acknowledge)");
        }
        fallback.push_str(&format!(" {link}"));
        (blocks, cut(&fallback, FALLBACK_LIMIT))
    }
}

fn plain_badge(importance: Importance) -> &'static str {
    match importance {
        Importance::Critical => "Must know",
        Importance::Action => "Need to know",
        Importance::Info => "Nice to know",
    }
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(text, SECTION_LIMIT)}})
}

/// Slack's mrkdwn treats `&`, `<` and `>` as control characters.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// At most `limit` characters, ending with an ellipsis when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let kept: String = text.chars().take(limit - 1).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tidings_core::messages::CallToAction;

    fn layout(title: &str, what_to_do: &str, ack: bool) -> Layout {
        let rendered = Rendered {
            locale: tidings_core::Locale::parse("en").unwrap(),
            title: title.into(),
            summary: "Pull lot <42> & check".into(),
            what_changed: "<p>Lot 42 overheats.</p>".into(),
            why_it_matters: String::new(),
            what_to_do: what_to_do.into(),
            call_to_action: Some(CallToAction { label: "Start the return".into(), url: "https://v.example/r".into() }),
            content_hash: "h".into(),
        };
        Layout(ChatText::of(Importance::Critical, ack, rendered))
    }

    #[test]
    fn a_must_know_message_has_its_sections_and_an_acknowledge_button() {
        let (blocks, fallback) = layout("Recall of lot 42", "<ol><li>Stop selling.</li></ol>", true)
            .fill("https://t.example/s/abc", Some("15 Jan 2099 09:00 WET"));
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            blocks[1]["elements"][0]["text"],
            ":rotating_light: *Must know* · acknowledge by 15 Jan 2099 09:00 WET"
        );
        assert_eq!(blocks[2]["text"]["text"], "Pull lot &lt;42&gt; &amp; check");
        assert_eq!(blocks[3]["text"]["text"], "*What changed*\nLot 42 overheats.");
        assert_eq!(blocks[4]["text"]["text"], "*What to do next*\n- Stop selling.");
        let actions = &blocks[5];
        assert_eq!(actions["elements"][0]["text"]["text"], "Read and acknowledge");
        assert_eq!(actions["elements"][0]["url"], "https://t.example/s/abc");
        assert_eq!(actions["elements"][0]["style"], "primary");
        assert_eq!(actions["elements"][1]["url"], "https://v.example/r");
        assert_eq!(fallback, "Must know: Recall of lot 42 (please acknowledge) https://t.example/s/abc");
    }

    #[test]
    fn texts_are_kept_within_block_kit_limits() {
        let long_title = "T".repeat(400);
        let long_steps = format!("<p>{}</p>", "step ".repeat(2000));
        let (blocks, fallback) = layout(&long_title, &long_steps, false).fill("https://t.example/s/abc", None);
        assert_eq!(blocks[0]["text"]["text"].as_str().unwrap().chars().count(), HEADER_LIMIT);
        for block in blocks.iter().filter(|b| b["type"] == "section") {
            assert!(block["text"]["text"].as_str().unwrap().chars().count() <= SECTION_LIMIT);
        }
        assert!(blocks.len() <= 50);
        assert!(fallback.chars().count() <= FALLBACK_LIMIT);
    }
}
