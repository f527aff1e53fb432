//! Escalation ladders: who is chased about an unacknowledged must-know message, and when,
//! and which topic's messages each chases. Everyone reads; admins change ladders, and
//! those who may change topics pick a topic's ladder.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tidings_app::{App, AppError};
use tidings_core::escalation::{Ladder, LadderDraft, LadderStep, MOST_STEPS, StepTarget};
use tidings_core::{Action, TopicId};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

/// A step row of a ladder's form: the hours after the previous step and the target ("" on
/// a blank row).
pub struct StepRow {
    pub hours: String,
    pub target: &'static str,
}

pub struct LadderForm {
    pub ladder: Ladder,
    pub rows: Vec<StepRow>,
    /// The topics whose must-know messages it chases.
    pub topics: Vec<String>,
}

pub struct TopicRow {
    pub id: TopicId,
    pub name: String,
    pub ladder: String,
}

#[derive(Template)]
#[template(path = "admin/ladders.html")]
struct LaddersPage {
    shell: Shell,
    ladders: Vec<LadderForm>,
    topics: Vec<TopicRow>,
    blank: Vec<StepRow>,
    targets: Vec<(&'static str, &'static str)>,
    can_configure: bool,
    can_pick: bool,
}

/// The targets as the form names them.
const TARGETS: [(&str, &str); 3] = [
    ("members", "Remind the members who still owe"),
    ("partner_lead", "Tell their partner's lead who is outstanding"),
    ("partner_manager", "Tell the vendor's partner manager"),
];

/// A ladder's steps, then blank rows up to the most a ladder holds.
fn rows(steps: &[LadderStep]) -> Vec<StepRow> {
    let mut rows: Vec<StepRow> =
        steps.iter().map(|s| StepRow { hours: s.after_hours.to_string(), target: s.target.as_str() }).collect();
    let blanks = MOST_STEPS.saturating_sub(rows.len()).min(3);
    rows.extend((0..blanks).map(|_| StepRow { hours: String::new(), target: "" }));
    rows
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    let ladders = tidings_app::ladders::list(&app, &console.caller).await?;
    let topics = tidings_app::topics::list(&app, &console.caller, None, Some(500)).await?.items;
    let mut chased_by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut topic_rows = Vec::with_capacity(topics.len());
    for t in topics {
        let ladder = tidings_app::ladders::of_topic(&app, t.id).await?.map(|k| k.to_string()).unwrap_or_default();
        if !ladder.is_empty() {
            chased_by.entry(ladder.clone()).or_default().push(t.name.clone());
        }
        topic_rows.push(TopicRow { id: t.id, name: t.name, ladder });
    }
    let ladders = ladders
        .into_iter()
        .map(|l| {
            let topics = chased_by.remove(l.key.as_str()).unwrap_or_default();
            LadderForm { rows: rows(&l.steps), ladder: l, topics }
        })
        .collect();
    let page = LaddersPage {
        shell: console.shell("Escalation ladders").await,
        ladders,
        topics: topic_rows,
        blank: rows(&[]),
        targets: TARGETS.to_vec(),
        can_configure: console.caller.role.may(Action::Configure),
        can_pick: console.caller.role.may(Action::WriteDirectory),
    };
    Ok(render(StatusCode::OK, &page))
}

/// Reads the posted ladder: key, name, `hours.N` and `target.N` per step (blank rows left
/// out), repeat, and whether must-know reminders go at any hour.
fn draft(pairs: &[(String, String)]) -> Result<LadderDraft, AppError> {
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned());
    let mut steps = Vec::new();
    for i in 0..MOST_STEPS {
        let (Some(hours), Some(target)) = (field(&format!("hours.{i}")), field(&format!("target.{i}"))) else {
            continue;
        };
        if hours.is_empty() && target.is_empty() {
            continue;
        }
        let n = i + 1;
        let after_hours = hours
            .parse::<u32>()
            .map_err(|_| AppError::invalid("steps", format!("step {n}: '{hours}' is not a whole number of hours")))?;
        let target = target.parse::<StepTarget>().map_err(|e| AppError::invalid("steps", format!("step {n}: {e}")))?;
        steps.push(LadderStep { after_hours, target });
    }
    let repeat = match field("repeat").as_deref() {
        None | Some("") => 0,
        Some(r) => r.parse::<u8>().map_err(|_| AppError::invalid("repeat", format!("'{r}' is not a number")))?,
    };
    Ok(LadderDraft {
        key: field("key"),
        name: field("name"),
        steps: Some(steps),
        repeat: Some(repeat),
        working_hours_only: Some(field("any_hour").is_none()),
    })
}

pub async fn save(State(app): State<App>, console: Console, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let (ladder, created) = tidings_app::ladders::put(&app, &console.caller, &draft(&pairs)?).await?;
    let verb = if created { "created" } else { "saved" };
    console.flash(format!("Ladder \"{}\" {verb}; messages released from now on follow it.", ladder.name)).await;
    Ok(Redirect::to("/admin/ladders").into_response())
}

pub async fn delete(State(app): State<App>, console: Console, Path(key): Path<String>) -> PageResult {
    tidings_app::ladders::delete(&app, &console.caller, &key).await?;
    console.flash(format!("Ladder {key} deleted; chases already running keep their copy.")).await;
    Ok(Redirect::to("/admin/ladders").into_response())
}

#[derive(serde::Deserialize)]
pub struct TopicLadderForm {
    #[serde(default)]
    ladder: String,
}

pub async fn set_topic(
    State(app): State<App>,
    console: Console,
    Path(topic): Path<TopicId>,
    Form(form): Form<TopicLadderForm>,
) -> PageResult {
    let key = Some(form.ladder.trim()).filter(|k| !k.is_empty());
    tidings_app::ladders::set_for_topic(&app, &console.caller, topic, key).await?;
    console.flash("The topic's must-know messages follow its ladder from their release on.").await;
    Ok(Redirect::to("/admin/ladders#topics").into_response())
}
