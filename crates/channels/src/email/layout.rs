//! A rendered message laid out as an email: a responsive HTML layout (inline styles,
//! tables: what mail clients understand) and a plain-text part, made once per text and
//! filled in per recipient with their links (click tracking, the open pixel, one-click
//! unsubscribe and, for a message that asks for it, the acknowledgment page: a page with
//! a deliberate button, never a GET that acknowledges, because mail scanners follow links).
//! The links arrive signed: this crate lays out, the app decides what a link is.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use tidings_core::messages::{Importance, Message, Rendered};

use super::PartBody;

fn templates() -> &'static minijinja::Environment<'static> {
    static ENV: OnceLock<minijinja::Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        // The template is part of the program; a broken one fails every email test.
        if let Err(e) = env.add_template("email.html", include_str!("../../templates/email.html")) {
            tracing::error!(error = %e, "the email template does not parse");
        }
        env
    })
}

/// A message made ready for email once per text: both parts laid out and quoted-printable
/// encoded, with a slot wherever a recipient's own value goes (their signed links, their
/// name and their partner's). Sanitizing, laying out and encoding are the costly parts of
/// composing, and they are the same for everyone who reads the same text; a recipient's
/// email only fills in the slots.
pub struct Layout {
    rendered: Rendered,
    /// The web links of the sections, in slot order.
    urls: Vec<String>,
    html: Vec<Piece>,
    text: Vec<Piece>,
    subject: String,
}

/// Part of a quoted-printable body: fixed, already encoded, or a recipient's value.
enum Piece {
    Fixed(String),
    Slot(Slot),
}

#[derive(Clone, Copy)]
enum Slot {
    /// The n-th web link of the sections, through click tracking.
    Link(usize),
    CallToAction,
    Acknowledge,
    Unsubscribe,
    OpenPixel,
    MemberName,
    PartnerName,
    /// The acknowledgment's due time on the recipient's clock, with their zone.
    DueAt,
}

impl Slot {
    fn code(self) -> String {
        match self {
            Slot::Link(n) => format!("L{n}"),
            Slot::CallToAction => "C".into(),
            Slot::Acknowledge => "A".into(),
            Slot::Unsubscribe => "U".into(),
            Slot::OpenPixel => "O".into(),
            Slot::MemberName => "N".into(),
            Slot::PartnerName => "P".into(),
            Slot::DueAt => "D".into(),
        }
    }

    fn parse(code: &str) -> Option<Slot> {
        Some(match code {
            "C" => Slot::CallToAction,
            "A" => Slot::Acknowledge,
            "U" => Slot::Unsubscribe,
            "O" => Slot::OpenPixel,
            "N" => Slot::MemberName,
            "P" => Slot::PartnerName,
            "D" => Slot::DueAt,
            _ => Slot::Link(code.strip_prefix('L')?.parse().ok()?),
        })
    }

    /// Where the slot goes in a laid-out text: a secret drawn once per process, so that no
    /// message text can contain it, then the slot's code.
    fn mark(self) -> String {
        format!("{}{}.", mark_prefix(), self.code())
    }
}

fn mark_prefix() -> &'static str {
    static MARK: OnceLock<String> = OnceLock::new();
    MARK.get_or_init(|| {
        let mut secret = [0u8; 16];
        if getrandom::fill(&mut secret).is_err() {
            // A mark someone guesses only turns their own text into one of their links.
            secret = fastrand::u128(..).to_le_bytes();
        }
        format!("tidings-slot-{}-", hex::encode(secret))
    })
}

