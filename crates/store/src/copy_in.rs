//! PostgreSQL's `COPY ... FROM STDIN` in its text format, for bulk inserts: the rows go as
//! one stream, with no statement to plan and no parameters to bind.

use std::fmt::Write;

use sqlx::PgConnection;

use crate::Result;

/// One row of the text format being written: fields separated by tabs, NULL as `\N`.
#[derive(Default)]
pub(crate) struct Rows {
    data: String,
    row_started: bool,
}

impl Rows {
    pub fn with_capacity(bytes: usize) -> Self {
        Self { data: String::with_capacity(bytes), row_started: false }
    }

    fn separate(&mut self) {
        if self.row_started {
            self.data.push('\t');
        }
        self.row_started = true;
    }

    /// A text field, escaped (backslash, tab, newline, carriage return).
    pub fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        for c in value.chars() {
            match c {
                '\\' => self.data.push_str("\\\\"),
                '\t' => self.data.push_str("\\t"),
                '\n' => self.data.push_str("\\n"),
                '\r' => self.data.push_str("\\r"),
                c => self.data.push(c),
            }
        }
        self
    }

    pub fn optional_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A number or another value whose text has nothing to escape (a UUID).
    pub fn plain(&mut self, value: impl std::fmt::Display) -> &mut Self {
        self.separate();
        let _ = write!(self.data, "{value}");
        self
    }

    pub fn optional_plain(&mut self, value: Option<impl std::fmt::Display>) -> &mut Self {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.separate();
        self.data.push_str("\\N");
        self
    }

    pub fn end_row(&mut self) {
        self.data.push('\n');
        self.row_started = false;
    }

    /// Streams the rows into `table (columns)`; a constraint violation surfaces as the
    /// same error an insert would give.
    pub async fn copy_into(self, conn: &mut PgConnection, table: &str, columns: &str) -> Result<()> {
        let mut copy = conn.copy_in_raw(&format!("copy {table} ({columns}) from stdin")).await?;
        if let Err(e) = copy.send(self.data.into_bytes()).await {
            let _ = copy.abort("the rows could not be sent").await;
            return Err(e.into());
        }
        copy.finish().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_escaped_and_nulls_marked() {
        let mut rows = super::Rows::default();
        rows.text("a\tb\\c\nd\re").plain(42).optional_text(None).optional_plain(Some(7)).end_row();
        assert_eq!(rows.data, "a\\tb\\\\c\\nd\\re\t42\t\\N\t7\n");
    }
}
