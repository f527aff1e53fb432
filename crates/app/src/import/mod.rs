//! Bulk import from CSV: streamed in batches (memory does not grow with the file),
//! upserted by key, with every bad row reported by line and column while good rows land.
//! Re-running the same file reports everything unchanged.

mod crlf;
mod driver;
mod members;
mod partners;
mod source;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Read;

use serde::Serialize;

pub use members::import_members;
pub use partners::import_partners;

/// At most this many row errors are kept for the report; all are counted.
pub const MAX_REPORTED_ERRORS: usize = 1000;
/// Rows per batch: one transaction and one multi-row insert each.
pub const BATCH_ROWS: usize = 5000;

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// Write nothing at all if any row is bad.
    pub strict: bool,
    /// Write nothing at all: report what the import would do (the console's preview).
    pub dry_run: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowError {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The column's header as written in the file, when one column is at fault.
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// True when `strict` was asked and a bad row made the whole import roll back.
    pub rolled_back: bool,
    /// The first row errors, in file order (at most 1000; `failed` counts them all).
    pub errors: Vec<RowError>,
}

impl ImportReport {
    fn fail(&mut self, line: u64, column: Option<&str>, message: impl Into<String>) {
        self.failed += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(RowError { line, column: column.map(str::to_owned), message: message.into() });
        }
    }

    /// Records a row's field errors, naming the column each field came from.
    fn fail_fields(
        &mut self,
        line: u64,
        errors: &tidings_core::FieldErrors,
        header_of: impl Fn(&str) -> Option<String>,
    ) {
        self.failed += 1;
        for e in errors.iter() {
            if self.errors.len() < MAX_REPORTED_ERRORS {
                let column = header_of(&e.field).or_else(|| Some(e.field.clone()));
                self.errors.push(RowError { line, column, message: e.message.clone() });
            }
        }
    }
}

/// Remembers which keys earlier rows used, so a key repeated anywhere in the file is
/// reported instead of silently overwriting. Keeps an 8-byte fingerprint per key, not the row.
#[derive(Default)]
struct SeenKeys(HashMap<u64, u64>);

impl SeenKeys {
    /// Records `key` for `line`; returns the earlier line if the key was seen before.
    fn first_seen(&mut self, kind: &str, key: &str, line: u64) -> Option<u64> {
        let mut hasher = DefaultHasher::new();
        (kind, key).hash(&mut hasher);
        match self.0.entry(hasher.finish()) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(line);
                None
            }
        }
    }
}

/// A CSV source: anything readable, moved to a blocking thread while it is parsed.
pub type CsvSource = Box<dyn Read + Send>;
