//! Password-guessing limits, kept in the database so every server process sees them.
//!
//! - **Lock per (student number, client)**: 5 wrong passwords in a row for one number from
//!   one client (an IPv4 address, or an IPv6 /64) lock that pair for 15 minutes, doubling
//!   with each further lockout up to 16 hours. The real student on another network is not
//!   affected, so no stranger can lock a student out.
//! - **Slow-down per student number**: once a number has had more than
//!   [`SLOWDOWN_AFTER`] wrong passwords from anywhere in its current window (which starts
//!   at a failure and lasts [`SLOWDOWN_WINDOW_SECONDS`]), every attempt for it waits
//!   before it is checked: 500 ms, doubling per further failure, up to
//!   [`MAX_SLOWDOWN_MS`]. It is a delay per attempt, not a rate: it slows a guesser who
//!   waits for each answer; one who sends many at once is held by the per-client limits.
//!   The real student still gets in, a few seconds later.
//!
//! - **Per client**: [`MAX_CLIENT_FAILURES`] wrong passwords from one client (for any
//!   numbers) in a window of [`CLIENT_WINDOW_SECONDS`] refuse its further attempts until
//!   the window ends (`LIXIAO_SIGNIN_FAILURES_PER_CLIENT` changes the count). Students
//!   share campus NAT addresses, so the limit is high: it stops guessing at scale, not a
//!   dormitory signing in.
//!
//! Rows are kept per login as typed (a digest for an unknown one, see [`subject`]) and
//! deleted a day after their last failure, unless a lock is still running.

use super::Db;

use sha2::{Digest, Sha256};

pub const FAILURES_BEFORE_LOCK: i64 = 5;
pub const FIRST_LOCK_SECONDS: i64 = 15 * 60;
/// Doubling stops here (15 min × 2⁶ = 16 h), so a pair is never locked for ever.
const MAX_DOUBLINGS: i64 = 6;

/// Wrong passwords for one number (from any client) before its attempts are slowed.
pub const SLOWDOWN_AFTER: i64 = 10;
pub const SLOWDOWN_WINDOW_SECONDS: i64 = 15 * 60;
/// The slow-down starts at 500 ms and doubles per further failure up to this.
pub const MAX_SLOWDOWN_MS: u64 = 5_000;

/// Wrong passwords from one client, for any numbers, before it is refused for the rest
/// of its window: the default of `Config::signin_failures_per_client`.
pub const MAX_CLIENT_FAILURES: u32 = 100;
pub const CLIENT_WINDOW_SECONDS: i64 = 10 * 60;

/// What the limits count under for a login attempt: the account's login when `typed`
/// names one; otherwise a digest of what was typed, so an unknown number is limited just
/// the same while a password typed into the number field is never stored.
pub fn subject(account: Option<&str>, typed: &str) -> String {
    match account {
        Some(login) => login.to_owned(),
        None => {
            let digest = Sha256::digest(typed.as_bytes());
            let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
            format!("unknown:{hex}")
        }
    }
}

/// Unix seconds until which `student_number` is locked for `client`, if it is at `now`.
pub async fn locked_until(
    db: &Db,
    student_number: &str,
    client: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    on_backend!(db, locked_until(student_number, client, now))
}

/// Whether `client` may try another password at `now`: fewer than `limit` failures in
/// its window (see [`MAX_CLIENT_FAILURES`]).
pub async fn client_allowed(
    db: &Db,
    client: &str,
    now: i64,
    limit: u32,
) -> Result<bool, sqlx::Error> {
    on_backend!(db, client_allowed(client, now, limit))
}

/// How long an attempt for `student_number` waits before its password is checked.
pub async fn slowdown(
    db: &Db,
    student_number: &str,
    now: i64,
) -> Result<std::time::Duration, sqlx::Error> {
    on_backend!(db, slowdown(student_number, now))
}

/// The wait for a number with `failures` recent wrong passwords.
pub fn slowdown_for(failures: i64) -> std::time::Duration {
    let excess = failures - SLOWDOWN_AFTER;
    if excess <= 0 {
        return std::time::Duration::ZERO;
    }
    let ms = 250_u64.saturating_mul(1 << excess.min(16));
    std::time::Duration::from_millis(ms.min(MAX_SLOWDOWN_MS))
}

/// Counts a wrong password for `student_number` from `client` (for the pair, the number
/// and the client); returns the new lock's end if this failure locks the pair.
pub async fn record_failure(
    db: &Db,
    student_number: &str,
    client: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    on_backend!(db, record_failure(student_number, client, now))
}

/// A correct password clears this client's count and lockout history for the number.
/// The number's slow-down and the client's count stay: others may still be guessing.
pub async fn record_success(
    db: &Db,
    student_number: &str,
    client: &str,
) -> Result<(), sqlx::Error> {
    on_backend!(db, record_success(student_number, client))
}

/// Forgets limits nobody has tripped for a day (locks still running stay), and windows
/// that are over. Returns how many rows went.
pub async fn forget_old(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    on_backend!(db, forget_old(now))
}

