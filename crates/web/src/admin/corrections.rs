//! Correcting a message that went out, in the console: the whole text in a form, whether
//! the change is material (everyone acknowledges again) or editorial, and why.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::corrections::{self, VersionWithChanges};
use tidings_app::{App, AppError, messages};
use tidings_core::messages::{CorrectionDraft, CorrectionKind, Message};
use tidings_core::{FieldErrors, MessageId};

use super::console::Console;
use super::forms::ComposeForm;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/correct.html")]
struct CorrectPage {
    shell: Shell,
    message: Message,
    form: ComposeForm,
    kind: String,
    note: String,
    statement: String,
    errors: Option<FieldErrors>,
    asks_acknowledgment: bool,
}

async fn page(
    app: &App,
    console: &Console,
    id: MessageId,
    filled: Option<(ComposeForm, String, String, String)>,
    errors: Option<FieldErrors>,
) -> PageResult {
    let message = messages::get(app, &console.caller, id).await?;
    let statement = message.acknowledgment.as_ref().map(|a| a.statement.clone()).unwrap_or_default();
    let (form, kind, note, statement) =
        filled.unwrap_or_else(|| (ComposeForm::from_message(&message), String::new(), String::new(), statement));
    let page = CorrectPage {
        shell: console.shell(format!("Correct: {}", message.title())).await,
        asks_acknowledgment: message.acknowledgment.is_some(),
        message,
        form,
        kind,
        note,
        statement,
        errors,
    };
    let status = if page.errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &page))
}

pub async fn show(State(app): State<App>, console: Console, Path(id): Path<MessageId>) -> PageResult {
    page(&app, &console, id, None, None).await
}

pub async fn submit(
    State(app): State<App>,
    console: Console,
    Path(id): Path<MessageId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let field = |name: &str| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (kind, note, statement) = (field("kind"), field("note"), field("statement"));
    let (form, _) = ComposeForm::parse(pairs);
    let draft = CorrectionDraft {
        kind: Some(kind.clone()).filter(|k| !k.is_empty()),
        note: Some(note.clone()),
        content: Some(form.content()),
        statement: Some(statement.clone()),
    };
    match corrections::correct(&app, &console.caller, id, &draft).await {
        Ok(done) => {
            let kind = done.version.correction.unwrap_or(CorrectionKind::Editorial);
            let said = match kind {
                CorrectionKind::Material => format!(
                    "Corrected as version {}: {} acknowledgments set aside, everyone is asked again, {} notices queued.",
                    done.version.version, done.acknowledgments_set_aside, done.notices_queued
                ),
                CorrectionKind::Editorial => {
                    format!("Corrected as version {}: acknowledgments stand.", done.version.version)
                }
            };
            console.flash(said).await;
            Ok(Redirect::to(&format!("/admin/messages/{id}")).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            page(&app, &console, id, Some((form, kind, note, statement)), Some(errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The message page's list of versions, when it was corrected.
pub(super) async fn versions(app: &App, console: &Console, id: MessageId) -> Result<Vec<VersionWithChanges>, AppError> {
    corrections::versions(app, &console.caller, id).await
}
