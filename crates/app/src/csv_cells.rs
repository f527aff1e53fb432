//! Every CSV Tidings writes goes through [`SafeWriter`], which keeps spreadsheets from
//! running a cell as a formula (a name or a user agent is whatever someone typed):
//! a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is written with
//! a leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV
//! injection). The importer reads such a cell back without the apostrophe
//! ([`restore`]), so an export imports back unchanged.

use std::borrow::Cow;
use std::io::Write;

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell as a spreadsheet must show it: as text.
pub fn inert(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) { format!("'{cell}").into() } else { cell.into() }
}

/// A cell as [`inert`] wrote it, back as it was.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// A CSV writer whose every cell is [`inert`].
pub struct SafeWriter<W: Write>(csv::Writer<W>);

impl<W: Write> SafeWriter<W> {
    pub fn new(out: W) -> Self {
        Self(csv::Writer::from_writer(out))
    }

    pub fn write_record<I, T>(&mut self, record: I) -> csv::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.0.write_record(record.into_iter().map(|cell| inert(cell.as_ref()).into_owned()))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }

    /// The underlying output, after flushing.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.0.into_inner().map_err(|e| std::io::Error::other(e.error().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_written_as_text_and_read_back_as_they_were() {
        for cell in ["=HYPERLINK(\"http://x\")", "+49 30 1234", "-5", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(cell), format!("'{cell}"));
            assert_eq!(restore(&inert(cell)), cell);
        }
        for cell in ["Ana", "'quoted", "", "5-3"] {
            assert_eq!(inert(cell), cell);
            assert_eq!(restore(cell), cell);
        }
    }
}
