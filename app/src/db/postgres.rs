//! What only PostgreSQL does: connecting with Lixiao's session settings, and locking one
//! student's row for a change to their clearance.

use std::str::FromStr;

use sqlx::{
    Connection, PgConnection, PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};

use super::{OpenError, redact};
use crate::config::PoolSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub fn options(url: &str, settings: PoolSettings) -> Result<PgConnectOptions, OpenError> {
    let statement_timeout = format!("{}ms", settings.statement_timeout.as_millis());
    Ok(PgConnectOptions::from_str(url)
        .map_err(|source| OpenError::BadUrl {
            url: redact(url),
            reason: source.to_string(),
        })?
        .application_name("lixiao")
        .options([
            // An acknowledged commit is on disk (and on synchronous standbys) before the
            // student is told "submitted", whatever the server's default says.
            ("synchronous_commit", "on"),
            // Every stored instant is read and written in UTC.
            ("timezone", "UTC"),
            ("statement_timeout", statement_timeout.as_str()),
            // A transaction left open by a broken connection does not hold row locks.
            ("idle_in_transaction_session_timeout", "60s"),
        ]))
}

pub async fn open(url: &str, settings: PoolSettings) -> Result<PgPool, OpenError> {
    let options = options(url, settings)?;
    let failed = |source| OpenError::Connect {
        url: redact(url),
        source,
    };
    // One connection first: the pool retries until its timeout and then reports only
    // that it timed out; this reports why (refused, no such database, wrong password).
    // A host that drops packets would make it wait for ever: it gets the pool's timeout.
    let first = tokio::time::timeout(
        settings.acquire_timeout,
        PgConnection::connect_with(&options),
    )
    .await
    .map_err(|_| failed(sqlx::Error::PoolTimedOut))?
    .map_err(failed)?;
    first.close().await.map_err(failed)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(failed)?;
    // Several servers may start at once: sqlx's migrator takes an advisory lock, so one
    // migrates and the others wait and find the schema current.
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Starts a transaction that changes `student`'s clearance (a submission, 注销, an
/// office's update) and locks the student's row first: every such change for this
/// student, from any server process, waits for this one to commit, and each statement
/// inside (READ COMMITTED) reads what the previous holder committed. Changes to
/// different students do not wait for each other.
pub async fn begin_for_student(
    pool: &PgPool,
    student: &str,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT 1 FROM students WHERE student_number = $1 FOR UPDATE")
        .bind(student)
        .fetch_optional(&mut *tx)
        .await?;
    Ok(tx)
}

/// Starts a transaction whose reads all see one state (the clearance page: facts and
/// submission together). PostgreSQL's default, READ COMMITTED, gives each statement a new
/// snapshot; REPEATABLE READ gives the whole transaction one, and reading only, it never
/// has to retry.
pub async fn begin_read(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Starts a transaction that writes (the demo seed, a batch). One at a time across all
/// server processes, like SQLite's write lock: two servers started together with the
/// demo data must not both find the database empty.
pub async fn begin_write(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(BATCH_WRITE_LOCK)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// The advisory lock key of batch writes (any constant no other code uses).
const BATCH_WRITE_LOCK: i64 = 0x6c69_7869_616f; // "lixiao"
