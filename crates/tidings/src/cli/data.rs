//! `tidings import` and `tidings export`.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tidings_app::import::{CsvSource, ImportOptions};
use tidings_app::{App, Caller, export, import};

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Partners,
    Members,
}

pub async fn import(app: &App, kind: Kind, file: &Path, strict: bool) -> anyhow::Result<ExitCode> {
    let (source, progress) = open(file)?;
    let options = ImportOptions { strict, dry_run: false };
    let caller = Caller::operator();
    let report = match kind {
        Kind::Partners => import::import_partners(app, &caller, source, options).await,
        Kind::Members => import::import_members(app, &caller, source, options).await,
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    progress.finish_and_clear();
    let mut stderr = std::io::stderr().lock();
    for e in &report.errors {
        let column = e.column.as_deref().map(|c| format!(", column {c}")).unwrap_or_default();
        writeln!(stderr, "line {}{column}: {}", e.line, e.message)?;
    }
    if report.failed as usize > report.errors.len() {
        writeln!(stderr, "... and {} more bad rows", report.failed as usize - report.errors.len())?;
    }
    println!(
        "created {}, updated {}, unchanged {}, failed {}{}",
        report.created,
        report.updated,
        report.unchanged,
        report.failed,
        if report.rolled_back { " (strict: nothing was written)" } else { "" }
    );
    Ok(if report.failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// Opens the file with a progress bar over its bytes, drawn only on a terminal.
fn open(file: &Path) -> anyhow::Result<(CsvSource, ProgressBar)> {
    if file == Path::new("-") {
        return Ok((Box::new(std::io::stdin()) as Box<dyn Read + Send>, ProgressBar::hidden()));
    }
    let f = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = f.metadata().map(|m| m.len()).unwrap_or(0);
    let target =
        if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
    let bar = ProgressBar::with_draw_target(Some(size), target);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {elapsed} (eta {eta})") {
        bar.set_style(style);
    }
    Ok((Box::new(bar.wrap_read(f)), bar))
}

pub async fn export(app: &App, kind: Kind, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let out: Box<dyn Write> = match output {
        Some(path) => Box::new(File::create(path).with_context(|| format!("cannot create {}", path.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    let out = BufWriter::new(out);
    let caller = Caller::operator();
    let rows = match kind {
        Kind::Partners => export::export_partners(app, &caller, out).await,
        Kind::Members => export::export_members(app, &caller, out).await,
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!("exported {rows} rows");
    Ok(ExitCode::SUCCESS)
}
