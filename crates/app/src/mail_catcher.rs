//! What the demo's mail catcher caught, for admins: the email members would have got,
//! with its headers, text and HTML, newest first.

use tidings_core::{Action, Timestamp};

use crate::{App, AppError, Caller};

/// One caught email as the console lists it.
#[derive(Debug, Clone)]
pub struct CaughtMail {
    pub number: u64,
    pub received_at: Timestamp,
    pub from: String,
    pub to: String,
    pub subject: String,
    /// The headers a reader checks, in this order, when present.
    pub headers: Vec<(&'static str, String)>,
    pub text: String,
    pub html: String,
    /// The web links of the HTML, in order, each once: a sandboxed view cannot follow
    /// them, so the console lists them.
    pub links: Vec<String>,
}

const SHOWN_HEADERS: [&str; 7] =
    ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"];

fn caught(mail: &tidings_channels::catcher::Received) -> CaughtMail {
    let html = mail.html();
    CaughtMail {
        links: links(&html),
        number: mail.number,
        received_at: Timestamp::from_millis(mail.received_at),
        from: mail.header("From").unwrap_or_else(|| mail.from.clone()),
        to: mail.to_header(),
        subject: mail.subject(),
        headers: SHOWN_HEADERS.iter().filter_map(|name| mail.header(name).map(|v| (*name, v))).collect(),
        text: mail.text(),
        html,
    }
}

fn links(html: &str) -> Vec<String> {
    let found = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let collect = found.clone();
    ammonia::Builder::default()
        .attribute_filter(move |element, attribute, value| {
            let web = value.starts_with("http://") || value.starts_with("https://");
            if element == "a"
                && attribute == "href"
                && web
                && let Ok(mut found) = collect.lock()
                && !found.iter().any(|f| f == value)
            {
                found.push(value.to_owned());
            }
            Some(value.into())
        })
        .clean(html);
    found.lock().map(|f| f.clone()).unwrap_or_default()
}

fn catcher<'a>(app: &'a App, caller: &Caller) -> Result<&'a tidings_channels::catcher::MailCatcher, AppError> {
    caller.require(Action::Configure, "read caught mail")?;
    app.mail_catcher
        .as_ref()
        .ok_or(AppError::NotFound("the mail catcher (it runs with serve --demo when no SMTP server is configured)"))
}

/// Whether this instance catches its mail instead of sending it.
pub fn catching(app: &App) -> bool {
    app.mail_catcher.is_some()
}

/// The latest caught mail, newest first, at most `limit`.
pub fn list(app: &App, caller: &Caller, limit: usize) -> Result<Vec<CaughtMail>, AppError> {
    let kept = catcher(app, caller)?.received();
    Ok(kept.iter().rev().take(limit).map(caught).collect())
}

/// How many emails arrived since the start (kept or not).
pub fn count(app: &App, caller: &Caller) -> Result<usize, AppError> {
    Ok(catcher(app, caller)?.received_count())
}

pub fn get(app: &App, caller: &Caller, number: u64) -> Result<CaughtMail, AppError> {
    catcher(app, caller)?.get(number).map(|m| caught(&m)).ok_or(AppError::NotFound("caught email"))
}

/// The texts and chat messages the demo's stand-in providers caught, newest first.
pub fn chats(app: &App, caller: &Caller, n: usize) -> Result<Vec<tidings_channels::fake::CaughtChat>, AppError> {
    caller.require(Action::Configure, "read caught texts and chat messages")?;
    let catcher = app.chat_catcher.as_ref().ok_or(AppError::NotFound("chat catcher"))?;
    Ok(catcher.latest(n))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_links_of_an_email_are_listed_once_each_in_order() {
        let html = r#"<p><a href="https://a.example/x?y=1&amp;z=2">A</a> <a href="mailto:x@y">m</a>
            <a href="http://127.0.0.1:8080/t/c/1">B</a><a href="https://a.example/x?y=1&amp;z=2">again</a></p>"#;
        assert_eq!(super::links(html), ["https://a.example/x?y=1&z=2", "http://127.0.0.1:8080/t/c/1"]);
    }
}
