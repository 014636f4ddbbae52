//! Backups of a live database.
//!
//! SQLite: `VACUUM INTO` writes a consistent copy of the database as of one moment (a
//! read transaction), while the server goes on reading and writing; the copy is a
//! complete database file, restored by putting it in place of the original while the
//! server is stopped. PostgreSQL has its own tool for this (`pg_dump`, see
//! docs/deploy.md).
//!
//! A backup never changes the database it copies: it does not create a missing one and
//! does not migrate an older one (a backup taken before an upgrade must be the state
//! before the upgrade, and the old server may still be running on it).

use std::path::Path;

use sqlx::sqlite::SqlitePoolOptions;

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

/// Writes a consistent copy of the live SQLite database at `url` to `to` (a new file).
pub async fn sqlite_copy(url: &str, to: &Path) -> Result<(), BackupError> {
    if !url.starts_with("sqlite:") {
        return Err(if url.starts_with("postgres") {
            BackupError::Postgres
        } else {
            BackupError::NoDatabase(super::redact(url))
        });
    }
    let options = super::sqlite::options(url)
        .map_err(|_| BackupError::NoDatabase(url.to_owned()))?
        .create_if_missing(false);
    let file = options.get_filename().to_owned();
    if !file.is_file() {
        return Err(BackupError::NoDatabase(file.display().to_string()));
    }
    if to.exists() {
        return Err(BackupError::Exists(to.display().to_string()));
    }
    if let Some(dir) = to.parent().filter(|dir| !dir.as_os_str().is_empty())
        && !dir.is_dir()
    {
        return Err(BackupError::NoDirectory(dir.display().to_string()));
    }
    // One connection, no migrations: the database is read, never changed.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    let copied = sqlx::query("VACUUM INTO $1")
        .bind(to.display().to_string())
        .execute(&pool)
        .await;
    pool.close().await;
    copied?;
    Ok(())
}
