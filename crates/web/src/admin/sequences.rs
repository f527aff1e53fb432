//! Sequences in the console: each as a funnel (how many entered, went through each step,
//! wait at each, met the goal, ran out of steps, were taken out) beside its form: the
//! entry and goal events and the steps, each a wait, a condition and a message.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::automation::event_types::EventTypeInfo;
use tidings_app::automation::sequences::SequenceSummary;
use tidings_app::{App, AppError};
use tidings_core::automation::sequence::{MOST_STEPS, Sequence, SequenceDraft, SequenceStepDraft};
use tidings_core::messages::{ContentDraft, Importance, VariantDraft};
use tidings_core::{Action, FieldErrors};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

/// A step row of the form ("" on a blank row).
#[derive(Debug, Clone, Default)]
pub struct StepRow {
    pub name: String,
    /// Hours after the step before (the first: after entry).
    pub wait_hours: String,
    pub condition: String,
    pub importance: String,
    pub title: String,
    pub what_to_do: String,
}

#[derive(Debug, Clone, Default)]
pub struct SequenceForm {
    pub key: String,
    pub name: String,
    pub entry_event: String,
    pub entry_condition: String,
    pub entry_rule: String,
    pub goal_event: String,
    pub topic: String,
    pub enabled: bool,
    pub steps: Vec<StepRow>,
}

#[derive(Template)]
#[template(path = "admin/sequence.html")]
struct SequencePage {
    shell: Shell,
    form: SequenceForm,
    editing: Option<String>,
    /// The funnel as a chart and its rows, when editing.
    chart: String,
    rows: Vec<(String, i64)>,
    types: Vec<EventTypeInfo>,
    topics: Vec<(String, String)>,
    importances: Vec<&'static str>,
    can_compose: bool,
    errors: Option<FieldErrors>,
}

fn hours(minutes: u32) -> String {
    if minutes.is_multiple_of(60) { (minutes / 60).to_string() } else { format!("{:.2}", f64::from(minutes) / 60.0) }
}

/// The form's rows: the steps, then blank ones (at least two, up to the most a sequence holds).
fn with_blanks(mut rows: Vec<StepRow>) -> Vec<StepRow> {
    let blanks = MOST_STEPS.saturating_sub(rows.len()).min(2);
    rows.extend((0..blanks).map(|_| StepRow { importance: "info".into(), ..Default::default() }));
    rows
}

