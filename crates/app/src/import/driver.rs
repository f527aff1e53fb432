//! The loop shared by every import: read batches, let the entity plan each row, write the
//! plan in one transaction per batch (or one for the whole file when strict), and fall
//! back to row-by-row writes when a batch hits a constraint, so one bad row cannot sink
//! its neighbours.

use std::sync::Arc;

use tidings_core::Action;
use tidings_store::Tx;

use super::source::{self, Chunk, Header, Row};
use super::{CsvSource, ImportOptions, ImportReport};
use crate::{App, AppError, Caller};

/// What one good row will do.
pub(super) enum Op<T> {
    Create(T),
    Update(T),
    Unchanged,
}

/// The entity-specific half of an import.
pub(super) trait Planner {
    type Field: Copy + PartialEq + Send + Sync + 'static;
    type Record: Send;
    const KNOWN: &'static [(&'static str, Self::Field)];
    /// The audit log's name for the import: `partner.import`.
    const AUDIT_ACTION: &'static str;

    /// Refuses a header that lacks what every row needs.
    fn check_header(header: &Header<Self::Field>) -> Result<(), AppError>;

    /// Decides what each row does, reporting bad rows in `report`.
    async fn plan(
        &mut self,
        tx: &mut Tx,
        header: &Header<Self::Field>,
        rows: Vec<Row>,
        report: &mut ImportReport,
    ) -> Result<Vec<(u64, Op<Self::Record>)>, AppError>;

    /// Writes every creation of a batch at once.
    async fn create_all(tx: &mut Tx, records: &[&Self::Record]) -> Result<(), tidings_store::Error>;
    async fn update_one(tx: &mut Tx, record: &Self::Record) -> Result<(), tidings_store::Error>;
}

pub(super) async fn run<P: Planner>(
    app: &App,
    caller: &Caller,
    mut planner: P,
    source: CsvSource,
    options: ImportOptions,
) -> Result<ImportReport, AppError> {
    caller.require(Action::WriteDirectory, "import into the partner directory")?;
    let (header, mut chunks) = source::open(source, P::KNOWN).await?;
    P::check_header(&header)?;
    let mut report = ImportReport::default();
    // A dry run plans and writes in one transaction, like a strict import, and never commits it.
    let mut strict_tx = if options.strict || options.dry_run { Some(app.db.begin().await?) } else { None };
    while let Some(chunk) = chunks.recv().await {
        let rows = match chunk {
            Chunk::Rows(rows) => rows,
            Chunk::Unreadable { line, message } => {
                report.fail(line, None, message);
                continue;
            }
        };
        match strict_tx.as_mut() {
            Some(tx) => {
                let plan = planner.plan(tx, &header, rows, &mut report).await?;
                write_batch::<P>(tx, &plan).await?;
                count(&mut report, &plan);
            }
            None => write_alone(app, &mut planner, &header, rows, &mut report).await?,
        }
    }
    match strict_tx {
        Some(tx) if options.dry_run => tx.rollback().await?,
        Some(tx) if report.failed > 0 => {
            tx.rollback().await?;
            report.rolled_back = true;
            report.created = 0;
            report.updated = 0;
        }
        Some(mut tx) => {
            audited::<P>(app, caller, &mut tx, &report).await?;
            tx.commit().await?;
        }
        // Each batch committed on its own; the entry sums them up once the file is read.
        None => {
            let mut tx = app.db.begin().await?;
            audited::<P>(app, caller, &mut tx, &report).await?;
            tx.commit().await?;
        }
    }
    if !options.dry_run && !report.rolled_back && report.created + report.updated >= RESAMPLE_AFTER {
        let mut tx = app.db.begin().await?;
        tidings_store::statistics::refresh_directory(&mut tx).await?;
        tx.commit().await?;
    }
    Ok(report)
}

/// Rows written by one import after which the directory's statistics are sampled again.
const RESAMPLE_AFTER: u64 = 10_000;

/// The import's audit entry: its counts, not its rows.
async fn audited<P: Planner>(app: &App, caller: &Caller, tx: &mut Tx, report: &ImportReport) -> Result<(), AppError> {
    let counts = serde_json::json!({
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failed,
    });
    crate::audit::entry(caller, P::AUDIT_ACTION, None).after(&counts).write(app, tx).await
}

/// Writes one batch in its own transaction; on a constraint error, retries row by row.
async fn write_alone<P: Planner>(
    app: &App,
    planner: &mut P,
    header: &Arc<Header<P::Field>>,
    rows: Vec<Row>,
    report: &mut ImportReport,
) -> Result<(), AppError> {
    let mut tx = app.db.begin().await?;
    let plan = planner.plan(&mut tx, header, rows, report).await?;
    match write_batch::<P>(&mut tx, &plan).await {
        Ok(()) => {
            tx.commit().await?;
            count(report, &plan);
        }
        Err(AppError::Conflict(_)) => {
            tx.rollback().await?;
            for (line, op) in &plan {
                let mut tx = app.db.begin().await?;
                match write_one::<P>(&mut tx, op).await {
                    Ok(()) => {
                        tx.commit().await?;
                        count(report, std::slice::from_ref(&(*line, op_ref(op))));
                    }
                    Err(AppError::Conflict(message)) => report.fail(*line, None, message),
                    Err(other) => return Err(other),
                }
            }
        }
        Err(other) => return Err(other),
    }
    Ok(())
}

async fn write_batch<P: Planner>(tx: &mut Tx, plan: &[(u64, Op<P::Record>)]) -> Result<(), AppError> {
    let creates: Vec<&P::Record> =
        plan.iter().filter_map(|(_, op)| if let Op::Create(r) = op { Some(r) } else { None }).collect();
    P::create_all(tx, &creates).await?;
    for (_, op) in plan {
        if let Op::Update(record) = op {
            P::update_one(tx, record).await?;
        }
    }
    Ok(())
}

async fn write_one<P: Planner>(tx: &mut Tx, op: &Op<P::Record>) -> Result<(), AppError> {
    match op {
        Op::Create(r) => P::create_all(tx, &[r]).await?,
        Op::Update(r) => P::update_one(tx, r).await?,
        Op::Unchanged => {}
    }
    Ok(())
}

/// A borrowed view of an op, for counting.
fn op_ref<T>(op: &Op<T>) -> Op<()> {
    match op {
        Op::Create(_) => Op::Create(()),
        Op::Update(_) => Op::Update(()),
        Op::Unchanged => Op::Unchanged,
    }
}

fn count<T>(report: &mut ImportReport, plan: &[(u64, Op<T>)]) {
    for (_, op) in plan {
        match op {
            Op::Create(_) => report.created += 1,
            Op::Update(_) => report.updated += 1,
            Op::Unchanged => report.unchanged += 1,
        }
    }
}
