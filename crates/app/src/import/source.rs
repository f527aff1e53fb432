//! Reads CSV on a blocking thread and hands rows over in batches through a bounded
//! channel, so a large file never sits in memory and the async writer never blocks.
//! Headers match case-insensitively; unknown columns become custom attributes; a UTF-8
//! BOM and CRLF line ends are accepted.

use std::sync::Arc;

use tidings_core::{AttrKey, AttrKind};
use tokio::sync::mpsc;

use super::{BATCH_ROWS, CsvSource};
use crate::AppError;

/// What a column feeds: one of the entity's known fields, or a custom attribute.
#[derive(Debug, Clone)]
pub(super) enum Column<F> {
    Field(F),
    /// A custom attribute, with the type its header declares (`trained:bool`).
    Attribute(AttrKey, AttrKind),
}

#[derive(Debug)]
pub(super) struct Header<F> {
    pub columns: Vec<Column<F>>,
    /// The headers as written, for error messages.
    pub names: Vec<String>,
}

impl<F: Copy + PartialEq> Header<F> {
    pub fn position(&self, field: F) -> Option<usize> {
        self.columns.iter().position(|c| matches!(c, Column::Field(f) if *f == field))
    }

    pub fn has(&self, field: F) -> bool {
        self.position(field).is_some()
    }

    pub fn name_of(&self, field: F) -> Option<String> {
        self.position(field).map(|i| self.names[i].clone())
    }

    /// The header, as written in the file, of the column that feeds the draft field
    /// `field` (a validation error names draft fields; the report names columns).
    pub fn column_of(&self, known: &[(&str, F)], field: &str) -> Option<String> {
        known.iter().find(|(name, _)| *name == field).and_then(|(_, f)| self.name_of(*f))
    }
}

pub(super) struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

pub(super) enum Chunk {
    Rows(Vec<Row>),
    /// A row the CSV parser could not read (bad quoting, wrong number of fields, bad UTF-8).
    Unreadable {
        line: u64,
        message: String,
    },
}

/// Reads the header line, maps it, and starts streaming the rows.
pub(super) async fn open<F: Copy + PartialEq + Send + Sync + 'static>(
    source: CsvSource,
    known: &'static [(&'static str, F)],
) -> Result<(Arc<Header<F>>, mpsc::Receiver<Chunk>), AppError> {
    let (header_tx, header_rx) = tokio::sync::oneshot::channel();
    let (rows_tx, rows_rx) = mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(super::crlf::CrlfToLf::new(source));
        let header = match reader.headers() {
            Ok(h) => map_header(h, known),
            Err(e) => Err(AppError::invalid("file", format!("the header line cannot be read: {e}"))),
        };
        let header = match header {
            Ok(h) => Arc::new(h),
            Err(e) => {
                let _ = header_tx.send(Err(e));
                return;
            }
        };
        if header_tx.send(Ok(header.clone())).is_err() {
            return;
        }
        stream_rows(reader, header.names.len(), &rows_tx);
    });
    let header = header_rx.await.map_err(|_| anyhow::anyhow!("the CSV reader stopped"))??;
    Ok((header, rows_rx))
}

fn stream_rows(mut reader: csv::Reader<super::crlf::CrlfToLf<CsvSource>>, width: usize, out: &mpsc::Sender<Chunk>) {
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                // A cell our export made inert (`'=...`) reads back as it was.
                let mut cells: Vec<String> = record.iter().map(|c| crate::csv_cells::restore(c).to_owned()).collect();
                cells.resize(width, String::new());
                batch.push(Row { line: record.position().map_or(line, |p| p.line()), cells });
                if batch.len() == BATCH_ROWS && out.blocking_send(Chunk::Rows(std::mem::take(&mut batch))).is_err() {
                    return;
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                let message = unreadable_message(&e);
                if !batch.is_empty() && out.blocking_send(Chunk::Rows(std::mem::take(&mut batch))).is_err() {
                    return;
                }
                if out.blocking_send(Chunk::Unreadable { line, message }).is_err() {
                    return;
                }
                // After an I/O error the reader cannot go on; after a parse error it can.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return;
                }
            }
        }
    }
    if !batch.is_empty() {
        let _ = out.blocking_send(Chunk::Rows(batch));
    }
}

fn unreadable_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("the row has {len} fields but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8 text".into(),
        csv::ErrorKind::Io(io) => format!("the file could not be read: {io}"),
        _ => format!("the row cannot be read: {e}"),
    }
}

/// More columns than any directory needs (the fields and a few hundred attributes): a file
/// with more is refused at once, before any work per column.
pub const MAX_COLUMNS: usize = 500;

fn map_header<F: Copy + PartialEq>(header: &csv::StringRecord, known: &[(&str, F)]) -> Result<Header<F>, AppError> {
    if header.len() > MAX_COLUMNS {
        return Err(AppError::invalid(
            "header",
            format!("the file has {} columns; at most {MAX_COLUMNS} are read", header.len()),
        ));
    }
    let mut columns = Vec::with_capacity(header.len());
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().enumerate() {
        // The csv crate keeps a UTF-8 byte order mark as part of the first header.
        let name = if i == 0 { raw.trim_start_matches('\u{feff}') } else { raw }.trim();
        let wanted = name.to_lowercase().replace([' ', '-'], "_");
        let column = match known.iter().find(|(k, _)| *k == wanted) {
            Some((_, field)) => Column::Field(*field),
            None => {
                let (attribute, kind) = AttrKind::split_header(name);
                Column::Attribute(
                    AttrKey::from_header(attribute).map_err(|e| {
                        AppError::invalid(
                            "header",
                            format!("column {} ('{name}') cannot be an attribute name: {e}", i + 1),
                        )
                    })?,
                    kind,
                )
            }
        };
        let clash = columns.iter().position(|c: &Column<F>| match (c, &column) {
            (Column::Field(a), Column::Field(b)) => a == b,
            (Column::Attribute(a, _), Column::Attribute(b, _)) => a == b,
            _ => false,
        });
        if let Some(j) = clash {
            return Err(AppError::invalid(
                "header",
                format!("columns {} ('{}') and {} ('{name}') are the same field", j + 1, names[j], i + 1),
            ));
        }
        columns.push(column);
        names.push(name.to_owned());
    }
    Ok(Header { columns, names })
}
