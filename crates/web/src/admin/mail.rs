//! The demo's mail catcher (admins): the email Tidings sent while no SMTP server is
//! configured, as members would get it, with the links in each one to follow.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect};
use tidings_app::App;
use tidings_app::mail_catcher::{self, CaughtMail};

use super::console::Console;
use super::shell::{PageResult, Shell, render, when};

/// The caught emails the list shows.
const LISTED: usize = 200;

#[derive(Template)]
#[template(path = "admin/mail_list.html")]
struct ListPage {
    shell: Shell,
    caught: usize,
    mail: Vec<Row>,
}

struct Row {
    number: u64,
    at: String,
    to: String,
    subject: String,
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    let mail = mail_catcher::list(&app, &console.caller, LISTED)?
        .into_iter()
        .map(|m| Row { number: m.number, at: when(m.received_at), to: m.to, subject: m.subject })
        .collect();
    let caught = mail_catcher::count(&app, &console.caller)?;
    Ok(render(StatusCode::OK, &ListPage { shell: console.shell("Mail catcher").await, caught, mail }))
}

#[derive(Template)]
#[template(path = "admin/mail.html")]
struct MailPage {
    shell: Shell,
    mail: CaughtMail,
}

pub async fn show(State(app): State<App>, console: Console, Path(number): Path<u64>) -> PageResult {
    let mail = mail_catcher::get(&app, &console.caller, number)?;
    Ok(render(StatusCode::OK, &MailPage { shell: console.shell(mail.subject.clone()).await, mail }))
}

/// The email's HTML as its own document, framed only by the console, with nothing able to
/// run in it; its images (the open pixel among them) load as a mail reader's would.
pub async fn html(State(app): State<App>, console: Console, Path(number): Path<u64>) -> PageResult {
    let mail = mail_catcher::get(&app, &console.caller, number)?;
    let policy =
        "default-src 'none'; img-src 'self' https: data:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox";
    let headers =
        [("content-security-policy", policy), ("cache-control", "no-store"), ("x-content-type-options", "nosniff")];
    Ok((headers, Html(mail.html)).into_response())
}

#[derive(Template)]
#[template(path = "admin/chat_list.html")]
struct ChatsPage {
    shell: Shell,
    caught: u64,
    chats: Vec<ChatRow>,
}

struct ChatRow {
    at: String,
    channel: &'static str,
    to: String,
    text: String,
    /// A text, which the stand-in phone can answer.
    sms: bool,
}

/// The texts and Slack messages the demo's stand-in providers were asked to send.
pub async fn chats(State(app): State<App>, console: Console) -> PageResult {
    let chats = mail_catcher::chats(&app, &console.caller, LISTED)?
        .into_iter()
        .map(|c| ChatRow {
            at: when(tidings_core::Timestamp::from_millis(c.at_ms)),
            channel: match c.channel {
                tidings_core::consent::Channel::Sms => "SMS",
                tidings_core::consent::Channel::Slack => "Slack",
                tidings_core::consent::Channel::Teams => "Teams",
                tidings_core::consent::Channel::Webhook => "Webhook",
                tidings_core::consent::Channel::WebPush => "Browser notification",
                other => other.as_str(),
            },
            sms: c.channel == tidings_core::consent::Channel::Sms,
            to: c.to,
            text: c.text,
        })
        .collect();
    let caught = app.chat_catcher.as_ref().map_or(0, |c| c.count());
    Ok(render(StatusCode::OK, &ChatsPage { shell: console.shell("Texts and chats").await, caught, chats }))
}

#[derive(serde::Deserialize)]
pub struct PhoneReply {
    phone: String,
    body: String,
}

/// The demo's stand-in phone answers STOP or START to a text it got.
pub async fn reply(State(app): State<App>, console: Console, Form(form): Form<PhoneReply>) -> PageResult {
    use tidings_app::sms_hooks::Inbound;
    let note = match mail_catcher::reply_from_phone(&app, &console.caller, &form.phone, &form.body).await? {
        Inbound::OptedOut(n) => format!(
            "{} texted {}: SMS consent withdrawn for {n} member(s); see their consent history.",
            form.phone, form.body
        ),
        Inbound::OptedIn(n) => {
            format!("{} texted {}: SMS consent given again for {n} member(s).", form.phone, form.body)
        }
        Inbound::Ignored => {
            format!("{} texted {}: no member has that number, or it is not a keyword.", form.phone, form.body)
        }
    };
    console.flash(note).await;
    Ok(Redirect::to("/admin/chats").into_response())
}
