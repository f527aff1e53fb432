//! One message as the member sees it (opening it records the view): what changed, why it
//! matters, what to do next and the call to action; and, where the message asks for it,
//! the acknowledgment: the statement shown, one deliberate button, nothing else.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::App;
use tidings_app::corrections::CorrectionShown;
use tidings_app::inbox::{self, InboxMessage};
use tidings_core::MessageId;
use tidings_core::messages::diff::Change;
use tidings_core::messages::{CallToAction, CorrectionKind};

use super::attestation::{self, AskedField};
use super::inbox::importance_label;
use super::page::{Frame, OrPage, PortalResult, render};
use super::visitor::Signed;
use crate::extract::{Path, RequestOrigin};

struct Shown {
    lang: String,
    importance: &'static str,
    importance_label: String,
    released: String,
    released_iso: String,
    title: String,
    summary: String,
    what_changed: String,
    why_it_matters: String,
    what_to_do: String,
    call_to_action: Option<CallToAction>,
    content_hash: String,
}

/// A word diff's run as the page marks it up.
struct RunShown {
    removed: bool,
    added: bool,
    text: String,
}

struct FieldShown {
    label: String,
    runs: Vec<RunShown>,
}

struct CorrectionPart {
    title: String,
    note: String,
    what_it_means: String,
    earlier: Vec<String>,
    changes: Vec<FieldShown>,
}

impl CorrectionPart {
    fn new(tr: &tidings_app::i18n::Tr, zone: &tidings_core::TimeZone, c: CorrectionShown) -> Self {
        let what_it_means = match c.correction {
            CorrectionKind::Material => tr.text("message-corrected-material"),
            CorrectionKind::Editorial => tr.text("message-corrected-editorial"),
        };
        let earlier = c
            .earlier_acknowledgments
            .iter()
            .map(|a| {
                let values = [("version", a.version.to_string()), ("date", a.acknowledged_at.local(zone))];
                tr.text_with_all("message-corrected-earlier", &values)
            })
            .collect();
        let changes = c
            .changes
            .into_iter()
            .map(|f| FieldShown {
                label: tr.text(field_label(&f.field)),
                runs: f
                    .runs
                    .into_iter()
                    .map(|r| RunShown {
                        removed: r.change == Change::Removed,
                        added: r.change == Change::Added,
                        text: r.text,
                    })
                    .collect(),
            })
            .collect();
        Self {
            title: tr.text_with("message-corrected-title", "date", &c.corrected_at.local(zone)),
            note: c.note,
            what_it_means,
            earlier,
            changes,
        }
    }
}

/// The heading a field of the message goes under on this page.
fn field_label(field: &str) -> &'static str {
    match field {
        "title" => "message-field-title",
        "summary" => "message-field-summary",
        "what_changed" => "message-what-changed",
        "why_it_matters" => "message-why-it-matters",
        "what_to_do" => "message-what-to-do",
        _ => "message-field-call-to-action",
    }
}

struct AckShown {
    statement: String,
    due: Option<String>,
    done: Option<String>,
    /// The attestation form's fields, asked with the acknowledgment.
    asked: Vec<AskedField>,
    /// Once acknowledged, what the member stated: each label and answer.
    stated: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "portal/message.html")]
pub(crate) struct MessagePage {
    frame: Frame,
    m: Shown,
    ack: Option<AckShown>,
    correction: Option<CorrectionPart>,
    /// Where the acknowledgment form posts.
    ack_action: String,
    /// A link back to the inbox (not on the page an email's link opens).
    back: bool,
}

