//! Importing members: upsert by external id, or by email when the row has no external id
//! (or it matches no one). The partner is named by its external id.

use std::collections::{BTreeMap, HashMap};

use tidings_core::{Email, Member, MemberDraft, MemberId, Timestamp};
use tidings_store::consent::{self as consent_store, ConsentRecord};
use tidings_store::{Tx, members, partners};

use super::driver::{self, Op, Planner};
use super::source::{Column, Header, Row};
use super::{CsvSource, ImportOptions, ImportReport, SeenKeys};
use crate::{App, AppError, Caller};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    ExternalId,
    Partner,
    Email,
    Phone,
    Name,
    Roles,
    Locale,
    TimeZone,
    WorkingHours,
    Status,
    LastSeenAt,
    EmailConsent,
    LawfulBasis,
    ConsentTextVersion,
}

pub async fn import_members(
    app: &App,
    caller: &Caller,
    source: CsvSource,
    options: ImportOptions,
) -> Result<ImportReport, AppError> {
    let planner = MemberPlanner { now: app.clock.now(), seen: SeenKeys::default(), recorded_by: caller.name.clone() };
    driver::run(app, caller, planner, source, options).await
}

struct MemberPlanner {
    now: Timestamp,
    seen: SeenKeys,
    recorded_by: String,
}

struct Parsed {
    line: u64,
    draft: MemberDraft,
    partner: Option<String>,
    consent: ConsentCells,
    /// A cell that is not of its column's declared type: the column and why.
    bad_cell: Option<(String, String)>,
}

/// The consent columns of a row, as written.
#[derive(Default)]
struct ConsentCells {
    email: Option<String>,
    lawful_basis: Option<String>,
    text_version: Option<String>,
}

/// A member to write, and the consent record the row adds, if it changes anything.
pub(super) struct MemberChange {
    member: Member,
    consent: Option<ConsentRecord>,
}

