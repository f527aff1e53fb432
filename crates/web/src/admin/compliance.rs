//! Acknowledgment compliance: the must-know messages, each one by partner with overdue
//! partners first, drill-down to a partner's members, the CSV export and a printable
//! evidence report.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use tidings_app::chase::ChasePlan;
use tidings_app::compliance::PartnerStanding;
use tidings_app::compliance::{self, PartnerReport, Report, Summary};
use tidings_app::{App, AppError};
use tidings_core::{MessageId, PartnerId};

use super::console::Console;
use super::shell::{PageResult, Shell, render, when};

/// The must-know messages a list shows.
const LISTED: i64 = 100;
/// Partners a compliance page lists at once, worst first; the filters and the CSV reach
/// the rest.
pub const PARTNERS_SHOWN: usize = 100;

#[derive(Template)]
#[template(path = "admin/compliance_list.html")]
struct ListPage {
    shell: Shell,
    messages: Vec<Summary>,
}

pub async fn list(State(app): State<App>, console: Console) -> PageResult {
    let messages = compliance::messages(&app, &console.caller, LISTED).await?;
    Ok(render(StatusCode::OK, &ListPage { shell: console.shell("Compliance").await, messages }))
}

/// The obligation states a compliance page filters by.
pub fn states() -> Vec<&'static str> {
    tidings_core::obligations::PartnerState::ALL.iter().map(|s| s.as_str()).collect()
}

