//! Per-student-number sign-in throttling: 5 wrong passwords lock the number for
//! 15 minutes, doubling with each further lockout; a correct sign-in clears it.

use super::Db;

pub const FAILURES_BEFORE_LOCK: i64 = 5;
pub const FIRST_LOCK_SECONDS: i64 = 15 * 60;
/// Doubling stops here (15 min × 2⁶ = 16 h), so a number is never locked for ever.
const MAX_DOUBLINGS: i64 = 6;

/// Unix seconds until which `student_number` is locked, if it is locked at `now`.
pub async fn locked_until(
    db: &Db,
    student_number: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let until: Option<Option<i64>> =
        sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE student_number = ?")
            .bind(student_number)
            .fetch_optional(db)
            .await?;
    Ok(until.flatten().filter(|until| *until > now))
}

/// Counts a wrong password; returns the new lock's end if this failure locks the number.
pub async fn record_failure(
    db: &Db,
    student_number: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    // One statement: concurrent wrong guesses are all counted.
    let (failed, lockouts): (i64, i64) = sqlx::query_as(
        "INSERT INTO login_throttle (student_number, failed_logins) VALUES (?, 1)
         ON CONFLICT (student_number) DO UPDATE SET failed_logins = failed_logins + 1
         RETURNING failed_logins, lockouts",
    )
    .bind(student_number)
    .fetch_one(db)
    .await?;
    if failed < FAILURES_BEFORE_LOCK {
        return Ok(None);
    }
    let until = now + FIRST_LOCK_SECONDS * (1_i64 << lockouts.min(MAX_DOUBLINGS));
    sqlx::query(
        "UPDATE login_throttle SET failed_logins = 0, lockouts = lockouts + 1, locked_until = ?
         WHERE student_number = ?",
    )
    .bind(until)
    .bind(student_number)
    .execute(db)
    .await?;
    Ok(Some(until))
}

/// A correct password clears the count and any lockout history.
pub async fn record_success(db: &Db, student_number: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE student_number = ?")
        .bind(student_number)
        .execute(db)
        .await?;
    Ok(())
}