for_each_backend! {
    pub(crate) async fn locked_until(
        pool: &Pool,
        student_number: &str,
        client: &str,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let until: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT locked_until FROM login_locks WHERE student_number = $1 AND client = $2",
        )
        .bind(student_number)
        .bind(client)
        .fetch_optional(pool)
        .await?;
        Ok(until.flatten().filter(|until| *until > now))
    }

    pub(crate) async fn client_allowed(
        pool: &Pool,
        client: &str,
        now: i64,
        limit: u32,
    ) -> Result<bool, sqlx::Error> {
        let failures: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM login_client_failures WHERE client = $1 AND window_started > $2",
        )
        .bind(client)
        .bind(now - CLIENT_WINDOW_SECONDS)
        .fetch_optional(pool)
        .await?;
        Ok(failures.unwrap_or(0) < i64::from(limit))
    }

    pub(crate) async fn slowdown(
        pool: &Pool,
        student_number: &str,
        now: i64,
    ) -> Result<std::time::Duration, sqlx::Error> {
        let failures: Option<i64> = sqlx::query_scalar(
            "SELECT failures FROM login_slowdown WHERE student_number = $1 AND window_started > $2",
        )
        .bind(student_number)
        .bind(now - SLOWDOWN_WINDOW_SECONDS)
        .fetch_optional(pool)
        .await?;
        Ok(slowdown_for(failures.unwrap_or(0)))
    }

    pub(crate) async fn record_failure(
        pool: &Pool,
        student_number: &str,
        client: &str,
        now: i64,
    ) -> Result<Option<i64>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        // Each count is one statement, so concurrent wrong guesses are all counted. A
        // window that is over starts again at this failure.
        sqlx::query(
            "INSERT INTO login_client_failures (client, window_started, failures) VALUES ($1, $2, 1)
             ON CONFLICT (client) DO UPDATE SET
                 failures = CASE WHEN login_client_failures.window_started > $3
                                 THEN login_client_failures.failures + 1 ELSE 1 END,
                 window_started = CASE WHEN login_client_failures.window_started > $3
                                       THEN login_client_failures.window_started ELSE $2 END",
        )
        .bind(client)
        .bind(now)
        .bind(now - CLIENT_WINDOW_SECONDS)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO login_slowdown (student_number, window_started, failures) VALUES ($1, $2, 1)
             ON CONFLICT (student_number) DO UPDATE SET
                 failures = CASE WHEN login_slowdown.window_started > $3
                                 THEN login_slowdown.failures + 1 ELSE 1 END,
                 window_started = CASE WHEN login_slowdown.window_started > $3
                                       THEN login_slowdown.window_started ELSE $2 END",
        )
        .bind(student_number)
        .bind(now)
        .bind(now - SLOWDOWN_WINDOW_SECONDS)
        .execute(&mut *tx)
        .await?;
        let (failed, lockouts): (i64, i64) = sqlx::query_as(
            "INSERT INTO login_locks (student_number, client, failed_logins, last_failure_at)
             VALUES ($1, $2, 1, $3)
             ON CONFLICT (student_number, client) DO UPDATE SET
                 failed_logins = login_locks.failed_logins + 1,
                 last_failure_at = excluded.last_failure_at
             RETURNING failed_logins, lockouts",
        )
        .bind(student_number)
        .bind(client)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let locked = if failed < FAILURES_BEFORE_LOCK {
            None
        } else {
            let until = now + FIRST_LOCK_SECONDS * (1_i64 << lockouts.min(MAX_DOUBLINGS));
            sqlx::query(
                "UPDATE login_locks SET failed_logins = 0, lockouts = lockouts + 1, locked_until = $1
                 WHERE student_number = $2 AND client = $3",
            )
            .bind(until)
            .bind(student_number)
            .bind(client)
            .execute(&mut *tx)
            .await?;
            Some(until)
        };
        tx.commit().await?;
        Ok(locked)
    }

    pub(crate) async fn record_success(
        pool: &Pool,
        student_number: &str,
        client: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM login_locks WHERE student_number = $1 AND client = $2")
            .bind(student_number)
            .bind(client)
            .execute(pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn forget_old(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
        let locks = sqlx::query(
            "DELETE FROM login_locks
             WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)",
        )
        .bind(now - 24 * 60 * 60)
        .bind(now)
        .execute(pool)
        .await?;
        let windows = sqlx::query("DELETE FROM login_slowdown WHERE window_started < $1")
            .bind(now - SLOWDOWN_WINDOW_SECONDS)
            .execute(pool)
            .await?;
        let clients = sqlx::query("DELETE FROM login_client_failures WHERE window_started < $1")
            .bind(now - CLIENT_WINDOW_SECONDS)
            .execute(pool)
            .await?;
        Ok(locks.rows_affected() + windows.rows_affected() + clients.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_logins_are_counted_by_digest_never_as_typed() {
        assert_eq!(subject(Some("2020100001"), "2020100001"), "2020100001");
        let typed = subject(None, "my secret pw");
        assert!(typed.starts_with("unknown:"), "{typed}");
        assert!(!typed.contains("secret"));
        assert_eq!(
            typed,
            subject(None, "my secret pw"),
            "the same typing counts together"
        );
        assert_ne!(typed, subject(None, "my secret pw2"));
    }

    #[test]
    fn the_slow_down_grows_and_is_capped() {
        assert_eq!(slowdown_for(0), std::time::Duration::ZERO);
        assert_eq!(slowdown_for(SLOWDOWN_AFTER), std::time::Duration::ZERO);
        assert_eq!(slowdown_for(SLOWDOWN_AFTER + 1).as_millis(), 500);
        assert_eq!(slowdown_for(SLOWDOWN_AFTER + 2).as_millis(), 1_000);
        assert_eq!(
            slowdown_for(SLOWDOWN_AFTER + 40).as_millis(),
            u128::from(MAX_SLOWDOWN_MS)
        );
        assert_eq!(
            slowdown_for(i64::MAX).as_millis(),
            u128::from(MAX_SLOWDOWN_MS)
        );
    }
}
