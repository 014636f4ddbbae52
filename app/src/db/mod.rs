//! The data layer: every SQL statement of Lixiao lives under this module, on the
//! server only. Callers get plain Rust values and [`AppError`]s, never sqlx types
//! or database messages.

pub mod accounts;
pub mod audit;
pub mod clearance;
pub mod demo;
pub mod throttle;

use std::{str::FromStr, time::Duration};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

/// The pool every query runs on. One name, so the backend can change in one place.
pub type Db = sqlx::SqlitePool;

/// Why the database could not be opened, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {url:?} is not a database URL this build understands: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("could not create the database directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("could not open the database {url:?}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database migration failed, the server will not start: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if missing) the database at `url` and brings its schema up to date.
pub async fn open(url: &str) -> Result<Db, OpenError> {
    let bad_url = |reason: String| OpenError::BadUrl {
        url: url.to_owned(),
        reason,
    };
    // sqlx reads any string without a scheme as a file name; insist on the scheme so a
    // mistyped URL is an error rather than a surprise database file.
    if !url.starts_with("sqlite:") {
        return Err(bad_url(
            "expected sqlite://path/to/file.db or sqlite::memory:".to_owned(),
        ));
    }
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|source| bad_url(source.to_string()))?
        .create_if_missing(true)
        // WAL lets readers continue while one writer commits: departure-day pages stay fast.
        .journal_mode(SqliteJournalMode::Wal)
        // In WAL mode NORMAL survives a crash of the process; only power loss may lose the last commit.
        .synchronous(SqliteSynchronous::Normal)
        // Writers queue for the lock instead of failing with "database is locked".
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);

    if let Some(dir) = options
        .get_filename()
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            dir: dir.display().to_string(),
            source,
        })?;
    }

    let db = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(options)
        .await
        .map_err(|source| OpenError::Connect {
            url: url.to_owned(),
            source,
        })?;
    sqlx::migrate!("./migrations/sqlite").run(&db).await?;
    Ok(db)
}

