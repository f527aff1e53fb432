//! A message as a Microsoft Teams Adaptive Card, posted to a channel through a Teams
//! Workflows webhook ("When a Teams webhook request is received"; the Office 365
//! connectors are retired): the importance, the title and summary, the three answers, and
//! `Action.OpenUrl` buttons (a webhook card cannot take `Action.Submit`) that open the
//! message in the portal, where each member signs in and acknowledges it, and the call to
//! action. A channel is a partner's shared space, not a person, so the card links to the
//! portal rather than to any one member's signed page.

use serde_json::{Value, json};
use tidings_core::messages::{Importance, Message, Rendered};

use crate::chat::ChatText;

/// The card schema version Teams renders in workflow posts.
pub const CARD_VERSION: &str = "1.5";

/// A message laid out for Teams, once per text.
#[derive(Debug, Clone)]
pub struct Layout(ChatText);

impl Layout {
    pub fn new(message: &Message, rendered: Rendered) -> Self {
        Self(ChatText::new(message, rendered))
    }

    pub fn rendered(&self) -> &Rendered {
        &self.0.rendered
    }

    /// The webhook request's body: a message with the card as its one attachment. `open`
    /// opens the message in the portal; `due_at` is the acknowledgment's due time as the
    /// partner reads it.
    pub fn card(&self, open: &str, due_at: Option<&str>) -> Value {
        let r = &self.0.rendered;
        let (badge, color) = match self.0.importance {
            Importance::Critical => ("MUST KNOW", "Attention"),
            Importance::Action => ("NEED TO KNOW", "Warning"),
            Importance::Info => ("Nice to know", "Default"),
        };
        let mut body = vec![
            json!({"type": "TextBlock", "text": badge, "weight": "Bolder", "color": color, "size": "Small"}),
            json!({"type": "TextBlock", "text": r.title, "weight": "Bolder", "size": "Large", "wrap": true,
                   "style": "heading"}),
        ];
        if !r.summary.trim().is_empty() {
            body.push(json!({"type": "TextBlock", "text": r.summary, "wrap": true}));
        }
        for (heading, text) in &self.0.sections {
            body.push(json!({"type": "TextBlock", "text": heading, "weight": "Bolder", "wrap": true,
                             "spacing": "Medium"}));
            body.push(json!({"type": "TextBlock", "text": text, "wrap": true}));
        }
        if let (true, Some(due)) = (self.0.acknowledgment, due_at) {
            body.push(json!({"type": "TextBlock", "text": format!("Each person asked must acknowledge by {due}."),
                             "wrap": true, "color": color, "spacing": "Medium"}));
        }
        let open_label =
            if self.0.acknowledgment { "Read and acknowledge in the portal" } else { "Open in the portal" };
        let mut actions = vec![json!({"type": "Action.OpenUrl", "title": open_label, "url": open})];
        if let Some(cta) = &r.call_to_action {
            actions.push(json!({"type": "Action.OpenUrl", "title": cta.label, "url": cta.url}));
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": CARD_VERSION,
                    "body": body,
                    "actions": actions
                }
            }]
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tidings_core::messages::CallToAction;

    fn layout(importance: Importance, ack: bool) -> Layout {
        let rendered = Rendered {
            locale: tidings_core::Locale::parse("en").unwrap(),
            title: "Recall of lot 42".into(),
            summary: "Pull lot 42".into(),
            what_changed: "<p>Lot 42 overheats.</p>".into(),
            why_it_matters: String::new(),
            what_to_do: "<ol><li>Stop selling.</li><li>Return stock.</li></ol>".into(),
            call_to_action: Some(CallToAction { label: "Start the return".into(), url: "https://v.example/r".into() }),
            content_hash: "h".into(),
        };
        Layout(ChatText::of(importance, ack, rendered))
    }

    #[test]
    fn a_must_know_card_has_its_importance_sections_and_open_url_buttons_only() {
        let card =
            layout(Importance::Critical, true).card("https://t.example/portal/messages/1", Some("15 Jan 09:00 CET"));
        assert_eq!(card["type"], "message");
        let attachment = &card["attachments"][0];
        assert_eq!(attachment["contentType"], "application/vnd.microsoft.card.adaptive");
        let content = &attachment["content"];
        assert_eq!((content["type"].as_str(), content["version"].as_str()), (Some("AdaptiveCard"), Some("1.5")));
        let texts: Vec<&str> =
            content["body"].as_array().unwrap().iter().map(|b| b["text"].as_str().unwrap()).collect();
        assert_eq!(
            texts,
            [
                "MUST KNOW",
                "Recall of lot 42",
                "Pull lot 42",
                "What changed",
                "Lot 42 overheats.",
                "What to do next",
                "- Stop selling.\n- Return stock.",
                "Each person asked must acknowledge by 15 Jan 09:00 CET."
            ]
        );
        let actions = content["actions"].as_array().unwrap();
        assert!(actions.iter().all(|a| a["type"] == "Action.OpenUrl"), "webhook cards take no Action.Submit");
        assert_eq!(actions[0]["url"], "https://t.example/portal/messages/1");
        assert_eq!(actions[0]["title"], "Read and acknowledge in the portal");
        assert_eq!(actions[1]["url"], "https://v.example/r");
        assert!(content["body"].as_array().unwrap().iter().all(|b| b["type"] == "TextBlock"));
    }

    /// Every card, of each importance, with and without an acknowledgment and a call to
    /// action, is one the Adaptive Card 1.5 schema accepts (Microsoft's own schema; a
    /// Teams-only property such as `msteams` would fail it, so none is sent).
    #[test]
    fn every_card_is_one_the_adaptive_card_schema_accepts() {
        let schema: Value = serde_json::from_str(include_str!("../fixtures/adaptive-card-1.5.0.json")).unwrap();
        let validator = jsonschema::draft6::new(&schema).unwrap();
        for importance in [Importance::Critical, Importance::Action, Importance::Info] {
            for ack in [true, false] {
                let mut layout = layout(importance, ack);
                for due in [Some("15 Jan 09:00 CET"), None] {
                    let card = layout.card("https://t.example/portal/messages/1", due);
                    let content = &card["attachments"][0]["content"];
                    let errors: Vec<String> = validator.iter_errors(content).map(|e| e.to_string()).collect();
                    assert!(errors.is_empty(), "{importance:?} {ack} {due:?}: {errors:?}");
                }
                layout.0.rendered.call_to_action = None;
                let content = &layout.card("https://t.example/portal/messages/1", None)["attachments"][0]["content"];
                assert!(validator.is_valid(content));
            }
        }
        let mut broken = layout(Importance::Info, false).card("https://t.example/portal/messages/1", None);
        broken["attachments"][0]["content"]["body"][0]["color"] = json!("Red");
        assert!(!validator.is_valid(&broken["attachments"][0]["content"]), "the schema check catches a bad card");
    }

    #[test]
    fn a_nice_to_know_card_just_opens_the_message() {
        let card = layout(Importance::Info, false).card("https://t.example/portal/messages/1", None);
        let content = &card["attachments"][0]["content"];
        assert_eq!(content["body"][0]["text"], "Nice to know");
        assert_eq!(content["actions"][0]["title"], "Open in the portal");
    }
}
