//! A rendered message as an email: a responsive HTML layout (inline styles, tables: what
//! mail clients understand) and a plain-text part; links through signed click tracking;
//! an open pixel; the one-click unsubscribe link; for a message that asks for it, a
//! button to the acknowledgment page (a page with a deliberate button, never a GET that
//! acknowledges, because mail scanners follow links).

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use tidings_channels::OutgoingEmail;
use tidings_core::messages::{Importance, Message, Rendered};
use tidings_core::{Member, MemberId, MessageId, Partner};

use crate::App;
use crate::signing::{Purpose, Signer};

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // The template is part of the program; a broken one fails every email test.
        if let Err(e) = env.add_template("email.html", include_str!("../templates/email.html")) {
            tracing::error!(error = %e, "the email template does not parse");
        }
        env
    })
}

/// The Message-ID of one delivery: the same on every attempt, so a receiver that gets a
/// retry of a message it already has can drop it.
pub fn message_id(app: &App, message: MessageId, member: MemberId) -> String {
    format!("{}.{}@{}", message.as_uuid().simple(), member.as_uuid().simple(), app.mail.message_id_domain)
}

/// The delivery a Message-ID names (for bounce reports), if it is one of ours.
pub fn parse_message_id(id: &str) -> Option<(MessageId, MemberId)> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    let (local, _) = id.split_once('@')?;
    let (message, member) = local.split_once('.')?;
    Some((
        MessageId::from_uuid(uuid::Uuid::parse_str(message).ok()?),
        MemberId::from_uuid(uuid::Uuid::parse_str(member).ok()?),
    ))
}

/// Links of one recipient's email.
#[derive(Clone)]
struct Links {
    base: Arc<str>,
    signer: Signer,
    message: MessageId,
    member: MemberId,
}

impl Links {
    fn click(&self, target: &str) -> String {
        format!("{}/t/c/{}", self.base, self.signer.click_token(self.message, self.member, target))
    }

    fn recipient(&self, path: &str, purpose: Purpose) -> String {
        format!("{}/{path}/{}", self.base, self.signer.recipient_token(purpose, self.message, self.member))
    }
}

pub fn compose(
    app: &App,
    message: &Message,
    rendered: &Rendered,
    member: &Member,
    partner: &Partner,
    topic_name: &str,
) -> Result<OutgoingEmail, String> {
    let links =
        Links { base: app.public_url.clone(), signer: app.signer.clone(), message: message.id, member: member.id };
    let unsubscribe_url = links.recipient("u", Purpose::Unsubscribe);
    let tracked: Vec<(&str, String)> = sections(rendered)
        .into_iter()
        .filter(|(_, html)| !html.trim().is_empty())
        .map(|(heading, html)| (heading, track_links(html, &links)))
        .collect();
    let (badge, badge_color) = match message.importance {
        Importance::Info => ("Nice to know", "#4b5563"),
        Importance::Action => ("Need to know", "#1d4ed8"),
        Importance::Critical => ("Must know", "#b91c1c"),
    };
    let ack = message.acknowledgment.as_ref();
    let context = minijinja::context! {
        lang => rendered.locale.as_str(),
        title => &rendered.title,
        summary => &rendered.summary,
        topic => topic_name,
        badge => badge,
        badge_color => badge_color,
        sections => tracked.iter().map(|(h, html)| minijinja::context! { heading => *h, html => html }).collect::<Vec<_>>(),
        cta_url => rendered.call_to_action.as_ref().map(|c| safe(links.click(&c.url))),
        cta_label => rendered.call_to_action.as_ref().map(|c| c.label.clone()),
        ack_url => ack.map(|_| safe(links.recipient("a", Purpose::Acknowledge))),
        ack_statement => ack.map(|a| a.statement.clone()),
        ack_due => ack.and_then(|a| a.due_at).map(|t| t.to_string()),
        member_name => &member.profile.name,
        partner_name => &partner.profile.name,
        unsubscribe_url => safe(unsubscribe_url.clone()),
        open_url => safe(links.recipient("t/o", Purpose::Open)),
    };
    let html = templates()
        .get_template("email.html")
        .and_then(|t| t.render(context))
        .map_err(|e| format!("the email layout failed: {e}"))?;
    let mut text = format!("{}\n\n{}\n", rendered.title, rendered.summary);
    for (heading, html) in sections(rendered) {
        let body = html_to_text(html);
        if !body.is_empty() {
            text.push_str(&format!("\n{heading}\n{body}\n"));
        }
    }
    if let Some(cta) = &rendered.call_to_action {
        text.push_str(&format!("\n{}: {}\n", cta.label, links.click(&cta.url)));
    }
    if let Some(a) = ack {
        text.push_str(&format!(
            "\nYour acknowledgment is required: \"{}\"\nReview and acknowledge: {}\n",
            a.statement,
            links.recipient("a", Purpose::Acknowledge)
        ));
    }
    text.push_str(&format!("\n--\nUnsubscribe from email: {unsubscribe_url}\n"));
    let subject = match message.importance {
        Importance::Critical => format!("[Must know] {}", rendered.title),
        _ => rendered.title.clone(),
    };
    Ok(OutgoingEmail {
        from: app.mail.from.clone(),
        return_path: app.mail.return_path.clone(),
        to_name: member.profile.name.clone(),
        to: member.profile.email.to_string(),
        subject,
        text,
        html,
        message_id: message_id(app, message.id, member.id),
        unsubscribe_url: Some(unsubscribe_url),
    })
}