impl Layout {
    pub fn new(message: &Message, rendered: Rendered, topic_name: &str) -> Result<Self, String> {
        let mut urls = Vec::new();
        let marked: Vec<(&str, String)> = sections(&rendered)
            .into_iter()
            .filter(|(_, html)| !html.trim().is_empty())
            .map(|(heading, html)| (heading, mark_links(html, &mut urls)))
            .collect();
        let (badge, badge_color) = match message.importance {
            Importance::Info => ("Nice to know", "#4b5563"),
            Importance::Action => ("Need to know", "#1d4ed8"),
            Importance::Critical => ("Must know", "#b91c1c"),
        };
        let ack = message.acknowledgment.as_ref();
        let slot = |s: Slot| minijinja::Value::from_safe_string(s.mark());
        let context = minijinja::context! {
            lang => rendered.locale.as_str(),
            title => &rendered.title,
            summary => &rendered.summary,
            topic => topic_name,
            badge => badge,
            badge_color => badge_color,
            sections => marked.iter().map(|(h, html)| minijinja::context! { heading => *h, html => html }).collect::<Vec<_>>(),
            cta_url => rendered.call_to_action.as_ref().map(|_| slot(Slot::CallToAction)),
            cta_label => rendered.call_to_action.as_ref().map(|c| c.label.clone()),
            ack_url => ack.map(|_| slot(Slot::Acknowledge)),
            ack_statement => ack.map(|a| a.statement.clone()),
            ack_due => ack.and_then(|a| a.due_at).map(|_| slot(Slot::DueAt)),
            member_name => slot(Slot::MemberName),
            partner_name => slot(Slot::PartnerName),
            unsubscribe_url => slot(Slot::Unsubscribe),
            open_url => slot(Slot::OpenPixel),
        };
        let html = templates()
            .get_template("email.html")
            .and_then(|t| t.render(context))
            .map_err(|e| format!("the email layout failed: {e}"))?;
        let mut text = format!("{}\n\n{}\n", rendered.title, rendered.summary);
        for (heading, html) in sections(&rendered) {
            let body = html_to_text(html);
            if !body.is_empty() {
                text.push_str(&format!("\n{heading}\n{body}\n"));
            }
        }
        if let Some(cta) = &rendered.call_to_action {
            text.push_str(&format!("\n{}: {}\n", cta.label, Slot::CallToAction.mark()));
        }
        if let Some(a) = ack {
            let by = a.due_at.map(|_| format!(" by {}", Slot::DueAt.mark())).unwrap_or_default();
            text.push_str(&format!(
                "\nYour acknowledgment is required{by}: \"{}\"\nReview and acknowledge: {}\n",
                a.statement,
                Slot::Acknowledge.mark()
            ));
        }
        text.push_str(&format!("\n--\nUnsubscribe from email: {}\n", Slot::Unsubscribe.mark()));
        let subject = match message.importance {
            Importance::Critical => format!("[Must know] {}", rendered.title),
            _ => rendered.title.clone(),
        };
        Ok(Self { html: pieces(&html), text: pieces(&text), rendered, urls, subject })
    }

    /// The text laid out, as rendered for its language.
    pub fn rendered(&self) -> &Rendered {
        &self.rendered
    }

    /// The web links of the sections, in order: a recipient's `clicks` are these, tracked.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// One recipient's text and HTML parts.
    pub fn fill(&self, values: &Personal) -> (PartBody, PartBody) {
        (
            PartBody::QuotedPrintable(fill(&self.text, |slot| values.get(slot).to_owned())),
            PartBody::QuotedPrintable(fill(&self.html, |slot| html_escape(values.get(slot)))),
        )
    }

    /// The values of a recipient's slots with nothing tracked: links go straight to
    /// their targets, no open pixel, no signed links (for previews and test emails).
    pub fn untracked(&self, member_name: &str, partner_name: &str, due_at: &str) -> Personal {
        Personal {
            clicks: self.urls.clone(),
            call_to_action: self.rendered.call_to_action.as_ref().map(|c| c.url.clone()).unwrap_or_default(),
            acknowledge: "#acknowledge".into(),
            unsubscribe: "#unsubscribe".into(),
            open_pixel: "data:,".into(),
            member_name: member_name.to_owned(),
            partner_name: partner_name.to_owned(),
            due_at: due_at.to_owned(),
        }
    }

    /// The email as a recipient would get it, for a preview in the console: its subject
    /// and HTML part, untracked, so looking at it records nothing.
    pub fn preview(&self, member_name: &str, partner_name: &str, due_at: &str) -> (String, String) {
        let values = self.untracked(member_name, partner_name, due_at);
        let encoded = fill(&self.html, |slot| html_escape(values.get(slot)));
        let html = quoted_printable::decode(encoded, quoted_printable::ParseMode::Robust).unwrap_or_default();
        (self.subject.clone(), String::from_utf8_lossy(&html).into_owned())
    }
}

/// One recipient's body part: the fixed pieces with the recipient's values encoded between
/// them. Every piece ends a line (a soft line break where it did not end one itself), so
/// each is encoded on its own.
fn fill(pieces: &[Piece], value: impl Fn(Slot) -> String) -> String {
    let capacity = pieces.iter().map(|p| if let Piece::Fixed(f) = p { f.len() + 3 } else { 200 }).sum();
    let mut out = String::with_capacity(capacity);
    for piece in pieces {
        match piece {
            Piece::Fixed(fixed) => out.push_str(fixed),
            Piece::Slot(slot) => out.push_str(&quoted_printable::encode_to_str(value(*slot).as_bytes())),
        }
        if !out.is_empty() && !out.ends_with("\r\n") {
            out.push_str("=\r\n");
        }
    }
    if out.ends_with("=\r\n") {
        out.truncate(out.len() - 3);
    }
    out
}

