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
    // Like the pool, it waits (up to the acquire timeout) for a server that is not up
    // yet or still starting, so Lixiao and PostgreSQL can start together.
    let deadline = tokio::time::Instant::now() + settings.acquire_timeout;
    let mut waited_for: Option<sqlx::Error> = None;
    let first = loop {
        let attempt = tokio::time::timeout_at(deadline, PgConnection::connect_with(&options)).await;
        match attempt {
            Ok(Ok(connection)) => break connection,
            Ok(Err(error)) if not_up_yet(&error) => {
                let next = tokio::time::Instant::now() + std::time::Duration::from_millis(250);
                if next >= deadline {
                    return Err(failed(error));
                }
                waited_for = Some(error);
                tokio::time::sleep_until(next).await;
            }
            Ok(Err(error)) => return Err(failed(error)),
            // Out of time: say what it was waiting for, or that nothing answered.
            Err(_) => {
                return Err(match waited_for {
                    Some(error) => failed(error),
                    None => OpenError::NoAnswer {
                        url: redact(url),
                        seconds: settings.acquire_timeout.as_secs(),
                    },
                });
            }
        }
    };
    first.close().await.map_err(failed)?;
    let ping_idle_after = settings.ping_idle_after;
    let pool = PgPoolOptions::new()
        .max_connections(settings.pool_connections())
        .acquire_timeout(settings.acquire_timeout)
        // Only a connection that sat idle is checked before use (see `ping_idle_after`):
        // one that fails its ping is closed and the pool hands out another.
        .test_before_acquire(false)
        .before_acquire(move |connection, meta| {
            Box::pin(async move {
                if meta.idle_for > ping_idle_after {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .map_err(failed)?;
    // Several servers may start at once: sqlx's migrator takes an advisory lock, so one
    // migrates and the others wait and find the schema current.
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// A server that is not listening yet, or still starting up or recovering (57P03): worth
/// waiting for.
fn not_up_yet(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        sqlx::Error::Database(database) => database.code().as_deref() == Some("57P03"),
        _ => false,
    }
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

/// A JSON array (as text) of one JSON array of `columns` for each row `from` yields,
/// in no particular order (the reader sorts, as on SQLite); `[]` for none.
pub fn json_rows(columns: &str, from: &str) -> String {
    format!(
        "(SELECT coalesce(json_agg(json_build_array({columns})), '[]'::json)::text FROM {from})"
    )
}

/// Whether `error` breaks the unique index or constraint `name`.
pub fn violates(error: &dyn sqlx::error::DatabaseError, name: &str) -> bool {
    error.is_unique_violation() && error.constraint() == Some(name)
}

/// The advisory lock key of batch writes (any constant no other code uses).
const BATCH_WRITE_LOCK: i64 = 0x6c69_7869_616f; // "lixiao"
/// Locks one student inside a write transaction (a batch), as `begin_for_student` does.
pub async fn lock_student(conn: &mut sqlx::PgConnection, student: &str) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT 1 FROM students WHERE student_number = $1 FOR UPDATE")
        .bind(student)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(())
}
