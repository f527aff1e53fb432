//! Segments in the console: the list, the builder (checked values and a written rule)
//! with a live count and breakdown, "explain this member", saving and deleting.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::{Deserialize, Serialize};
use tidings_app::audiences::{self, MemberExplanation, Preview};
use tidings_app::segments::Segment;
use tidings_app::segments::{self, SegmentDraft};
use tidings_app::{App, AppError};
use tidings_core::audiences::AudienceDraft;
use tidings_core::{Action, FieldErrors, SegmentId};

use super::console::Console;
use super::forms::RuleBuilder;
use super::messages::{Choices, choices};
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/segments.html")]
struct ListPage {
    shell: Shell,
    segments: Vec<Segment>,
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    let page = segments::list(&app, &console.caller, None, Some(500)).await?;
    Ok(render(StatusCode::OK, &ListPage { shell: console.shell("Segments").await, segments: page.items }))
}

/// The segment form as posted.
#[derive(Default)]
struct SegmentForm {
    name: String,
    description: String,
    builder: RuleBuilder,
    /// A member to explain (email or id).
    member: String,
    intent: String,
}

impl SegmentForm {
    fn parse(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (name, value) in pairs {
            if form.builder.take(&name, &value) {
                continue;
            }
            match name.as_str() {
                "name" => form.name = value,
                "description" => form.description = value,
                "member" => form.member = value,
                "intent" => form.intent = value,
                _ => {}
            }
        }
        form
    }

    fn audience(&self) -> AudienceDraft {
        AudienceDraft { rule: self.builder.rule(), ..Default::default() }
    }
}

#[derive(Template)]
#[template(path = "admin/segment.html")]
struct SegmentPage {
    shell: Shell,
    editing: Option<SegmentId>,
    name: String,
    description: String,
    builder: RuleBuilder,
    member: String,
    choices: Choices,
    errors: Option<FieldErrors>,
    audience: Option<Result<Preview, String>>,
    explained: Option<Result<MemberExplanation, String>>,
    can_write: bool,
}

async fn page(
    app: &App,
    console: &Console,
    editing: Option<SegmentId>,
    form: SegmentForm,
    errors: Option<FieldErrors>,
) -> PageResult {
    let choices = match choices(app, console).await {
        Ok(c) => c,
        Err(e) => return Err(e.into()),
    };
    let draft = form.audience();
    let audience = if draft.rule.is_some() { Some(preview(app, console, &draft).await) } else { None };
    let explained = match form.member.trim() {
        "" => None,
        member => Some(match audiences::explain(app, &console.caller, &draft, member, None).await {
            Ok(e) => Ok(e),
            Err(e @ (AppError::Invalid(_) | AppError::NotFound(_))) => Err(e.to_string()),
            Err(e) => return Err(e.into()),
        }),
    };
    let title = if editing.is_some() { format!("Segment: {}", form.name) } else { "New segment".to_owned() };
    let page = SegmentPage {
        shell: console.shell(title).await,
        editing,
        name: form.name,
        description: form.description,
        builder: form.builder,
        member: form.member,
        choices,
        errors,
        audience,
        explained,
        can_write: console.caller.role.may(Action::WriteSegments),
    };
    let status = if page.errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &page))
}

async fn preview(app: &App, console: &Console, draft: &AudienceDraft) -> Result<Preview, String> {
    match audiences::preview(app, &console.caller, draft).await {
        Ok(p) => Ok(p),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn new(State(app): State<App>, console: Console) -> PageResult {
    page(&app, &console, None, SegmentForm::default(), None).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ShowQuery {
    member: String,
}

pub async fn show(
    State(app): State<App>,
    console: Console,
    Path(id): Path<SegmentId>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let s = segments::get(&app, &console.caller, id).await?;
    let builder = RuleBuilder { rule: s.rule, ..Default::default() };
    let form =
        SegmentForm { name: s.name, description: s.description, builder, member: query.member, ..Default::default() };
    page(&app, &console, Some(id), form, None).await
}

pub async fn create(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    submit(&app, &console, None, SegmentForm::parse(pairs)).await
}

pub async fn update(
    State(app): State<App>,
    console: Console,
    Path(id): Path<SegmentId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    submit(&app, &console, Some(id), SegmentForm::parse(pairs)).await
}

/// Saves the segment; "count" and "explain" only show what it would select.
async fn submit(app: &App, console: &Console, editing: Option<SegmentId>, form: SegmentForm) -> PageResult {
    if form.intent != "save" {
        return page(app, console, editing, form, None).await;
    }
    let draft = SegmentDraft {
        name: Some(form.name.clone()),
        description: Some(form.description.clone()),
        rule: Some(form.builder.rule().unwrap_or_default()),
    };
    let saved = match editing {
        Some(id) => segments::update(app, &console.caller, id, &draft).await,
        None => segments::create(app, &console.caller, &draft).await,
    };
    match saved {
        Ok(s) => {
            console.flash(format!("Segment \"{}\" saved.", s.name)).await;
            Ok(Redirect::to(&format!("/admin/segments/{}", s.id)).into_response())
        }
        Err(AppError::Invalid(errors)) => page(app, console, editing, form, Some(errors)).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(State(app): State<App>, console: Console, Path(id): Path<SegmentId>) -> PageResult {
    let () = segments::delete(&app, &console.caller, id).await?;
    console.flash("Segment deleted.").await;
    Ok(Redirect::to("/admin/segments").into_response())
}

#[derive(Serialize)]
pub struct Count {
    size: Option<i64>,
    error: Option<String>,
}

/// The live count behind the builders of the segment and compose pages: the audience of
/// the posted form, as JSON.
pub async fn count(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let (form, _) = super::forms::ComposeForm::parse(pairs);
    let answer = match form.audience() {
        Ok(draft) => match audiences::count(&app, &console.caller, &draft).await {
            Ok(size) => Count { size: Some(size), error: None },
            Err(AppError::Invalid(e)) => Count { size: None, error: Some(e.to_string()) },
            Err(e) => return Err(e.into()),
        },
        Err(e) => Count { size: None, error: Some(e.to_string()) },
    };
    Ok(axum::Json(answer).into_response())
}