impl SequenceForm {
    fn of(s: &Sequence, topic: String) -> Self {
        let steps = s
            .steps
            .iter()
            .map(|st| {
                let v = st.content.variants.get(&st.content.default_locale);
                StepRow {
                    name: st.name.clone(),
                    wait_hours: hours(st.after_minutes),
                    condition: st.condition.clone().unwrap_or_default(),
                    importance: st.importance.as_str().to_owned(),
                    title: v.map(|v| v.title.clone()).unwrap_or_default(),
                    what_to_do: v.map(|v| v.what_to_do.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Self {
            key: s.key.to_string(),
            name: s.name.clone(),
            entry_event: s.entry_event.to_string(),
            entry_condition: s.entry_condition.clone().unwrap_or_default(),
            entry_rule: s.entry_rule.clone().unwrap_or_default(),
            goal_event: s.goal_event.as_ref().map(ToString::to_string).unwrap_or_default(),
            topic,
            enabled: s.enabled,
            steps: with_blanks(steps),
        }
    }

    fn parse(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut steps = Vec::new();
        for i in 0..MOST_STEPS {
            let row = StepRow {
                name: one(&format!("name.{i}")),
                wait_hours: one(&format!("wait.{i}")),
                condition: one(&format!("condition.{i}")),
                importance: one(&format!("importance.{i}")),
                title: one(&format!("title.{i}")),
                what_to_do: one(&format!("what_to_do.{i}")),
            };
            if !(row.name.trim().is_empty() && row.title.trim().is_empty()) {
                steps.push(row);
            }
        }
        Self {
            key: one("key"),
            name: one("name"),
            entry_event: one("entry_event"),
            entry_condition: one("entry_condition"),
            entry_rule: one("entry_rule"),
            goal_event: one("goal_event"),
            topic: one("topic"),
            enabled: pairs.iter().any(|(k, _)| k == "enabled"),
            steps,
        }
    }

    fn draft(&self) -> Result<SequenceDraft, FieldErrors> {
        let some = |s: &str| Some(s.to_owned()).filter(|s| !s.trim().is_empty());
        let mut errors = FieldErrors::new();
        let mut steps = Vec::new();
        for (i, row) in self.steps.iter().enumerate() {
            let after_minutes = match row.wait_hours.trim() {
                "" => Some(0),
                h => match h.parse::<f64>() {
                    Ok(h) if (0.0..=2160.0).contains(&h) => Some((h * 60.0).round() as u32),
                    _ => {
                        errors.add(
                            &format!("steps[{i}].after_minutes"),
                            format!("'{h}' is not a number of hours from 0 to 2160 (90 days)"),
                        );
                        None
                    }
                },
            };
            let variant =
                VariantDraft { title: some(&row.title), what_to_do: some(&row.what_to_do), ..Default::default() };
            steps.push(SequenceStepDraft {
                name: some(&row.name),
                after_minutes,
                condition: Some(row.condition.clone()),
                importance: some(&row.importance),
                channels: None,
                content: Some(ContentDraft { default_locale: None, variants: [("en".to_owned(), variant)].into() }),
            });
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(SequenceDraft {
            key: some(&self.key),
            name: some(&self.name),
            entry_event: some(&self.entry_event),
            entry_condition: Some(self.entry_condition.clone()),
            entry_rule: Some(self.entry_rule.clone()),
            goal_event: Some(self.goal_event.clone()),
            topic_id: None,
            topic: some(&self.topic),
            steps: Some(steps),
            enabled: Some(self.enabled),
        })
    }
}

/// The funnel's rows: entered, each step, the goal.
fn funnel_rows(s: &SequenceSummary) -> Vec<(String, i64)> {
    let mut rows = vec![("Entered".to_owned(), s.funnel.entered)];
    for (i, step) in s.sequence.steps.iter().enumerate() {
        rows.push((format!("{}. {}", i + 1, step.name), s.funnel.reached.get(i).copied().unwrap_or_default()));
    }
    if s.sequence.goal_event.is_some() {
        rows.push(("Goal met".to_owned(), s.funnel.converted));
    }
    rows
}

pub async fn new(State(app): State<App>, console: Console) -> PageResult {
    console.caller.require(Action::Compose, "change sequences")?;
    let form = SequenceForm {
        enabled: true,
        entry_event: "member.created".into(),
        steps: with_blanks(Vec::new()),
        ..Default::default()
    };
    page(&app, &console, form, None, None, None).await
}

pub async fn show(State(app): State<App>, console: Console, Path(key): Path<String>) -> PageResult {
    let summary = tidings_app::automation::sequences::get(&app, &console.caller, &key).await?;
    let topic = tidings_app::topics::get(&app, &console.caller, summary.sequence.topic_id).await?;
    let form = SequenceForm::of(&summary.sequence, topic.key.to_string());
    page(&app, &console, form, Some(key), Some(&summary), None).await
}

async fn page(
    app: &App,
    console: &Console,
    form: SequenceForm,
    editing: Option<String>,
    summary: Option<&SequenceSummary>,
    errors: Option<FieldErrors>,
) -> PageResult {
    let topics = tidings_app::topics::list(app, &console.caller, None, Some(500)).await?.items;
    let rows = summary.map(funnel_rows).unwrap_or_default();
    let steps: Vec<(&str, i64)> = rows.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    let chart = if steps.is_empty() { String::new() } else { super::charts::funnel("How far people got", &steps) };
    let page = SequencePage {
        shell: console.shell(if editing.is_some() { form.name.clone() } else { "New sequence".into() }).await,
        chart,
        rows,
        form,
        editing,
        types: tidings_app::automation::event_types::list(app, &console.caller).await?,
        topics: topics.into_iter().map(|t| (t.key.to_string(), t.name)).collect(),
        importances: Importance::ALL.iter().map(|i| i.as_str()).collect(),
        can_compose: console.caller.role.may(Action::Compose),
        errors,
    };
    let status = if page.errors.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &page))
}

pub async fn save(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let mut form = SequenceForm::parse(&pairs);
    let editing = pairs.iter().find(|(k, _)| k == "editing").map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let saved = match form.draft() {
        Ok(draft) => tidings_app::automation::sequences::put(&app, &console.caller, &draft).await,
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match saved {
        Ok((s, created)) => {
            let verb = if created { "created" } else { "saved" };
            console
                .flash(format!("Sequence \"{}\" {verb}: {} events enrol people from now on.", s.name, s.entry_event))
                .await;
            Ok(Redirect::to(&format!("/admin/automation/sequences/{}", s.key)).into_response())
        }
        Err(AppError::Invalid(errors)) => {
            form.steps = with_blanks(std::mem::take(&mut form.steps));
            let summary = match &editing {
                Some(k) => tidings_app::automation::sequences::get(&app, &console.caller, k).await.ok(),
                None => None,
            };
            page(&app, &console, form, editing, summary.as_ref(), Some(errors)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete(State(app): State<App>, console: Console, Path(key): Path<String>) -> PageResult {
    tidings_app::automation::sequences::delete(&app, &console.caller, &key).await?;
    console.flash(format!("Sequence {key} deleted; the people in it were taken out.")).await;
    Ok(Redirect::to("/admin/automation#sequences").into_response())
}