/// The three answers every message gives, with their headings, in order.
fn sections(r: &Rendered) -> [(&'static str, &String); 3] {
    [("What changed", &r.what_changed), ("Why it matters", &r.why_it_matters), ("What to do next", &r.what_to_do)]
}

/// Our own links need no HTML escaping (the base URL is configuration, the token
/// base64url), and escaping `/` as `&#x2f;` would only make them harder to read.
fn safe(url: String) -> minijinja::Value {
    minijinja::Value::from_safe_string(url.replace('"', "%22"))
}

/// Routes every link of sanitized HTML through signed click tracking; the HTML is
/// sanitized again on the way (ammonia), so nothing else changes.
fn track_links(html: &str, links: &Links) -> String {
    let links = links.clone();
    ammonia::Builder::default()
        .attribute_filter(move |element, attribute, value| {
            if element == "a" && attribute == "href" && (value.starts_with("https://") || value.starts_with("http://"))
            {
                Some(Cow::Owned(links.click(value)))
            } else {
                Some(Cow::Borrowed(value))
            }
        })
        .clean(html)
        .to_string()
}

/// Plain text from sanitized HTML: paragraphs and list items on their own lines, links
/// as "label (url)", entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut href: Option<String> = None;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let Some(end) = rest[start..].find('>') else { break };
        let tag = &rest[start + 1..start + end];
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace()).next().unwrap_or_default();
        match (tag.starts_with('/'), name) {
            (false, "li") => out.push_str("- "),
            (false, "br") | (true, "p" | "li" | "h1" | "h2" | "h3" | "h4" | "tr" | "pre" | "blockquote") => {
                out.push('\n')
            }
            (false, "a") => {
                href = tag.split("href=\"").nth(1).and_then(|h| h.split('"').next()).map(decode_entities);
            }
            (true, "a") => {
                if let Some(h) = href.take() {
                    out.push_str(&format!(" ({h})"));
                }
            }
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(&decode_entities(rest));
    let mut lines: Vec<&str> = Vec::new();
    for line in out.lines().map(str::trim_end) {
        // One blank line between blocks, however many the markup made.
        if !(line.is_empty() && lines.last().is_some_and(|l| l.is_empty())) {
            lines.push(line);
        }
    }
    lines.join("\n").trim().to_owned()
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<p>Lots <strong>A1</strong> &amp; B2 are affected.</p>\n<ul>\n<li>Check <a href=\"https://v.example/a?x=1&amp;y=2\" rel=\"noopener noreferrer\">stock</a></li>\n</ul>\n";
        assert_eq!(html_to_text(html), "Lots A1 & B2 are affected.\n\n- Check stock (https://v.example/a?x=1&y=2)");
    }

    #[test]
    fn message_ids_round_trip() {
        let app_domain = "mail.example";
        let (message, member) = (MessageId::new(), MemberId::new());
        let id = format!("{}.{}@{app_domain}", message.as_uuid().simple(), member.as_uuid().simple());
        assert_eq!(parse_message_id(&format!("<{id}>")), Some((message, member)));
        assert_eq!(parse_message_id("<abc@elsewhere.example>"), None);
    }
}
