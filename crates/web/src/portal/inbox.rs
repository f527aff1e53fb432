//! The inbox page: the member's messages, newest first, with search and filters; must-know
//! ones stand out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use serde::{Deserialize, Serialize};
use tidings_app::inbox::{self, InboxEntry, InboxQuery};
use tidings_app::{App, AppError};
use tidings_core::messages::Importance;
use tidings_core::{Topic, TopicId};

use super::page::{Frame, OrPage, PortalResult, render};
use super::visitor::Signed;
use tidings_app::i18n::Tr;

/// The filters as the form sends them; an empty field means no filter.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    importance: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    unread: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    needs_ack: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

/// The filters as the template reads them.
pub struct Shown {
    q: String,
    topic: String,
    importance: String,
    unread: bool,
    needs_ack: bool,
}

impl Filters {
    fn query(&self) -> Result<InboxQuery, AppError> {
        let topic_id = match self.topic.trim() {
            "" => None,
            id => Some(id.parse::<TopicId>().map_err(|_| AppError::invalid("topic", "not a topic of this portal"))?),
        };
        let importance = match self.importance.trim() {
            "" => None,
            level => Some(level.parse::<Importance>().map_err(|e| AppError::invalid("importance", e.to_string()))?),
        };
        let q = self.q.trim();
        if q.chars().count() > 200 {
            return Err(AppError::invalid("q", "search for at most 200 characters"));
        }
        Ok(InboxQuery {
            topic_id,
            importance,
            unread: !self.unread.is_empty(),
            needs_acknowledgment: !self.needs_ack.is_empty(),
            q: (!q.is_empty()).then(|| q.to_owned()),
            after: self.after.clone(),
            limit: Some(PAGE),
        })
    }

    fn shown(&self) -> Shown {
        Shown {
            q: self.q.trim().to_owned(),
            topic: self.topic.trim().to_owned(),
            importance: self.importance.trim().to_owned(),
            unread: !self.unread.is_empty(),
            needs_ack: !self.needs_ack.is_empty(),
        }
    }
}

const PAGE: u32 = 25;

pub struct Entry {
    id: String,
    importance: &'static str,
    importance_label: String,
    title: String,
    summary: String,
    released: String,
    released_iso: String,
    unread: bool,
    needs_ack: bool,
    acknowledged: bool,
}

pub fn importance_label(tr: &Tr, importance: Importance) -> String {
    tr.text(&format!("importance-{}", importance.as_str()))
}

fn entry(tr: &Tr, zone: &tidings_core::TimeZone, e: &InboxEntry) -> Entry {
    Entry {
        id: e.message_id.to_string(),
        importance: e.importance.as_str(),
        importance_label: importance_label(tr, e.importance),
        title: e.title.clone(),
        summary: e.summary.clone(),
        released: e.released_at.local(zone),
        released_iso: e.released_at.to_rfc3339(),
        unread: e.read_at.is_none(),
        needs_ack: e.needs_acknowledgment,
        acknowledged: e.acknowledged_at.is_some(),
    }
}

#[derive(Template)]
#[template(path = "portal/inbox.html")]
struct InboxPage {
    frame: Frame,
    filters: Shown,
    topics: Vec<TopicOption>,
    importances: Vec<(&'static str, String)>,
    entries: Vec<Entry>,
    older: Option<String>,
}

struct TopicOption {
    id: String,
    name: String,
}

impl From<Topic> for TopicOption {
    fn from(t: Topic) -> Self {
        Self { id: t.id.to_string(), name: t.name }
    }
}

pub async fn list(State(app): State<App>, signed: Signed, Query(filters): Query<Filters>) -> PortalResult {
    let tr = signed.visitor.tr.clone();
    let query = filters.query().or_page(&tr)?;
    let skip = super::popup_skips(&signed, None).await;
    let overview = inbox::overview(&app, &signed.member, Some(&query), &skip).await.or_page(&tr)?;
    let page = overview.page.unwrap_or(tidings_app::Page { items: Vec::new(), next: None });
    let topics = overview.topics;
    let frame = super::frame_with(&signed, overview.popup).await;
    let zone = &signed.member.profile.time_zone;
    let shown = filters.shown();
    let older = page.next.map(|next| {
        let more = Filters { after: Some(next), ..filters };
        format!("/portal?{}", serde_urlencoded::to_string(&more).unwrap_or_default())
    });
    let importances = [Importance::Critical, Importance::Action, Importance::Info]
        .into_iter()
        .map(|i| (i.as_str(), importance_label(&tr, i)))
        .collect();
    Ok(render(
        StatusCode::OK,
        &InboxPage {
            filters: shown,
            frame,
            topics: topics.into_iter().map(TopicOption::from).collect(),
            importances,
            entries: page.items.iter().map(|e| entry(&tr, zone, e)).collect(),
            older,
        },
    ))
}