impl MessagePage {
    /// The message as this member sees it, in their time zone and the frame's language.
    pub(crate) fn new(frame: Frame, zone: &tidings_core::TimeZone, message: InboxMessage, ack_action: String) -> Self {
        let tr = frame.tr.clone();
        let InboxMessage { entry, rendered, acknowledgment_record, correction } = message;
        let correction = correction.map(|c| CorrectionPart::new(&tr, zone, c));
        let ack = entry.acknowledgment.as_ref().map(|ask| AckShown {
            // Once acknowledged, the statement as it was confirmed.
            statement: acknowledgment_record.as_ref().map_or_else(|| ask.statement.clone(), |r| r.statement.clone()),
            due: ask.due_at.map(|due| due.stated(zone)),
            done: acknowledgment_record.as_ref().map(|r| r.acknowledged_at.local(zone)),
            asked: attestation::fields(ask.attestation.as_ref()),
            stated: attestation::stated(
                ask.attestation.as_ref(),
                acknowledgment_record.as_ref().and_then(|r| r.attestation.as_ref()),
            ),
        });
        let m = Shown {
            lang: rendered.locale.to_string(),
            importance: entry.importance.as_str(),
            importance_label: importance_label(&tr, entry.importance),
            released: entry.released_at.local(zone),
            released_iso: entry.released_at.to_rfc3339(),
            title: rendered.title,
            summary: rendered.summary,
            what_changed: rendered.what_changed,
            why_it_matters: rendered.why_it_matters,
            what_to_do: rendered.what_to_do,
            call_to_action: rendered.call_to_action,
            content_hash: rendered.content_hash,
        };
        Self { frame, m, ack, correction, ack_action, back: false }
    }
}

pub async fn show(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<MessageId>,
    RequestOrigin(origin): RequestOrigin,
) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let message = inbox::view(&app, &signed.member, id, &origin).await.or_page(&tr)?;
    let frame = super::frame_for(&app, &signed, Some(id)).await.or_page(&tr)?;
    let action = format!("/portal/messages/{id}/acknowledge");
    let page = MessagePage { back: true, ..MessagePage::new(frame, &signed.member.profile.time_zone, message, action) };
    Ok(render(StatusCode::OK, &page))
}

/// The form's content hash, and its attestation answers (`answer.KEY`).
pub(crate) fn acknowledgment_fields(pairs: &[(String, String)]) -> (String, tidings_core::attestation::Given) {
    let hash = pairs.iter().find(|(n, _)| n == "content_hash").map(|(_, v)| v.clone()).unwrap_or_default();
    (hash, attestation::answers_from(pairs))
}

pub async fn acknowledge(
    State(app): State<App>,
    signed: Signed,
    Path(id): Path<MessageId>,
    RequestOrigin(origin): RequestOrigin,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PortalResult {
    let how = tidings_app::evidence::record::AckContext::PORTAL;
    let (hash, answers) = acknowledgment_fields(&pairs);
    let done = inbox::acknowledge(&app, &signed.member, id, &hash, &answers, &origin, how).await;
    done.or_page(&signed.visitor.tr)?;
    signed.flash(signed.visitor.tr.text("message-acknowledged")).await;
    Ok(Redirect::to(&format!("/portal/messages/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    back: String,
}

/// Closes the pop-up for this session; the message stays in the inbox, still awaiting.
pub async fn dismiss(signed: Signed, Path(id): Path<MessageId>, Form(form): Form<DismissForm>) -> PortalResult {
    signed.dismiss(id).await.or_page(&signed.visitor.tr)?;
    Ok(crate::redirect::see_other(&portal_path(&form.back)))
}

/// Only a path inside the portal: a `back` field can never send anyone elsewhere.
fn portal_path(back: &str) -> String {
    let inside = back.starts_with("/portal")
        && !back.contains("//")
        && !back.contains('\\')
        && !back.contains(':')
        && !back.chars().any(char::is_control);
    if inside { back.to_owned() } else { "/portal".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::portal_path;

    #[test]
    fn going_back_stays_inside_the_portal() {
        assert_eq!(portal_path("/portal/messages/1"), "/portal/messages/1");
        for outside in [
            "https://evil.example",
            "//evil.example",
            "/portal//evil",
            "/\\evil",
            "/admin",
            "",
            "javascript:x",
            "/portal\r\nSet-Cookie: x=1",
        ] {
            assert_eq!(portal_path(outside), "/portal", "{outside}");
        }
    }
}
