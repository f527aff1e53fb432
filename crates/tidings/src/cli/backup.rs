//! `tidings backup` and `tidings restore`: a SQLite database copied whole while it serves,
//! and put back into place; a PostgreSQL one through `pg_dump` and `pg_restore`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tidings_store::{Db, Dialect};

/// Writes a consistent copy of the database to `file`, migrating nothing (a backup taken
/// before an upgrade must be the database as the older binary left it).
pub async fn backup(url: &str, file: &Path) -> anyhow::Result<ExitCode> {
    if file.exists() {
        anyhow::bail!("{} already exists: name a new file, so no backup is overwritten", file.display());
    }
    let db = Db::open(url).await.map_err(|e| anyhow::anyhow!("opening the database: {e}"))?;
    if db.dialect() == Dialect::Postgres {
        db.close().await;
        eprintln!(
            "A PostgreSQL database is backed up with PostgreSQL's own tool, consistently while it serves:\n  \
             pg_dump --format=custom --no-owner --no-privileges --file '{file}' '{url}'\n\
             and restored into an empty database with:\n  \
             pg_restore --no-owner --no-privileges --exit-on-error --dbname 'NEW_DATABASE_URL' '{file}'",
            file = file.display(),
        );
        return Ok(ExitCode::from(2));
    }
    db.backup_sqlite(file).await.map_err(|e| anyhow::anyhow!("backing up to {}: {e}", file.display()))?;
    let version = db.schema_version().await?.unwrap_or(0);
    db.close().await;
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("backed up to {} ({size} bytes, schema at migration {version})", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Puts the backup `file` in place as the configured database, which must not exist yet,
/// checks it page by page, and applies the migrations a newer binary brings.
pub async fn restore(url: &str, file: &Path) -> anyhow::Result<ExitCode> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        eprintln!(
            "A PostgreSQL backup is restored with PostgreSQL's own tool, into an empty database:\n  \
             pg_restore --no-owner --no-privileges --exit-on-error --dbname '{url}' '{}'\n\
             then `tidings migrate` applies what a newer binary brings.",
            file.display()
        );
        return Ok(ExitCode::from(2));
    }
    let target = sqlite_path(url)?;
    if target.exists() {
        anyhow::bail!(
            "{} already exists: stop Tidings and move it aside first, so a restore never overwrites a database",
            target.display()
        );
    }
    if !file.is_file() {
        anyhow::bail!("{} is not a file", file.display());
    }
    // A copy, so the backup itself is never opened for writing.
    std::fs::copy(file, &target).map_err(|e| anyhow::anyhow!("copying to {}: {e}", target.display()))?;
    if let Err(e) = check_restored(url, file).await {
        let _ = std::fs::remove_file(&target);
        return Err(e);
    }
    let db = Db::connect(url).await.map_err(|e| anyhow::anyhow!("migrating the restored database: {e}"))?;
    let counts = db.table_counts().await?;
    let version = db.schema_version().await?.unwrap_or(0);
    db.close().await;
    let count = |table: &str| counts.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n);
    println!(
        "restored {} from {}: schema at migration {version}; {} partners, {} members, {} messages, {} deliveries",
        target.display(),
        file.display(),
        count("partners"),
        count("members"),
        count("messages"),
        count("deliveries"),
    );
    Ok(ExitCode::SUCCESS)
}

async fn check_restored(url: &str, file: &Path) -> anyhow::Result<()> {
    let db = Db::open(url).await.map_err(|e| anyhow::anyhow!("{} is not a SQLite database: {e}", file.display()))?;
    let version = db.schema_version().await;
    let problems = db.integrity_problems().await;
    db.close().await;
    match (version, problems) {
        (Ok(Some(_)), Ok(None)) => Ok(()),
        (Ok(None), _) => anyhow::bail!("{} is not a Tidings backup: it has no migrations", file.display()),
        (_, Ok(Some(problems))) => anyhow::bail!("{} is damaged: {problems}", file.display()),
        (Err(e), _) | (_, Err(e)) => anyhow::bail!("{} cannot be read as a Tidings backup: {e}", file.display()),
    }
}

/// The file behind a `sqlite:` URL (`sqlite:tidings.db`, `sqlite://tidings.db?mode=rwc`).
fn sqlite_path(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url.strip_prefix("sqlite:").ok_or_else(|| anyhow::anyhow!("{url} is not a SQLite URL"))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        anyhow::bail!("an in-memory database cannot be restored into; set database_url to a file");
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_names_its_file() {
        assert_eq!(sqlite_path("sqlite:tidings.db").unwrap(), PathBuf::from("tidings.db"));
        assert_eq!(sqlite_path("sqlite:///var/lib/t.db?mode=rwc").unwrap(), PathBuf::from("/var/lib/t.db"));
        assert!(sqlite_path("sqlite::memory:").is_err());
    }
}
