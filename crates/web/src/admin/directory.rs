//! The partner directory in the console: partners and members with search and filters,
//! a partner's page with its members, a member's page with their timeline and consent
//! history, CSV export, and CSV import from the browser with a preview of what it would
//! do (every bad row, by line and column) before anything is written.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tidings_app::consent::ConsentRecord;
use tidings_app::import::{self, ImportOptions, ImportReport};
use tidings_app::members::MemberFilter;
use tidings_app::members::TimelineItem;
use tidings_app::partners::PartnerFilter;
use tidings_app::{App, AppError};
use tidings_core::{Action, Member, MemberId, MemberStatus, Partner, PartnerId, Role};

use super::console::Console;
use super::download;
use super::shell::{PageResult, Shell, render};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PartnerQuery {
    q: String,
    partner_type: String,
    tier: String,
    region: String,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/partners.html")]
struct PartnersPage {
    shell: Shell,
    query: PartnerQuery,
    partners: Vec<Partner>,
    next: Option<String>,
    types: Vec<String>,
    tiers: Vec<String>,
    regions: Vec<String>,
}

fn given(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn partners(State(app): State<App>, console: Console, Query(query): Query<PartnerQuery>) -> PageResult {
    let filter = PartnerFilter {
        q: given(&query.q),
        partner_type: given(&query.partner_type),
        tier: given(&query.tier),
        region: given(&query.region),
        ..Default::default()
    };
    let page = tidings_app::partners::list(&app, &console.caller, &filter, query.after.as_deref(), Some(100)).await?;
    let next = page.next.map(|after| {
        let params = [
            ("q", query.q.as_str()),
            ("partner_type", &query.partner_type),
            ("tier", &query.tier),
            ("region", &query.region),
            ("after", &after),
        ];
        serde_urlencoded::to_string(params).unwrap_or_default()
    });
    let names = |list: &[tidings_core::Slug]| list.iter().map(|s| s.as_str().to_owned()).collect();
    let page = PartnersPage {
        shell: console.shell("Partners").await,
        partners: page.items,
        next,
        types: names(&app.catalog.partner_types),
        tiers: names(&app.catalog.partner_tiers),
        regions: names(&app.catalog.regions),
        query,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/partner.html")]
struct PartnerPage {
    shell: Shell,
    partner: Partner,
    members: Vec<Member>,
    channels: Vec<super::partner_channels::ServiceRow>,
    may_write: bool,
    /// What the vendor's CRM or PRM reported about them, newest first.
    events: Vec<tidings_core::automation::PartnerEvent>,
    /// What the partner set for its people, between the vendor's policy and each member.
    defaults: tidings_app::noise::PartnerDefaultsView,
    digest_frequencies: [tidings_core::noise::DigestFrequency; 3],
}

pub async fn partner(State(app): State<App>, console: Console, Path(id): Path<PartnerId>) -> PageResult {
    let page = async {
        let partner = tidings_app::partners::get(&app, &console.caller, id).await?;
        let filter = MemberFilter { partner_id: Some(id), ..Default::default() };
        let members = tidings_app::members::list(&app, &console.caller, &filter, None, Some(500)).await?.items;
        let bindings = tidings_app::partner_channels::of_partner(
            &app,
            tidings_app::partner_channels::PartnerAdmin::Staff(&console.caller),
            id,
        )
        .await?;
        Ok::<_, AppError>(PartnerPage {
            shell: console.shell(partner.profile.name.clone()).await,
            partner,
            members,
            channels: super::partner_channels::rows(bindings),
            may_write: console.caller.role.may(Action::WriteDirectory),
            events: recent_events(&app, &console, Some(id), None).await?,
            defaults: tidings_app::noise::partner_defaults(
                &app,
                tidings_app::partner_channels::PartnerAdmin::Staff(&console.caller),
                id,
            )
            .await?,
            digest_frequencies: tidings_core::noise::DigestFrequency::ALL,
        })
    };
    let page = page.await?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberQuery {
    q: String,
    role: String,
    status: String,
    after: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/members.html")]
struct MembersPage {
    shell: Shell,
    query: MemberQuery,
    members: Vec<Member>,
    next: Option<String>,
    roles: Vec<&'static str>,
}

pub async fn members(State(app): State<App>, console: Console, Query(query): Query<MemberQuery>) -> PageResult {
    let role = match given(&query.role).map(|r| r.parse::<Role>()) {
        Some(Err(e)) => return Err(AppError::invalid("role", e.to_string()).into()),
        Some(Ok(r)) => Some(r),
        None => None,
    };
    let status = match given(&query.status).map(|s| s.parse::<MemberStatus>()) {
        Some(Err(e)) => return Err(AppError::invalid("status", e.to_string()).into()),
        Some(Ok(s)) => Some(s),
        None => None,
    };
    let filter = MemberFilter { q: given(&query.q), role, status, ..Default::default() };
    let page = tidings_app::members::list(&app, &console.caller, &filter, query.after.as_deref(), Some(100)).await?;
    let next = page.next.map(|after| {
        let params = [("q", query.q.as_str()), ("role", &query.role), ("status", &query.status), ("after", &after)];
        serde_urlencoded::to_string(params).unwrap_or_default()
    });
    let roles = Role::ALL.iter().map(|r| r.as_str()).collect();
    let page = MembersPage { shell: console.shell("Members").await, members: page.items, next, roles, query };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "admin/member.html")]
struct MemberPage {
    shell: Shell,
    member: Member,
    partner: Option<Partner>,
    timeline: Vec<TimelineItem>,
    consent: Vec<ConsentRecord>,
    events: Vec<tidings_core::automation::PartnerEvent>,
}

pub async fn member(State(app): State<App>, console: Console, Path(id): Path<MemberId>) -> PageResult {
    let page = async {
        let caller = &console.caller;
        let member = tidings_app::members::get(&app, caller, id).await?;
        let partner = tidings_app::partners::get(&app, caller, member.profile.partner_id).await.ok();
        let timeline = tidings_app::members::timeline(&app, caller, id, 100).await?;
        let consent = tidings_app::consent::history(&app, caller, id).await?;
        Ok::<_, AppError>(MemberPage {
            shell: console.shell(member.profile.name.clone()).await,
            member,
            partner,
            timeline,
            consent,
            events: recent_events(&app, &console, None, Some(id)).await?,
        })
    };
    let page = page.await?;
    Ok(render(StatusCode::OK, &page))
}

/// The latest events about a partner or member.
async fn recent_events(
    app: &App,
    console: &Console,
    partner_id: Option<PartnerId>,
    member_id: Option<MemberId>,
) -> Result<Vec<tidings_core::automation::PartnerEvent>, AppError> {
    let q =
        tidings_app::automation::events::EventQuery { partner_id, member_id, limit: Some(20), ..Default::default() };
    Ok(tidings_app::automation::events::list(app, &console.caller, &q).await?.items)
}

pub async fn export_partners(State(app): State<App>, console: Console) -> Response {
    let caller = console.caller.clone();
    download::csv(
        "partners.csv",
        move |out| async move { tidings_app::export::export_partners(&app, &caller, out).await },
    )
}

pub async fn export_members(State(app): State<App>, console: Console) -> Response {
    let caller = console.caller.clone();
    download::csv(
        "members.csv",
        move |out| async move { tidings_app::export::export_members(&app, &caller, out).await },
    )
}

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    shell: Shell,
    kind: String,
    csv: String,
    /// What the file would do (a preview) or did (an import).
    report: Option<ImportReport>,
    imported: bool,
}

pub async fn import_form(console: Console) -> PageResult {
    console.caller.require(Action::WriteDirectory, "import into the partner directory")?;
    let page = ImportPage {
        shell: console.shell("Import").await,
        kind: "members".into(),
        csv: String::new(),
        report: None,
        imported: false,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize)]
pub struct ImportForm {
    kind: String,
    csv: String,
    /// `preview` (write nothing) or `import`.
    intent: String,
}

/// Previews (a dry run: every row planned in one transaction that is rolled back) or
/// imports the CSV; the page keeps the file for the next step.
pub async fn import(State(app): State<App>, console: Console, Form(form): Form<ImportForm>) -> PageResult {
    let imported = form.intent == "import";
    let options = ImportOptions { strict: false, dry_run: !imported };
    let source: import::CsvSource = Box::new(std::io::Cursor::new(form.csv.clone().into_bytes()));
    let report = match form.kind.as_str() {
        "partners" => import::import_partners(&app, &console.caller, source, options).await,
        "members" => import::import_members(&app, &console.caller, source, options).await,
        _ => Err(AppError::invalid("kind", "choose partners or members")),
    };
    let report = report?;
    let shell = console.shell("Import").await;
    let status = if report.failed > 0 && !imported { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(render(status, &ImportPage { shell, kind: form.kind, csv: form.csv, report: Some(report), imported }))
}