impl Planner for MemberPlanner {
    type Field = Field;
    type Record = MemberChange;
    const AUDIT_ACTION: &'static str = "member.import";
    const KNOWN: &'static [(&'static str, Field)] = &[
        ("external_id", Field::ExternalId),
        ("partner_external_id", Field::Partner),
        ("partner", Field::Partner),
        ("email", Field::Email),
        ("phone", Field::Phone),
        ("name", Field::Name),
        ("roles", Field::Roles),
        ("role", Field::Roles),
        ("locale", Field::Locale),
        ("language", Field::Locale),
        ("time_zone", Field::TimeZone),
        ("timezone", Field::TimeZone),
        ("working_hours", Field::WorkingHours),
        ("status", Field::Status),
        ("last_seen_at", Field::LastSeenAt),
        ("last_seen", Field::LastSeenAt),
        ("email_consent", Field::EmailConsent),
        ("email_opt_in", Field::EmailConsent),
        ("lawful_basis", Field::LawfulBasis),
        ("consent_text_version", Field::ConsentTextVersion),
        ("consent_version", Field::ConsentTextVersion),
    ];

    fn check_header(header: &Header<Field>) -> Result<(), AppError> {
        if !header.has(Field::Email) {
            return Err(AppError::invalid("header", "a member import needs an 'email' column"));
        }
        Ok(())
    }

    async fn plan(
        &mut self,
        tx: &mut Tx,
        header: &Header<Field>,
        rows: Vec<Row>,
        report: &mut ImportReport,
    ) -> Result<Vec<(u64, Op<MemberChange>)>, AppError> {
        let parsed: Vec<Parsed> = rows.into_iter().map(|row| parse(header, row)).collect();
        let partner_keys = distinct(parsed.iter().filter_map(|p| p.partner.clone()));
        let ext_keys = distinct(parsed.iter().filter_map(|p| p.draft.external_id.clone()));
        let email_keys = distinct(parsed.iter().filter_map(|p| p.draft.email.as_deref().map(normalize_email)));
        let partner_ids = partners::ids_by_external_ids(tx, &partner_keys).await?;
        let mut known = Known::new(members::find_by_keys(tx, &ext_keys, &email_keys).await?);
        // Rows that state consent are compared with the member's current state, read for
        // the whole batch at once.
        let current = if parsed.iter().any(|p| p.consent.email.as_deref().is_some_and(|v| !v.is_empty())) {
            let ids: Vec<MemberId> = known.members.iter().map(|m| m.id).collect();
            consent_store::preferences_many(tx, &ids).await?
        } else {
            Default::default()
        };

        // The draft names the partner by id; the file names it by external id.
        let header_of = |field: &str| {
            header.column_of(Self::KNOWN, if field == "partner_id" { "partner_external_id" } else { field })
        };
        let mut plan = Vec::with_capacity(parsed.len());
        for Parsed { line, mut draft, partner, consent, bad_cell } in parsed {
            if let Some((column, message)) = bad_cell {
                report.fail(line, Some(&column), message);
                continue;
            }
            let email = draft.email.as_deref().map(normalize_email).unwrap_or_default();
            let ext = draft.external_id.clone().filter(|e| !e.is_empty());
            if let Some(first) = ext.as_ref().and_then(|e| self.seen.first_seen("external_id", e, line)) {
                report.fail(
                    line,
                    header.name_of(Field::ExternalId).as_deref(),
                    format!("the same external id is on line {first}"),
                );
                continue;
            }
            if let Some(first) = self.seen.first_seen("email", &email, line) {
                report.fail(
                    line,
                    header.name_of(Field::Email).as_deref(),
                    format!("the same email is on line {first}"),
                );
                continue;
            }
            if let Some(key) = partner.as_deref().filter(|k| !k.is_empty()) {
                match partner_ids.get(key) {
                    Some(id) => draft.partner_id = Some(*id),
                    None => {
                        let column = header.name_of(Field::Partner);
                        report.fail(line, column.as_deref(), format!("no partner has the external id '{key}'"));
                        continue;
                    }
                }
            }
            let by_ext = ext.as_deref().and_then(|e| known.by_ext.get(e).copied());
            let by_email = known.by_email.get(&email).copied();
            if let (Some(a), Some(b)) = (by_ext, by_email)
                && a != b
            {
                let column = header.name_of(Field::Email);
                report.fail(line, column.as_deref(), "this email belongs to another member (a different external id)");
                continue;
            }
            let existing = by_ext.or(by_email);
            let base = existing.map(|i| &known.members[i].profile);
            let profile = match draft.validate(base) {
                Ok(p) => p,
                Err(errors) => {
                    report.fail_fields(line, &errors, header_of);
                    continue;
                }
            };
            let wanted = match consent_wanted(&consent, header) {
                Ok(w) => w,
                Err(CellError { column, message }) => {
                    report.fail(line, column.as_deref(), message);
                    continue;
                }
            };
            let current_consent =
                existing.and_then(|i| current.get(&known.members[i].id)).is_some_and(|p| p.email_opted_in);
            let member_id = existing.map_or_else(MemberId::new, |i| known.members[i].id);
            let record = wanted.filter(|w| w.granted != current_consent).map(|w| ConsentRecord {
                id: uuid::Uuid::now_v7(),
                member_id,
                purpose: "email".into(),
                granted: w.granted,
                source: "import".into(),
                lawful_basis: w.lawful_basis,
                text_version: w.text_version,
                recorded_by: self.recorded_by.clone(),
                recorded_at: self.now,
            });
            let op = match existing {
                Some(i) if known.members[i].profile == profile && record.is_none() => Op::Unchanged,
                Some(i) => {
                    let mut member = known.members[i].clone();
                    member.profile = profile;
                    member.updated_at = self.now;
                    known.reindex(i, &member);
                    Op::Update(MemberChange { member, consent: record })
                }
                None => {
                    let member = Member { id: member_id, profile, created_at: self.now, updated_at: self.now };
                    known.add(&member);
                    Op::Create(MemberChange { member, consent: record })
                }
            };
            plan.push((line, op));
        }
        Ok(plan)
    }

    async fn create_all(tx: &mut Tx, records: &[&MemberChange]) -> Result<(), tidings_store::Error> {
        let new: Vec<&Member> = records.iter().map(|c| &c.member).collect();
        members::insert_many(tx, &new).await?;
        let consents: Vec<&ConsentRecord> = records.iter().filter_map(|c| c.consent.as_ref()).collect();
        consent_store::record_many(tx, &consents).await
    }

    async fn update_one(tx: &mut Tx, record: &MemberChange) -> Result<(), tidings_store::Error> {
        members::update(tx, &record.member).await?;
        if let Some(consent) = &record.consent {
            consent_store::record(tx, consent).await?;
        }
        Ok(())
    }
}

/// The members a batch may touch, indexed by both keys, kept current as rows are planned.
struct Known {
    members: Vec<Member>,
    by_ext: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
}

impl Known {
    fn new(found: Vec<Member>) -> Self {
        let mut known = Self { members: Vec::new(), by_ext: HashMap::new(), by_email: HashMap::new() };
        found.iter().for_each(|m| known.add(m));
        known
    }

    fn add(&mut self, member: &Member) {
        self.members.push(member.clone());
        self.index(self.members.len() - 1);
    }

