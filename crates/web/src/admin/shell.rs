//! What every console page has: the shell (who is signed in, the navigation their role
//! allows, the CSRF token, a flash note), rendering a page, and errors as pages.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use tidings_app::AppError;
use tidings_app::i18n::Tr;
use tidings_core::{Action, Staff, StaffRole};

use crate::error::page_status;
use crate::portal::page::render_with_policy;

/// Console pages run no inline script and load nothing from elsewhere; the one script
/// they may load is the console's own, from this origin; the one frame, the email preview.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; script-src 'self'; \
     img-src 'self' https: data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The sections of the console and what a role needs to see each.
const SECTIONS: &[(&str, &str, Action)] = &[
    ("/admin", "Overview", Action::ReadDirectory),
    ("/admin/messages", "Messages", Action::ReadDirectory),
    ("/admin/partners", "Partners", Action::ReadDirectory),
    ("/admin/members", "Members", Action::ReadDirectory),
    ("/admin/segments", "Segments", Action::ReadDirectory),
    ("/admin/topics", "Topics", Action::ReadDirectory),
    ("/admin/ladders", "Ladders", Action::ReadDirectory),
    ("/admin/automation", "Automation", Action::ReadDirectory),
    ("/admin/tasks", "Tasks", Action::ReadDirectory),
    ("/admin/compliance", "Compliance", Action::ReadDirectory),
    ("/admin/overdue", "Overdue", Action::ReadDirectory),
    ("/admin/engagement", "Engagement", Action::ReadDirectory),
    ("/admin/staff", "Staff", Action::ManageStaff),
    ("/admin/tokens", "API tokens", Action::ManageTokens),
    ("/admin/audit", "Audit log", Action::ReadAudit),
    ("/admin/webhooks", "Webhooks", Action::Configure),
    ("/admin/settings", "Settings", Action::Configure),
    ("/admin/system", "System", Action::Configure),
];

/// Only in a demo that catches its mail.
const MAIL_CATCHER: (&str, &str, Action) = ("/admin/mail", "Mail catcher", Action::Configure);
/// Only in a demo whose texts and chat messages go to stand-in providers.
const CHAT_CATCHER: (&str, &str, Action) = ("/admin/chats", "Texts and chats", Action::Configure);

/// Which of the demo's catchers run, for the menu.
#[derive(Debug, Clone, Copy, Default)]
pub struct Catching {
    pub mail: bool,
    pub chats: bool,
}

/// The part of every page that is not the page's own content.
pub struct Shell {
    pub title: String,
    pub csrf: String,
    pub person_name: String,
    pub role: StaffRole,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
}

impl Shell {
    /// The demo's catchers that run are in the menu.
    pub fn new(
        person: &Staff,
        csrf: String,
        path: &str,
        title: String,
        flash: Option<String>,
        catching: Catching,
    ) -> Self {
        let nav = SECTIONS
            .iter()
            .chain(catching.mail.then_some(&MAIL_CATCHER))
            .chain(catching.chats.then_some(&CHAT_CATCHER))
            .filter(|(_, _, needs)| person.role.may(*needs))
            .map(|(href, label, _)| NavItem {
                href,
                label,
                current: if *href == "/admin" { path == "/admin" } else { path.starts_with(href) },
            })
            .collect();
        Self { title, csrf, person_name: person.name.clone(), role: person.role, nav, flash }
    }

    /// Whether this person may do `action` (templates show only the buttons that work).
    pub fn may(&self, action: Action) -> bool {
        self.role.may(action)
    }
}

pub fn render(status: StatusCode, page: &impl Template) -> Response {
    render_with_policy(status, page, CONTENT_SECURITY_POLICY)
}

#[derive(Template)]
#[template(path = "admin/error.html")]
struct ErrorPage {
    status: u16,
    text: String,
}

/// An error page. Staff see why their input was refused; internals stay in the log.
pub fn failure(error: AppError) -> Response {
    let text = match &error {
        AppError::NotFound(what) => format!("No such {what}."),
        AppError::Forbidden(doing) => format!("Your role does not allow you to {doing}."),
        AppError::Invalid(errors) => errors.to_string(),
        AppError::Conflict(reason) | AppError::TooMany(reason) => reason.clone(),
        AppError::Unauthorized => "Please sign in again.".to_owned(),
        AppError::Unexpected(e) => {
            tracing::error!(error = format!("{e:#}"), "a console request failed");
            "Something went wrong on our side; it has been logged.".to_owned()
        }
    };
    error_page(page_status(&error), text)
}

/// A use case's error as the console's error page: handlers return
/// `Result<Response, PageError>` and use `?`.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

impl axum::response::IntoResponse for PageError {
    fn into_response(self) -> Response {
        failure(self.0)
    }
}

/// What a console handler answers.
pub type PageResult = Result<Response, PageError>;

pub fn error_page(status: StatusCode, text: String) -> Response {
    render(status, &ErrorPage { status: status.as_u16(), text })
}

/// A form the CSRF check refused.
pub fn form_refused(_: &Tr, status: StatusCode) -> Response {
    error_page(status, "This form has expired. Go back, reload the page and try again.".to_owned())
}

/// A time in the zone a message's author gave it, with UTC beside it when that differs:
/// `2026-12-24 09:00 Europe/Berlin (08:00 UTC)`.
pub fn when_in(t: impl Value<tidings_core::Timestamp>, zone: &tidings_core::TimeZone) -> String {
    let t = t.value();
    if zone.as_str() == "UTC" {
        return when(t);
    }
    format!("{} ({})", t.stated(zone), when(t))
}

/// A time as staff read it: `2026-11-23 15:19 UTC` (staff work across zones; UTC is the
/// one every report and export agrees on).
pub fn when(t: impl Value<tidings_core::Timestamp>) -> String {
    let text = t.value().to_rfc3339();
    format!("{} UTC", text.get(..16).unwrap_or(&text).replace('T', " "))
}

/// A delivery's purpose as staff read it: "Reminder 2", "Escalation 1".
pub fn purpose_label(purpose: impl Value<tidings_core::deliveries::Purpose>) -> String {
    use tidings_core::deliveries::Purpose;
    match purpose.value() {
        Purpose::Reminder(n) => format!("Reminder {n}"),
        Purpose::Escalation(n) => format!("Escalation {n}"),
        Purpose::Correction(n) => format!("Correction {n}"),
        other => other.to_string(),
    }
}

/// A share as a whole percentage, 0 when there is nothing to share.
/// The one rounding rule for shares on every console page and chart: to the nearest whole
/// percent, halves up (4.5 % shows as 5 %, 4.4 % as 4 %).
pub fn percent(part: impl Value<i64>, whole: impl Value<i64>) -> i64 {
    let (part, whole) = (part.value(), whole.value());
    if whole <= 0 { 0 } else { (part * 200 + whole) / (2 * whole) }
}

/// A value or a reference to one, however deep: templates pass fields by reference.
pub trait Value<T> {
    fn value(&self) -> T;
}

impl Value<tidings_core::Timestamp> for tidings_core::Timestamp {
    fn value(&self) -> tidings_core::Timestamp {
        *self
    }
}

impl Value<tidings_core::deliveries::Purpose> for tidings_core::deliveries::Purpose {
    fn value(&self) -> tidings_core::deliveries::Purpose {
        *self
    }
}

impl Value<i64> for i64 {
    fn value(&self) -> i64 {
        *self
    }
}

impl<T, V: Value<T> + ?Sized> Value<T> for &V {
    fn value(&self) -> T {
        (**self).value()
    }
}
