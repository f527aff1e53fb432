//! Backups of a SQLite database, taken while it serves. PostgreSQL is backed up by its own
//! tools (`pg_dump`), which the command line names with the right flags.

use std::path::Path;

use crate::db::Pool;
use crate::{Db, Error, Result};

impl Db {
    /// Writes a consistent copy of the whole SQLite database to `to`, a file that must not
    /// exist yet. `VACUUM INTO` reads one snapshot on a reader connection, so writers go on
    /// meanwhile and the copy holds each transaction whole or not at all.
    pub async fn backup_sqlite(&self, to: &Path) -> Result<()> {
        let Pool::Sqlite { readers, .. } = &self.0 else {
            return Err(Error::Unsupported("a PostgreSQL database is backed up with pg_dump"));
        };
        let to = to.to_str().ok_or(Error::Unsupported("a backup path must be valid UTF-8"))?;
        let mut connection = readers.acquire().await?;
        sqlx::query("vacuum into $1").bind(to).execute(&mut *connection).await?;
        Ok(())
    }

    /// SQLite's own check of every page and index: `None` when the file is sound, else
    /// what it found.
    pub async fn integrity_problems(&self) -> Result<Option<String>> {
        let Pool::Sqlite { readers, .. } = &self.0 else { return Ok(None) };
        let mut connection = readers.acquire().await?;
        let found: Vec<String> = sqlx::query_scalar("pragma integrity_check").fetch_all(&mut *connection).await?;
        Ok((found != ["ok"]).then(|| found.join("; ")))
    }

    /// Every table's row count, by name (for a restore drill and the system page).
    pub async fn table_counts(&self) -> Result<Vec<(String, i64)>> {
        let mut tx = self.read().await?;
        let names: Vec<String> =
            match tx.conn() {
                crate::db::Conn::Sqlite(c) => sqlx::query_scalar(
                    "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
                )
                .fetch_all(c)
                .await?,
                crate::db::Conn::Postgres(c) => {
                    sqlx::query_scalar(
                        "select table_name::text from information_schema.tables \
                     where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1",
                    )
                    .fetch_all(c)
                    .await?
                }
            };
        let mut counts = Vec::with_capacity(names.len());
        for name in names {
            // The names come from the catalogue just read, not from input.
            let sql = format!("select count(*) from \"{}\"", name.replace('"', "\"\""));
            let count: i64 =
                crate::db::on_tx!(tx, |c| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone())).fetch_one(c).await)?;
            counts.push((name, count));
        }
        Ok(counts)
    }
}
