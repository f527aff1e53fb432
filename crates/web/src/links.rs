//! The links in an email: the open pixel, click tracking, the one-click unsubscribe
//! (RFC 8058: the POST works without cookies and answers without a redirect) and the
//! acknowledgment page. A GET never changes anything a person decides: mail scanners
//! open every link, so unsubscribing and acknowledging take a button (a POST).

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use tidings_app::tracking::PageLink;
use tidings_app::{App, AppError, tracking};

use tidings_core::Member;

use crate::extract::RequestOrigin;
use crate::portal::message::MessagePage;
use crate::portal::page::{Frame, error_page, render};
use tidings_app::i18n::Tr;

pub fn router() -> Router<App> {
    Router::new()
        .route("/t/o/{token}", get(open))
        .route("/t/c/{token}", get(click))
        .route("/u/{token}", get(unsubscribe_page).post(unsubscribe))
        .route("/a/{token}", get(acknowledge_page::<FROM_EMAIL>).post(acknowledge::<FROM_EMAIL>))
        .route("/s/{token}", get(acknowledge_page::<FROM_TEXT>).post(acknowledge::<FROM_TEXT>))
}

/// The smallest transparent GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff,
    0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
    0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn open(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
) -> Response {
    if let Err(e) = tracking::opened(&app, &token, &origin).await {
        tracing::warn!(error = %e, "an open could not be recorded");
    }
    ([(header::CONTENT_TYPE, "image/gif"), (header::CACHE_CONTROL, "no-store")], PIXEL).into_response()
}

async fn click(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
) -> Response {
    match tracking::clicked(&app, &token, &origin).await {
        Ok(url) => crate::redirect::see_other(&url),
        Err(e) => failure(&headers, e),
    }
}

#[derive(Template)]
#[template(path = "portal/unsubscribe.html")]
struct UnsubscribePage {
    frame: Frame,
    email: String,
    done: bool,
}

fn frame_for(member: &Member) -> Frame {
    Frame::new(Tr::for_locale(member.profile.locale.as_str()), String::new(), String::new())
}

async fn unsubscribe_page(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    match tracking::unsubscribe_subject(&app, &token).await {
        Ok(s) => {
            let email = s.member.profile.email.to_string();
            render(StatusCode::OK, &UnsubscribePage { frame: frame_for(&s.member), email, done: false })
        }
        Err(e) => failure(&headers, e),
    }
}

/// RFC 8058: mail clients POST `List-Unsubscribe=One-Click` without cookies; the answer
/// is the page itself, never a redirect.
async fn unsubscribe(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
) -> Response {
    match tracking::unsubscribe(&app, &token, &origin).await {
        Ok(s) => {
            let email = s.member.profile.email.to_string();
            render(StatusCode::OK, &UnsubscribePage { frame: frame_for(&s.member), email, done: true })
        }
        Err(e) => failure(&headers, e),
    }
}

/// Which link a handler serves: an email's acknowledgment link (`/a/`) or the one link of
/// a text or chat message (`/s/`), signed for another use but opening the same page.
const FROM_EMAIL: bool = false;
const FROM_TEXT: bool = true;

fn link_of(from_text: bool) -> PageLink {
    if from_text { PageLink::Text } else { PageLink::Email }
}

fn page_path(link: PageLink, token: &str) -> String {
    match link {
        PageLink::Email => format!("/a/{token}"),
        PageLink::Text => format!("/s/{token}"),
    }
}

/// The page the link opens: the message, and a button.
async fn acknowledge_page<const FROM: bool>(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
) -> Response {
    let link = link_of(FROM);
    match tracking::acknowledgment_page(&app, link, &token, &origin).await {
        Ok((member, view)) => {
            let page = MessagePage::new(frame_for(&member), &member.profile.time_zone, view, page_path(link, &token));
            render(StatusCode::OK, &page)
        }
        Err(e) => failure(&headers, e),
    }
}

/// The deliberate press of the page's button.
async fn acknowledge<const FROM: bool>(
    State(app): State<App>,
    axum::extract::Path(token): axum::extract::Path<String>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let link = link_of(FROM);
    let (hash, answers) = crate::portal::message::acknowledgment_fields(&pairs);
    let acknowledged = tracking::acknowledge_by_link(&app, link, &token, &hash, &answers, &origin).await;
    match (acknowledged, tracking::acknowledgment_page(&app, link, &token, &origin).await) {
        (Ok(_), Ok((member, view))) => {
            let mut frame = frame_for(&member);
            frame.flash = Some(frame.t("ack-link-done"));
            let page = MessagePage::new(frame, &member.profile.time_zone, view, page_path(link, &token));
            render(StatusCode::OK, &page)
        }
        (Err(e), _) | (_, Err(e)) => failure(&headers, e),
    }
}

/// Without a member (the link is bad), the page speaks the browser's language.
fn failure(headers: &HeaderMap, e: AppError) -> Response {
    let tr = Tr::for_accept_language(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
    match e {
        AppError::Invalid(_) | AppError::NotFound(_) => {
            error_page(&tr, StatusCode::BAD_REQUEST, tr.text("link-invalid"))
        }
        other => crate::portal::page::failure(&tr, other),
    }
}
