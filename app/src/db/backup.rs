//! Backups of a live database.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy of the database as of one moment (a
//! read transaction), while the server goes on reading and writing; the copy is a
//! complete database file, restored by putting it in place of the original while the
//! server is stopped. PostgreSQL has its own tool for this (`pg_dump`, see
//! docs/deploy.md).

use std::path::Path;

use super::Db;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; choose a new file name (a backup never overwrites)")]
    Exists(String),
    #[error("the directory {0} does not exist")]
    NoDirectory(String),
    #[error("there is no database at {0} to back up (check DATABASE_URL)")]
    NoDatabase(String),
    #[error("this is a PostgreSQL database: back it up with pg_dump (see docs/deploy.md)")]
    Postgres,
    #[error("the backup failed: {0}")]
    Database(#[from] sqlx::Error),
}

/// Before opening the database for a backup: a SQLite URL must name an existing file
/// (opening would otherwise create an empty database, and back that up).
pub fn check_source(url: &str) -> Result<(), BackupError> {
    if url.starts_with("sqlite:") {
        let file = super::sqlite::options(url)
            .map_err(|_| BackupError::NoDatabase(url.to_owned()))?
            .get_filename()
            .to_owned();
        if !file.is_file() {
            return Err(BackupError::NoDatabase(file.display().to_string()));
        }
    }
    Ok(())
}

/// Writes a consistent copy of the live SQLite database to `to` (a new file).
pub async fn sqlite_copy(db: &Db, to: &Path) -> Result<(), BackupError> {
    if to.exists() {
        return Err(BackupError::Exists(to.display().to_string()));
    }
    if let Some(dir) = to.parent().filter(|dir| !dir.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(BackupError::NoDirectory(dir.display().to_string()));
    }
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("VACUUM INTO $1")
                .bind(to.display().to_string())
                .execute(pool)
                .await?;
            Ok(())
        }
        Db::Postgres(_) => Err(BackupError::Postgres),
    }
}
