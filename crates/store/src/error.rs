//! Store errors: constraint violations are mapped once here, for both engines.

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not found")]
    NotFound,
    /// A unique or reference constraint refused the change; the text names what clashed.
    #[error("{0}")]
    Conflict(String),
    /// A stored value no longer parses (written by hand, or by an incompatible version).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    /// What this engine cannot do; the text says what to do instead.
    #[error("{0}")]
    Unsupported(&'static str),
    /// The database was migrated by a newer Tidings than this binary.
    #[error(
        "this database was migrated by a newer Tidings (its schema is at migration {found}; this binary knows \
         migrations up to {known}): run the newer binary, or restore a backup taken before the upgrade"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        let Some(db) = error.as_database_error() else {
            return Self::Database(error);
        };
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => {
                Self::Conflict(format!("{} already exists", clashing_field(db.message(), db.constraint())))
            }
            sqlx::error::ErrorKind::ForeignKeyViolation => {
                Self::Conflict("it is referenced by other records, or refers to a record that does not exist".into())
            }
            _ => Self::Database(error),
        }
    }
}

/// SQLite says "UNIQUE constraint failed: members.email"; PostgreSQL names the
/// constraint "members_email_key". Both become "email".
fn clashing_field(message: &str, constraint: Option<&str>) -> String {
    if let Some(name) = constraint {
        let trimmed = name.strip_suffix("_key").unwrap_or(name);
        let field = trimmed.split_once('_').map_or(trimmed, |(_, rest)| rest);
        return strip_table_prefix(field).to_owned();
    }
    message.rsplit_once('.').map_or("a value", |(_, f)| f).to_owned()
}

fn strip_table_prefix(field: &str) -> &str {
    // "partner_groups_key_key" arrives here as "groups_key"; the field is what follows the table.
    for table in ["groups_", "tokens_"] {
        if let Some(rest) = field.strip_prefix(table) {
            return rest;
        }
    }
    field
}

impl Error {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        Self::Corrupt(what.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_name_the_clashing_field() {
        assert_eq!(clashing_field("UNIQUE constraint failed: members.email", None), "email");
        assert_eq!(clashing_field("", Some("members_email_key")), "email");
        assert_eq!(clashing_field("", Some("partners_external_id_key")), "external_id");
        assert_eq!(clashing_field("", Some("partner_groups_key_key")), "key");
        assert_eq!(clashing_field("", Some("api_tokens_token_hash_key")), "token_hash");
    }
}