    fn index(&mut self, i: usize) {
        let p = &self.members[i].profile;
        if let Some(ext) = &p.external_id {
            self.by_ext.insert(ext.clone(), i);
        }
        self.by_email.insert(p.email.as_str().to_owned(), i);
    }

    fn reindex(&mut self, i: usize, member: &Member) {
        let old = &self.members[i].profile;
        if let Some(ext) = &old.external_id {
            self.by_ext.remove(ext);
        }
        self.by_email.remove(old.email.as_str());
        self.members[i] = member.clone();
        self.index(i);
    }
}

/// The email consent a row states.
struct StatedConsent {
    granted: bool,
    lawful_basis: String,
    text_version: String,
}

/// A bad cell: its column's header and what is wrong.
struct CellError {
    column: Option<String>,
    message: String,
}

/// The email consent a row states, if it states one. Granting
/// consent by import needs a stated lawful basis and the version of the text agreed to.
fn consent_wanted(cells: &ConsentCells, header: &Header<Field>) -> Result<Option<StatedConsent>, CellError> {
    let Some(value) = cells.email.as_deref().filter(|v| !v.is_empty()) else { return Ok(None) };
    let column = || header.name_of(Field::EmailConsent);
    let granted = match value.to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "y" => true,
        "no" | "false" | "0" | "n" => false,
        _ => return Err(CellError { column: column(), message: format!("'{value}' is not yes or no") }),
    };
    let basis = cells.lawful_basis.clone().filter(|b| !b.is_empty()).unwrap_or_default();
    if !["consent", "contract", "legitimate_interest"].contains(&basis.as_str()) {
        let message = if basis.is_empty() {
            "is required with email consent: consent, contract or legitimate_interest".to_owned()
        } else {
            format!("'{basis}' is not a lawful basis; known: consent, contract, legitimate_interest")
        };
        return Err(CellError {
            column: header.name_of(Field::LawfulBasis).or_else(|| Some("lawful_basis".into())),
            message,
        });
    }
    let version = cells.text_version.clone().filter(|v| !v.is_empty()).ok_or_else(|| CellError {
        column: header.name_of(Field::ConsentTextVersion).or_else(|| Some("consent_text_version".into())),
        message: "is required with email consent: the version of the text the member agreed to".to_owned(),
    })?;
    Ok(Some(StatedConsent { granted, lawful_basis: basis, text_version: version }))
}

fn normalize_email(text: &str) -> String {
    Email::parse(text).map(String::from).unwrap_or_else(|_| text.trim().to_lowercase())
}

fn distinct(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.filter(|k| !k.is_empty()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

fn parse(header: &Header<Field>, row: Row) -> Parsed {
    let mut draft = MemberDraft::default();
    let mut partner = None;
    let mut consent = ConsentCells::default();
    let mut attributes = BTreeMap::new();
    let mut bad_cell = None;
    for (i, (column, cell)) in header.columns.iter().zip(row.cells).enumerate() {
        let cell = cell.trim().to_owned();
        match column {
            Column::Field(Field::ExternalId) => draft.external_id = Some(cell),
            Column::Field(Field::Partner) => partner = Some(cell),
            Column::Field(Field::Email) => draft.email = Some(cell),
            Column::Field(Field::Phone) => draft.phone = Some(cell),
            Column::Field(Field::Name) => draft.name = Some(cell),
            Column::Field(Field::Roles) => draft.roles = Some(vec![cell]),
            Column::Field(Field::Locale) => draft.locale = Some(cell),
            Column::Field(Field::TimeZone) => draft.time_zone = Some(cell),
            Column::Field(Field::WorkingHours) => draft.working_hours = Some(cell),
            Column::Field(Field::Status) => draft.status = Some(cell),
            Column::Field(Field::LastSeenAt) => draft.last_seen_at = Some(cell),
            Column::Field(Field::EmailConsent) => consent.email = Some(cell),
            Column::Field(Field::LawfulBasis) => consent.lawful_basis = Some(cell),
            Column::Field(Field::ConsentTextVersion) => consent.text_version = Some(cell),
            Column::Attribute(key, kind) => match kind.cell(&cell) {
                Ok(value) => {
                    attributes.insert(key.as_str().to_owned(), value);
                }
                Err(why) => {
                    bad_cell.get_or_insert((header.names.get(i).cloned().unwrap_or_default(), why));
                }
            },
        }
    }
    if !attributes.is_empty() {
        draft.attributes = Some(attributes);
    }
    Parsed { line: row.line, draft, partner, consent, bad_cell }
}
