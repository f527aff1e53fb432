//! `Db` and `Tx`: the handle the rest of the program holds, over either engine.
//! SQLite gets one writer connection (its single-writer design, made explicit, so writers
//! queue in the pool instead of failing with SQLITE_BUSY) and a pool of readers (WAL lets
//! them run beside the writer).

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::Result;

pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db(pub(crate) Pool);

#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite { writer: SqlitePool, readers: SqlitePool },
    Postgres(PgPool),
}

/// How many connections a process holds, idle and in use, of how many it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
}

/// A transaction: every read and write goes through one.
pub struct Tx(pub(crate) TxInner);

pub(crate) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
    /// Reading on PostgreSQL: a connection without `BEGIN` and `ROLLBACK`. At PostgreSQL's
    /// READ COMMITTED each statement takes its own snapshot either way, so a read-only
    /// transaction bought nothing but two round trips.
    PostgresRead(PoolConnection<Postgres>),
}

/// The connection a transaction runs its statements on.
pub(crate) enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match &mut self.0 {
            TxInner::Sqlite(t) => Conn::Sqlite(t),
            TxInner::Postgres(t) => Conn::Postgres(t),
            TxInner::PostgresRead(c) => Conn::Postgres(c),
        }
    }
}

/// Expands `$body` once per engine, so the SQL text is written once.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx.conn() {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_tx;

impl Db {
    /// Opens the database named by `url` (`sqlite:path`, `sqlite::memory:` or
    /// `postgres://...`), creating a SQLite file if needed, and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = Self::open(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Opens the database named by `url` as it is, migrating nothing.
    pub async fn open(url: &str) -> Result<Self> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::connect_postgres(url).await
        } else {
            Self::connect_sqlite(url).await
        }
    }

    /// Opens with the migrations up to `version` applied (for upgrade tests).
    #[cfg(feature = "testing")]
    pub async fn connect_migrated_to(url: &str, version: i64) -> Result<Self> {
        let db = Self::open(url).await?;
        match &db.0 {
            Pool::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run_to(version, writer).await?,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run_to(version, pool).await?,
        }
        Ok(db)
    }

    /// Opens without migrating (for test set-up).
    #[cfg(feature = "testing")]
    pub async fn connect_unmigrated(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(PgConnectOptions::from_str(url)?)
            .await?;
        Ok(Self(Pool::Postgres(pool)))
    }

    /// Runs statements, separated by `;`, on one connection outside a transaction (for test set-up).
    #[cfg(feature = "testing")]
    pub async fn execute_raw(&self, sql: &str) -> Result<()> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match &self.0 {
            Pool::Sqlite { writer, .. } => sqlx::raw_sql(sql).execute(writer).await.map(|_| ())?,
            Pool::Postgres(pool) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ())?,
        }
        Ok(())
    }

    async fn connect_sqlite(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledgment or a delivery outcome is reported only after it is on disk.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // 16 MB of pages per connection rather than 2 MB: a send reads members and
            // partners all over tables larger than that.
            .pragma("cache_size", "-16384");
        let writer = SqlitePoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        // An in-memory database exists once per connection: readers must share the writer.
        let readers = if url.contains(":memory:") || url.contains("mode=memory") {
            writer.clone()
        } else {
            SqlitePoolOptions::new().max_connections(4).connect_with(options.read_only(true)).await?
        };
        Ok(Self(Pool::Sqlite { writer, readers }))
    }

    async fn connect_postgres(url: &str) -> Result<Self> {
        // Notices such as "relation already exists, skipping" from re-run migrations would
        // otherwise be logged by every command; warnings still are.
        let options = PgConnectOptions::from_str(url)?.options([("client_min_messages", "warning")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self(Pool::Postgres(pool)))
    }

    pub fn dialect(&self) -> Dialect {
        match &self.0 {
            Pool::Sqlite { .. } => Dialect::Sqlite,
            Pool::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A transaction that may write.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx(match &self.0 {
            // IMMEDIATE takes the write lock up front: a deferred transaction that later
            // upgrades can fail at once with SQLITE_BUSY when another process wrote meanwhile.
            Pool::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pool::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        }))
    }

    /// A transaction for reading only; on SQLite it never waits for the writer.
    pub async fn read(&self) -> Result<Tx> {
        Ok(Tx(match &self.0 {
            Pool::Sqlite { readers, .. } => TxInner::Sqlite(readers.begin().await?),
            Pool::Postgres(pool) => TxInner::PostgresRead(pool.acquire().await?),
        }))
    }

    /// The connections this process holds, for `/metrics` (SQLite: the writer and readers together).
    pub fn pool_use(&self) -> PoolUse {
        let of = |size: u32, idle: usize, max: u32| (size, u32::try_from(idle).unwrap_or(u32::MAX), max);
        let (size, idle, max) = match &self.0 {
            Pool::Sqlite { writer, readers } if !std::ptr::eq(writer, readers) => {
                let (w, r) = (writer, readers);
                of(
                    w.size() + r.size(),
                    w.num_idle() + r.num_idle(),
                    w.options().get_max_connections() + r.options().get_max_connections(),
                )
            }
            Pool::Sqlite { writer, .. } => of(writer.size(), writer.num_idle(), writer.options().get_max_connections()),
            Pool::Postgres(pool) => of(pool.size(), pool.num_idle(), pool.options().get_max_connections()),
        };
        PoolUse { idle, in_use: size.saturating_sub(idle), max }
    }

    /// Checks that the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        let mut tx = self.read().await?;
        on_tx!(tx, |c| sqlx::query("select 1").execute(c).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.0 {
            Pool::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self.0 {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
            TxInner::PostgresRead(_) => {}
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        match self.0 {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
            TxInner::PostgresRead(_) => {}
        }
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        match self.0 {
            TxInner::Sqlite(_) => Dialect::Sqlite,
            TxInner::Postgres(_) | TxInner::PostgresRead(_) => Dialect::Postgres,
        }
    }
}

/// The migration file names of each engine, for the test that keeps them in step.
pub fn migration_names() -> (Vec<String>, Vec<String>) {
    let names = |m: &sqlx::migrate::Migrator| m.iter().map(|m| format!("{}_{}", m.version, m.description)).collect();
    (names(&SQLITE_MIGRATIONS), names(&POSTGRES_MIGRATIONS))
}

impl Db {
    /// Every table and its columns, sorted (for the test that keeps the engines in step).
    #[cfg(feature = "testing")]
    pub async fn schema_outline(&self) -> Result<Vec<(String, Vec<String>)>> {
        let mut tx = self.read().await?;
        let pairs: Vec<(String, String)> = match tx.conn() {
            Conn::Sqlite(c) => {
                sqlx::query_as(
                    "select m.name, p.name from sqlite_master m join pragma_table_info(m.name) p \
                     where m.type = 'table' and m.name not like 'sqlite_%' and m.name <> '_sqlx_migrations'",
                )
                .fetch_all(c)
                .await?
            }
            Conn::Postgres(c) => {
                sqlx::query_as(
                    "select table_name::text, column_name::text from information_schema.columns \
                     where table_schema = current_schema() and table_name <> '_sqlx_migrations'",
                )
                .fetch_all(c)
                .await?
            }
        };
        let mut outline: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (table, column) in pairs {
            outline.entry(table).or_default().push(column);
        }
        Ok(outline
            .into_iter()
            .map(|(t, mut c)| {
                c.sort();
                (t, c)
            })
            .collect())
    }
}
