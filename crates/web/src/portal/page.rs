//! What every portal page has: the frame (language, CSRF token, who is signed in, a flash
//! note, the must-know pop-up), rendering a template into a response, and errors as pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tidings_app::AppError;
use tidings_app::i18n::Tr;
use tidings_core::MessageId;

use crate::error::page_status;

/// The part of every page that is not the page's own content.
pub struct Frame {
    pub tr: Tr,
    pub lang: &'static str,
    pub csrf: String,
    /// The path of this page, to come back to after closing the pop-up.
    pub path: String,
    pub member_name: Option<String>,
    /// The member leads their partner: the team page is theirs.
    pub is_lead: bool,
    pub flash: Option<String>,
    pub popup: Option<Popup>,
}

/// A critical message still awaiting this member's acknowledgment.
pub struct Popup {
    pub message_id: MessageId,
    pub title: String,
    pub summary: String,
    pub statement: String,
}

impl Frame {
    pub fn new(tr: Tr, csrf: String, path: String) -> Self {
        Self { lang: tr.code(), tr, csrf, path, member_name: None, is_lead: false, flash: None, popup: None }
    }

    /// The page's text in its language (askama calls it from templates).
    pub fn t(&self, key: &str) -> String {
        self.tr.text(key)
    }

    pub fn t1(&self, key: &str, name: &str, value: impl std::fmt::Display) -> String {
        self.tr.text_with(key, name, &value.to_string())
    }
}

/// No script runs on a portal page, nothing loads from elsewhere but images, forms post
/// only here, and no other site may frame a page (its buttons cannot be clickjacked).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Renders a page with a status.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    render_with_policy(status, page, CONTENT_SECURITY_POLICY)
}

/// Renders a page under a Content-Security-Policy of the surface's own.
pub fn render_with_policy(status: StatusCode, page: &impl Template, policy: &'static str) -> Response {
    match page.render() {
        Ok(html) => {
            let headers = [
                ("cache-control", "no-store"),
                ("content-security-policy", policy),
                ("x-content-type-options", "nosniff"),
                ("referrer-policy", "no-referrer"),
            ];
            (status, headers, Html(html)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "a page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage {
    frame: Frame,
    text: String,
}

/// An error page; a member never sees internals, and never learns whether something they
/// may not see exists (not found and forbidden read the same).
pub fn failure(tr: &Tr, error: AppError) -> Response {
    let text = match &error {
        AppError::NotFound(_) | AppError::Forbidden(_) => tr.text("error-not-found"),
        // An attestation's answers name their label: the form's keys mean nothing to a member.
        AppError::Invalid(errors) => errors
            .iter()
            .map(|e| if e.field.starts_with("answers.") { e.message.clone() } else { e.to_string() })
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict(reason) => reason.clone(),
        AppError::TooMany(_) => tr.text("error-too-many"),
        AppError::Unauthorized => tr.text("sign-in-link-failed"),
        AppError::Unexpected(e) => {
            tracing::error!(error = format!("{e:#}"), "a portal request failed");
            tr.text("error-unexpected")
        }
    };
    // The portal's one rule of its own: what a member may not see reads as not found.
    let status = match &error {
        AppError::Forbidden(_) => StatusCode::NOT_FOUND,
        other => page_status(other),
    };
    error_page(tr, status, text)
}

/// A use case's error as a portal error page in the member's language: handlers return
/// `Result<Response, PortalError>` and use `result.or_page(&tr)?`.
#[derive(Debug)]
pub struct PortalError {
    tr: Tr,
    error: AppError,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        failure(&self.tr, self.error)
    }
}

/// What a portal handler answers.
pub type PortalResult = Result<Response, PortalError>;

/// Turns a use case's error into a portal page in the member's language.
pub trait OrPage<T> {
    fn or_page(self, tr: &Tr) -> Result<T, PortalError>;
}

impl<T> OrPage<T> for Result<T, AppError> {
    fn or_page(self, tr: &Tr) -> Result<T, PortalError> {
        self.map_err(|error| PortalError { tr: tr.clone(), error })
    }
}

/// A form the CSRF check refused: expired (or forged) or too large.
pub fn form_refused(tr: &Tr, status: StatusCode) -> Response {
    error_page(tr, status, tr.text("error-form-expired"))
}

pub fn error_page(tr: &Tr, status: StatusCode, text: String) -> Response {
    render(status, &ErrorPage { frame: Frame::new(tr.clone(), String::new(), String::new()), text })
}
