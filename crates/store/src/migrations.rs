//! Migrations: applied once however many nodes start together, listed before they run, and
//! refused when the database was migrated by a newer binary than this one.

use sqlx::migrate::Migrator;

use crate::db::{Conn, POSTGRES_MIGRATIONS, Pool, SQLITE_MIGRATIONS, on_tx};
use crate::{Db, Dialect, Error, Result};

/// One migration this binary knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: i64,
    pub description: String,
}

impl Db {
    /// Applies the pending migrations. On PostgreSQL sqlx holds an advisory lock while it
    /// migrates; SQLite has none, so its write lock is held across all of them instead:
    /// a second process starting at the same moment waits, then finds nothing to do.
    pub async fn migrate(&self) -> Result<()> {
        self.refuse_a_newer_schema().await?;
        match &self.0 {
            Pool::Sqlite { writer, .. } => {
                let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
                SQLITE_MIGRATIONS.run(&mut tx).await?;
                tx.commit().await?;
            }
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The migrations `migrate` would apply, oldest first.
    pub async fn pending_migrations(&self) -> Result<Vec<Migration>> {
        let applied = self.applied_versions().await?;
        Ok(self
            .migrator()
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| Migration { version: m.version, description: m.description.to_string() })
            .collect())
    }

    /// The newest migration applied to the database, if any.
    pub async fn schema_version(&self) -> Result<Option<i64>> {
        Ok(self.applied_versions().await?.into_iter().max())
    }

    /// The newest migration this binary knows.
    pub fn known_schema_version(&self) -> i64 {
        self.migrator().iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn migrator(&self) -> &'static Migrator {
        match self.dialect() {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// A binary older than the database would read tables it does not know the shape of;
    /// it stops with a message that says what to do instead.
    async fn refuse_a_newer_schema(&self) -> Result<()> {
        let known = self.known_schema_version();
        match self.schema_version().await? {
            Some(found) if found > known => Err(Error::NewerSchema { found, known }),
            _ => Ok(()),
        }
    }

    async fn applied_versions(&self) -> Result<Vec<i64>> {
        let mut tx = self.read().await?;
        let exists: bool = match tx.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_scalar(
                    "select count(*) > 0 from sqlite_master where type = 'table' and name = '_sqlx_migrations'",
                )
                .fetch_one(c)
                .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null").fetch_one(c).await?
            }
        };
        if !exists {
            return Ok(Vec::new());
        }
        let versions: Vec<i64> =
            on_tx!(tx, |c| sqlx::query_scalar("select version from _sqlx_migrations where success")
                .fetch_all(c)
                .await)?;
        Ok(versions)
    }
}