/// Sanitizes section HTML again (ammonia), putting a slot where each web link was and
/// noting the link in `urls`.
fn mark_links(html: &str, urls: &mut Vec<String>) -> String {
    let seen = Arc::new(std::sync::Mutex::new(std::mem::take(urls)));
    let noted = seen.clone();
    let marked = ammonia::Builder::default()
        .attribute_filter(move |element, attribute, value| {
            if element == "a" && attribute == "href" && (value.starts_with("https://") || value.starts_with("http://"))
            {
                let Ok(mut noted) = noted.lock() else { return None };
                noted.push(value.to_owned());
                Some(Cow::Owned(Slot::Link(noted.len() - 1).mark()))
            } else {
                Some(Cow::Borrowed(value))
            }
        })
        .clean(html)
        .to_string();
    *urls = seen.lock().map(|u| u.clone()).unwrap_or_default();
    marked
}

/// A laid-out text cut at its slots, the fixed parts in CRLF lines and quoted-printable.
fn pieces(laid_out: &str) -> Vec<Piece> {
    let encode = |fixed: &str| {
        let crlf = fixed.replace("\r\n", "\n").replace('\n', "\r\n");
        Piece::Fixed(quoted_printable::encode_to_str(crlf.as_bytes()))
    };
    let mut chunks = laid_out.split(mark_prefix());
    let mut out = vec![encode(chunks.next().unwrap_or_default())];
    for chunk in chunks {
        let (code, rest) = chunk.split_once('.').unwrap_or((chunk, ""));
        if let Some(slot) = Slot::parse(code) {
            out.push(Piece::Slot(slot));
        }
        out.push(encode(rest));
    }
    out
}

/// One recipient's values for the slots, each signed once though both parts use them.
#[derive(Debug, Clone, Default)]
pub struct Personal {
    /// The sections' links through click tracking, in the order of [`Layout::urls`].
    pub clicks: Vec<String>,
    /// The call to action through click tracking (empty when the message has none).
    pub call_to_action: String,
    /// The acknowledgment page (empty when the message asks for none).
    pub acknowledge: String,
    pub unsubscribe: String,
    pub open_pixel: String,
    pub member_name: String,
    pub partner_name: String,
    /// The acknowledgment's due time as the recipient reads it (`2027-01-15 09:00
    /// Europe/Berlin`); empty when there is none.
    pub due_at: String,
}

impl Personal {
    fn get(&self, slot: Slot) -> &str {
        match slot {
            Slot::Link(n) => self.clicks.get(n).map_or("", String::as_str),
            Slot::CallToAction => &self.call_to_action,
            Slot::Acknowledge => &self.acknowledge,
            Slot::Unsubscribe => &self.unsubscribe,
            Slot::OpenPixel => &self.open_pixel,
            Slot::MemberName => &self.member_name,
            Slot::PartnerName => &self.partner_name,
            Slot::DueAt => &self.due_at,
        }
    }
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The three answers every message gives, with their headings, in order.
fn sections(r: &Rendered) -> [(&'static str, &String); 3] {
    [("What changed", &r.what_changed), ("Why it matters", &r.why_it_matters), ("What to do next", &r.what_to_do)]
}

/// The three answers as plain text, with their headings, leaving out the empty ones: what
/// chat cards and texts show.
pub fn answers_as_text(r: &Rendered) -> Vec<(&'static str, String)> {
    sections(r)
        .into_iter()
        .map(|(heading, html)| (heading, html_to_text(html)))
        .filter(|(_, t)| !t.is_empty())
        .collect()
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = "<p>Lots <strong>A1</strong> &amp; B2 are affected.</p>\n<ul>\n<li>Check <a href=\"https://v.example/a?x=1&amp;y=2\" rel=\"noopener noreferrer\">stock</a></li>\n</ul>\n";
        assert_eq!(html_to_text(html), "Lots A1 & B2 are affected.\n\n- Check stock (https://v.example/a?x=1&y=2)");
    }

    #[test]
    fn filled_slots_decode_to_the_laid_out_text() {
        let long = "Ä long line of text ".repeat(12);
        let laid_out = format!(
            "<p>{long}</p>\n<a href=\"{}\">go</a> = {} and {}.\n",
            Slot::Link(0).mark(),
            Slot::MemberName.mark(),
            Slot::Unsubscribe.mark()
        );
        let value = |slot: Slot| match slot {
            Slot::Link(0) => format!("https://t.example/c/{}", "x".repeat(150)),
            Slot::MemberName => html_escape("Zoë <script>"),
            _ => "https://t.example/u/tok".into(),
        };
        let encoded = fill(&pieces(&laid_out), value);
        assert!(encoded.split("\r\n").all(|line| line.len() <= 76), "{encoded}");
        let decoded = quoted_printable::decode(encoded, quoted_printable::ParseMode::Strict).unwrap();
        let expected = format!(
            "<p>{long}</p>\r\n<a href=\"https://t.example/c/{}\">go</a> = Zoë &lt;script&gt; and https://t.example/u/tok.\r\n",
            "x".repeat(150)
        );
        assert_eq!(String::from_utf8(decoded).unwrap(), expected);
    }
}
