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

/// The demo's stand-in phone answers a text it was sent: the SMS provider's stand-in
/// relays the reply to this instance's inbound hook as a real provider does, signed with
/// the account's auth token, and the hook takes it as it would any (STOP withdraws the
/// member's SMS consent, START gives it back). Only where the stand-ins run (the demo).
pub async fn reply_from_phone(
    app: &App,
    caller: &Caller,
    phone: &str,
    body: &str,
) -> Result<crate::sms_hooks::Inbound, AppError> {
    caller.require(Action::Configure, "answer a text as the demo's stand-in phone")?;
    app.chat_catcher.as_ref().ok_or(AppError::NotFound("the demo's stand-in providers"))?;
    let account = app.channels.sms_account().ok_or(AppError::NotFound("an SMS provider"))?;
    let fields: Vec<(String, String)> = [
        ("MessageSid", format!("SMreply{}", uuid::Uuid::now_v7().simple())),
        ("AccountSid", account.account_sid.clone()),
        ("From", phone.trim().to_owned()),
        ("To", account.from.clone()),
        ("Body", body.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let url = format!("{}{}", app.public_url.trim_end_matches('/'), crate::sms_hooks::INBOUND_PATH);
    let signature = tidings_channels::sms::signature(&account.auth_token, &url, &fields);
    crate::sms_hooks::inbound(app, &fields, Some(&signature)).await
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
