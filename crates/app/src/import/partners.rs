//! Importing partners: upsert by external id, which every row must have.

use std::collections::BTreeMap;

use tidings_core::{Partner, PartnerDraft, PartnerId, Timestamp};
use tidings_store::{Tx, partners};

use super::driver::{self, Op, Planner};
use super::source::{Column, Header, Row};
use super::{CsvSource, ImportOptions, ImportReport, SeenKeys};
use crate::{App, AppError, Caller};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    ExternalId,
    Name,
    PartnerType,
    Tier,
    Region,
    Country,
    LifecycleStage,
    Groups,
    PartnerManager,
    WorkingHours,
}

pub async fn import_partners(
    app: &App,
    caller: &Caller,
    source: CsvSource,
    options: ImportOptions,
) -> Result<ImportReport, AppError> {
    let planner = PartnerPlanner { app: app.clone(), now: app.clock.now(), seen: SeenKeys::default() };
    driver::run(app, caller, planner, source, options).await
}

struct PartnerPlanner {
    app: App,
    now: Timestamp,
    seen: SeenKeys,
}

impl Planner for PartnerPlanner {
    type Field = Field;
    type Record = Partner;
    const AUDIT_ACTION: &'static str = "partner.import";
    const KNOWN: &'static [(&'static str, Field)] = &[
        ("external_id", Field::ExternalId),
        ("name", Field::Name),
        ("partner_type", Field::PartnerType),
        ("type", Field::PartnerType),
        ("tier", Field::Tier),
        ("region", Field::Region),
        ("country", Field::Country),
        ("lifecycle_stage", Field::LifecycleStage),
        ("stage", Field::LifecycleStage),
        ("groups", Field::Groups),
        ("partner_groups", Field::Groups),
        ("partner_manager", Field::PartnerManager),
        ("working_hours", Field::WorkingHours),
    ];

    fn check_header(header: &Header<Field>) -> Result<(), AppError> {
        if !header.has(Field::ExternalId) {
            return Err(AppError::invalid("header", "a partner import needs an 'external_id' column"));
        }
        Ok(())
    }

    async fn plan(
        &mut self,
        tx: &mut Tx,
        header: &Header<Field>,
        rows: Vec<Row>,
        report: &mut ImportReport,
    ) -> Result<Vec<(u64, Op<Partner>)>, AppError> {
        let parsed: Vec<ParsedRow> = rows.into_iter().map(|row| parse(header, row)).collect();
        let keys: Vec<String> =
            parsed.iter().filter_map(|(_, d, _)| d.external_id.clone()).filter(|k| !k.is_empty()).collect();
        let mut existing: BTreeMap<String, Partner> = partners::find_by_external_ids(tx, &keys)
            .await?
            .into_iter()
            .filter_map(|p| p.profile.external_id.clone().map(|k| (k, p)))
            .collect();
        let header_of = |field: &str| header.column_of(Self::KNOWN, field);
        let mut plan = Vec::with_capacity(parsed.len());
        for (line, draft, bad_cell) in parsed {
            if let Some((column, message)) = bad_cell {
                report.fail(line, Some(&column), message);
                continue;
            }
            let key = draft.external_id.clone().unwrap_or_default();
            let key_column = header.name_of(Field::ExternalId);
            if key.is_empty() {
                report.fail(line, key_column.as_deref(), "is required: partners are matched by external id");
                continue;
            }
            if let Some(first) = self.seen.first_seen("external_id", &key, line) {
                report.fail(line, key_column.as_deref(), format!("the same external id is on line {first}"));
                continue;
            }
            let base = existing.get(&key);
            let profile = match draft.validate(base.map(|p| &p.profile), &self.app.catalog) {
                Ok(p) => p,
                Err(errors) => {
                    report.fail_fields(line, &errors, header_of);
                    continue;
                }
            };
            if let Err(AppError::Invalid(errors)) = crate::partners::check_references(tx, &profile).await {
                report.fail_fields(line, &errors, header_of);
                continue;
            }
            let op = match base {
                Some(p) if p.profile == profile => Op::Unchanged,
                Some(p) => {
                    let mut partner = p.clone();
                    partner.profile = profile;
                    partner.updated_at = self.now;
                    existing.insert(key, partner.clone());
                    Op::Update(partner)
                }
                None => {
                    let partner = Partner { id: PartnerId::new(), profile, created_at: self.now, updated_at: self.now };
                    existing.insert(key, partner.clone());
                    Op::Create(partner)
                }
            };
            plan.push((line, op));
        }
        Ok(plan)
    }

    async fn create_all(tx: &mut Tx, records: &[&Partner]) -> Result<(), tidings_store::Error> {
        for partner in records {
            partners::insert(tx, partner).await?;
        }
        Ok(())
    }

    async fn update_one(tx: &mut Tx, record: &Partner) -> Result<(), tidings_store::Error> {
        partners::update(tx, record).await
    }
}

/// A row's line, its draft, and the first cell that is not of its column's declared type
/// (the column and why).
type ParsedRow = (u64, PartnerDraft, Option<(String, String)>);

fn parse(header: &Header<Field>, row: Row) -> ParsedRow {
    let mut draft = PartnerDraft::default();
    let mut attributes = BTreeMap::new();
    let mut bad_cell = None;
    for (i, (column, cell)) in header.columns.iter().zip(row.cells).enumerate() {
        let cell = cell.trim().to_owned();
        match column {
            Column::Field(Field::ExternalId) => draft.external_id = Some(cell),
            Column::Field(Field::Name) => draft.name = Some(cell),
            Column::Field(Field::PartnerType) => draft.partner_type = Some(cell),
            Column::Field(Field::Tier) => draft.tier = Some(cell),
            Column::Field(Field::Region) => draft.region = Some(cell),
            Column::Field(Field::Country) => draft.country = Some(cell),
            Column::Field(Field::LifecycleStage) => draft.lifecycle_stage = Some(cell),
            Column::Field(Field::Groups) => {
                draft.groups = Some(cell.split([';', ',', '|']).map(|g| g.trim().to_owned()).collect())
            }
            Column::Field(Field::PartnerManager) => draft.partner_manager = Some(cell),
            Column::Field(Field::WorkingHours) => draft.working_hours = Some(cell),
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
    (row.line, draft, bad_cell)
}