#[derive(Deserialize, serde::Serialize, Default, Clone)]
#[serde(default)]
pub struct PartnerFilter {
    /// Part of a partner's name.
    q: String,
    /// Only partners with someone still to acknowledge.
    outstanding: Option<String>,
    /// Only partners in this obligation state (`overdue`, `at_risk`, `open`, `met`, `exempt`).
    state: String,
    /// Reload the page every 30 seconds, to watch acknowledgments arrive.
    live: Option<String>,
    /// How many of the matching partners to pass over (the list's pages).
    #[serde(skip_serializing_if = "is_zero")]
    from: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Where a page of the partner list stands, and the query strings of its neighbours.
pub struct PartnerPager {
    pub first: usize,
    pub last: usize,
    pub total: usize,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl PartnerPager {
    fn of(filter: &PartnerFilter, total: usize) -> Self {
        let query = |from: usize| serde_urlencoded::to_string(PartnerFilter { from, ..filter.clone() }).ok();
        let from = filter.from.min(total);
        Self {
            first: from + 1,
            last: (from + PARTNERS_SHOWN).min(total),
            total,
            previous: (from > 0).then(|| query(from.saturating_sub(PARTNERS_SHOWN))).flatten(),
            next: (from + PARTNERS_SHOWN < total).then(|| query(from + PARTNERS_SHOWN)).flatten(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin/compliance_report.html")]
struct ReportPage {
    shell: Shell,
    report: Report,
    partners: Vec<PartnerStanding>,
    filter: PartnerFilter,
    pager: PartnerPager,
    /// The message's escalation ladder as it runs, if it has one.
    chase: Option<ChasePlan>,
    can_chase: bool,
    /// The message asks members what they did: a column adds up their answers.
    stated: bool,
}

pub async fn report(
    State(app): State<App>,
    console: Console,
    Path(message): Path<MessageId>,
    Query(filter): Query<PartnerFilter>,
) -> PageResult {
    let mut report = compliance::report(&app, &console.caller, message).await?;
    let needle = filter.q.trim().to_lowercase();
    let matching: Vec<PartnerStanding> = std::mem::take(&mut report.partners)
        .into_iter()
        .filter(|p| filter.outstanding.is_none() || p.tally.outstanding() > 0)
        .filter(|p| filter.state.is_empty() || p.obligation.as_ref().is_some_and(|o| o.state.as_str() == filter.state))
        .filter(|p| needle.is_empty() || p.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&needle)))
        .collect();
    let pager = PartnerPager::of(&filter, matching.len());
    let partners: Vec<PartnerStanding> = matching.into_iter().skip(pager.first - 1).take(PARTNERS_SHOWN).collect();
    let chase = tidings_app::chase::plan(&app, &console.caller, message, false).await?;
    let can_chase = console.caller.role.may(tidings_core::Action::Compose);
    let shell = console.shell(format!("Compliance: {}", report.summary.title)).await;
    let stated = partners.iter().any(|p| p.attestation.is_some());
    Ok(render(StatusCode::OK, &ReportPage { shell, report, partners, filter, pager, chase, can_chase, stated }))
}

/// Runs the message's next ladder step now, before its time.
pub async fn chase_now(State(app): State<App>, console: Console, Path(message): Path<MessageId>) -> PageResult {
    let note = match tidings_app::chase::run_now(&app, &console.caller, message).await? {
        Some(ran) => format!(
            "{} ran now: {} sends queued (each waits for its person's working hours where the ladder asks).",
            super::shell::purpose_label(ran.step.purpose),
            ran.queued
        ),
        None => "No ladder step is left to run.".to_owned(),
    };
    console.flash(note).await;
    Ok(axum::response::Redirect::to(&format!("/admin/compliance/{message}#chase-heading")).into_response())
}

#[derive(Template)]
#[template(path = "admin/compliance_partner.html")]
struct PartnerPage {
    shell: Shell,
    report: PartnerReport,
}

pub async fn partner(
    State(app): State<App>,
    console: Console,
    Path((message, partner)): Path<(MessageId, PartnerId)>,
) -> PageResult {
    let report = compliance::partner(&app, &console.caller, message, partner).await?;
    let name = report.partner_name.clone().unwrap_or_else(|| "(deleted partner)".into());
    let shell = console.shell(format!("{name}: {}", report.summary.title)).await;
    Ok(render(StatusCode::OK, &PartnerPage { shell, report }))
}

/// The printable evidence report lists at most this many acknowledgments; the CSV export
/// has them all.
const EVIDENCE_ROWS: usize = 5_000;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct EvidenceScope {
    partner: Option<PartnerId>,
}

#[derive(Template)]
#[template(path = "admin/compliance_evidence.html")]
struct EvidencePage {
    shell: Shell,
    summary: Summary,
    statement: Option<String>,
    scope: Option<String>,
    rows: Vec<EvidenceRow>,
    more: bool,
    printed_at: String,
    printed_by: String,
    /// The evidence log's key and newest checkpoint.
    log: tidings_app::evidence::LogStatus,
}

struct EvidenceRow {
    partner: String,
    name: String,
    email: String,
    acknowledged_at: String,
    ip: String,
    locale: String,
    content_hash: String,
}

pub async fn evidence(
    State(app): State<App>,
    console: Console,
    Path(message): Path<MessageId>,
    Query(scope): Query<EvidenceScope>,
) -> PageResult {
    Ok(render(StatusCode::OK, &evidence_page(&app, &console, message, scope).await?))
}

async fn evidence_page(
    app: &App,
    console: &Console,
    message: MessageId,
    scope: EvidenceScope,
) -> Result<EvidencePage, AppError> {
    let report = compliance::report(app, &console.caller, message).await?;
    let partners: Vec<&PartnerStanding> = report
        .partners
        .iter()
        .filter(|p| p.tally.acknowledged > 0 && scope.partner.is_none_or(|s| s == p.partner_id))
        .collect();
    let mut rows = Vec::new();
    let mut more = false;
    for p in &partners {
        let members = compliance::partner(app, &console.caller, message, p.partner_id).await?.members;
        for m in members.into_iter().filter(|m| m.acknowledged_at.is_some()) {
            if rows.len() == EVIDENCE_ROWS {
                more = true;
                break;
            }
            let e = m.evidence.as_ref();
            rows.push(EvidenceRow {
                partner: p.name.clone().unwrap_or_default(),
                name: m.name.clone().unwrap_or_else(|| "(erased)".into()),
                email: m.email.clone().unwrap_or_default(),
                acknowledged_at: m.acknowledged_at.map(when).unwrap_or_default(),
                ip: e.and_then(|e| e.ip.clone()).unwrap_or_default(),
                locale: e.map(|e| e.locale.clone()).unwrap_or_default(),
                content_hash: e.map(|e| e.content_hash.clone()).unwrap_or_default(),
            });
        }
    }
    let scope_name = scope
        .partner
        .map(|s| partners.iter().find(|p| p.partner_id == s).and_then(|p| p.name.clone()).unwrap_or_default());
    let shell = console.shell(format!("Evidence: {}", report.summary.title)).await;
    Ok(EvidencePage {
        shell,
        summary: report.summary,
        statement: report.statement,
        scope: scope_name,
        rows,
        more,
        printed_at: when(app.clock.now()),
        printed_by: format!("{} <{}>", console.person.name, console.person.email),
        log: tidings_app::evidence::status(app, &console.caller).await?,
    })
}

pub async fn export(State(app): State<App>, console: Console, Path(message): Path<MessageId>) -> PageResult {
    let receiver = compliance::export_csv(&app, &console.caller, message).await?;
    Ok(super::download::chunks(&format!("acknowledgments-{message}.csv"), receiver))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partner_list_pages_by_a_hundred_and_keeps_its_filters() {
        let filter = PartnerFilter { q: "acme".into(), state: "overdue".into(), ..Default::default() };
        let first = PartnerPager::of(&filter, 250);
        assert_eq!((first.first, first.last, first.previous.as_deref()), (1, 100, None));
        assert_eq!(first.next.as_deref(), Some("q=acme&state=overdue&from=100"));
        let last = PartnerPager::of(&PartnerFilter { from: 200, ..filter.clone() }, 250);
        assert_eq!((last.first, last.last, last.next.as_deref()), (201, 250, None));
        assert_eq!(last.previous.as_deref(), Some("q=acme&state=overdue&from=100"));
        let back = PartnerPager::of(&PartnerFilter { from: 100, ..filter.clone() }, 250);
        assert_eq!(back.previous.as_deref(), Some("q=acme&state=overdue"), "the first page has no offset");
        let past = PartnerPager::of(&PartnerFilter { from: 900, ..filter }, 250);
        assert_eq!((past.first, past.last), (251, 250), "past the end: nothing listed, and the way back");
        assert!(past.previous.is_some());
    }
}