/// Answers whether the database responds; used by `/healthz`.
pub async fn ping(db: &Db) -> bool {
    sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(db)
        .await
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_creates_the_directory_and_migrates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/deeper/lixiao.db");
        let db = open(&format!("sqlite://{}", path.display()))
            .await
            .expect("opens");
        assert!(path.exists());
        assert!(ping(&db).await);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&db)
            .await
            .expect("pragma");
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&db)
            .await
            .expect("pragma");
        assert_eq!(fk, 1);
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'students'",
        )
        .fetch_one(&db)
        .await
        .expect("count");
        assert_eq!(tables, 1);
    }

    #[tokio::test]
    async fn a_migration_that_no_longer_matches_stops_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("lixiao.db").display());
        let db = open(&url).await.expect("opens");
        // As if the schema file had been edited after this database was migrated.
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
            .execute(&db)
            .await
            .expect("tamper");
        db.close().await;
        let error = open(&url)
            .await
            .expect_err("must not start on a mismatched schema");
        assert!(matches!(error, OpenError::Migrate(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("migration failed, the server will not start")
        );
    }

    /// A database made by the first release (migrations 1-3) with its data in the old
    /// formats moves forward without losing a row: times become UTC, the audit trail
    /// splits actor from typed login and drops what does not look like a login, and a
    /// snapshot frozen in the old format still reads (as Beijing time).
    #[tokio::test]
    async fn a_first_release_database_migrates_forward_without_losing_a_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("lixiao.db").display());
        let mut first_release = sqlx::migrate!("./migrations/sqlite");
        first_release.migrations = first_release
            .migrations
            .iter()
            .filter(|migration| migration.version <= 3)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        {
            let db = sqlx::SqlitePool::connect_with(
                SqliteConnectOptions::from_str(&url)
                    .expect("url")
                    .create_if_missing(true),
            )
            .await
            .expect("old database");
            first_release.run(&db).await.expect("old schema");
            let snapshot = include_str!("../../tests/fixtures/snapshot-before-utc.json");
            for statement in [
                "INSERT INTO students VALUES ('2020100004', '刘洋', '女', '2017级', '计算机科学与技术学院', '计算机技术', '2017-09-01', '毕业离校', '2020-06-08')",
                "INSERT INTO accounts (login, role, student_number, password_hash) VALUES ('2020100004', 'student', '2020100004', 'x')",
                "INSERT INTO library_records VALUES ('2020100004', 0, 0, 0, '2020-06-02 15:40:00', '审核通过')",
                "INSERT INTO login_throttle (student_number, failed_logins) VALUES ('2020100004', 2)",
                "INSERT INTO audit_log (at, event, account, client_addr) VALUES
                    ('2020-06-09T02:00:00.000Z', 'login_failed', 'my password', '10.0.0.1'),
                    ('2020-06-09T02:00:01.000Z', 'login_failed', '2020100004', '10.0.0.1'),
                    ('2020-06-09T02:00:02.000Z', 'login_succeeded', '2020100004', '10.0.0.1'),
                    ('2020-06-09T02:21:37.000Z', 'departure_submitted', '2020100004', '10.0.0.1')",
            ] {
                sqlx::query(statement).execute(&db).await.expect("old data");
            }
            sqlx::query(
                "INSERT INTO departures (student_number, slip_number, submitted_at, snapshot)
                 VALUES ('2020100004', 'LX202006092020100004', '2020-06-09 10:21:37', ?)",
            )
            .bind(snapshot)
            .execute(&db)
            .await
            .expect("old departure");
            db.close().await;
        }

        let db = open(&url).await.expect("migrates forward");
        let times: (String, String) = sqlx::query_as(
            "SELECT departures.submitted_at, library_records.card_cancelled_at
             FROM departures JOIN library_records USING (student_number)",
        )
        .fetch_one(&db)
        .await
        .expect("times");
        assert_eq!(
            times,
            (
                "2020-06-09T02:21:37Z".to_owned(),
                "2020-06-02T07:40:00Z".to_owned()
            )
        );
        let audit: Vec<(String, Option<String>, Option<String>)> =
            sqlx::query_as("SELECT event, actor, typed_login FROM audit_log ORDER BY id")
                .fetch_all(&db)
                .await
                .expect("audit");
        let number = || Some("2020100004".to_owned());
        assert_eq!(
            audit,
            vec![
                ("login_failed".to_owned(), None, None),
                ("login_failed".to_owned(), None, number()),
                ("login_succeeded".to_owned(), number(), number()),
                ("departure_submitted".to_owned(), number(), None),
            ]
        );
        // The frozen snapshot is untouched and still reads, in Beijing time.
        let stored: String = sqlx::query_scalar("SELECT snapshot FROM departures")
            .fetch_one(&db)
            .await
            .expect("snapshot");
        assert!(stored.contains("\"submitted_at\":\"2020-06-09 10:21:37\""));
        let departure = clearance::find_departure(&db, "2020100004")
            .await
            .expect("reads")
            .expect("exists");
        assert_eq!(departure.submitted_at, "2020-06-09 10:21:37");
        assert_eq!(departure.facts.basic.name, "刘洋");
        let (_, submitted) = clearance::load(&db, "2020100004")
            .await
            .expect("loads")
            .expect("student");
        assert_eq!(
            submitted.expect("submitted").submitted_at,
            "2020-06-09 10:21:37",
            "the converted UTC time shows as the same Beijing time"
        );
    }

    #[tokio::test]
    async fn a_bad_url_is_reported_not_panicked() {
        let error = open("postgres-but-not-really://x")
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("DATABASE_URL"));
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_created_is_reported() {
        let error = open("sqlite:///proc/definitely/not/here.db")
            .await
            .expect_err("refused");
        assert!(
            matches!(
                error,
                OpenError::CreateDir { .. } | OpenError::Connect { .. }
            ),
            "{error}"
        );
    }
}
