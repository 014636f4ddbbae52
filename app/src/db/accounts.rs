//! Sign-in accounts.

use super::Db;

pub struct Account {
    pub student_number: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub session_generation: i64,
}

/// What a session is checked against on every call.
pub struct SessionState {
    pub must_change_password: bool,
    pub session_generation: i64,
}

/// Only students have accounts so far; the role is checked so that staff roles, when
/// they come, never pass as students.
const STUDENT: &str = "student";

pub async fn find(db: &Db, student_number: &str) -> Result<Option<Account>, sqlx::Error> {
    let row: Option<(String, String, bool, i64)> = sqlx::query_as(
        "SELECT student_number, password_hash, must_change_password, session_generation
         FROM accounts WHERE student_number = ? AND role = ?",
    )
    .bind(student_number)
    .bind(STUDENT)
    .fetch_optional(db)
    .await?;
    Ok(row.map(
        |(student_number, password_hash, must_change_password, session_generation)| Account {
            student_number,
            password_hash,
            must_change_password,
            session_generation,
        },
    ))
}

pub async fn session_state(
    db: &Db,
    student_number: &str,
) -> Result<Option<SessionState>, sqlx::Error> {
    let row: Option<(bool, i64)> = sqlx::query_as(
        "SELECT must_change_password, session_generation
         FROM accounts WHERE student_number = ? AND role = ?",
    )
    .bind(student_number)
    .bind(STUDENT)
    .fetch_optional(db)
    .await?;
    Ok(
        row.map(|(must_change_password, session_generation)| SessionState {
            must_change_password,
            session_generation,
        }),
    )
}

/// Stores a new password hash; every session opened before it ends.
pub async fn change_password(
    db: &Db,
    student_number: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts
         SET password_hash = ?, must_change_password = 0,
             session_generation = session_generation + 1
         WHERE student_number = ?",
    )
    .bind(password_hash)
    .bind(student_number)
    .execute(db)
    .await?;
    Ok(())
}

/// The student's name, for the page header.
pub async fn display_name(db: &Db, student_number: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM students WHERE student_number = ?")
        .bind(student_number)
        .fetch_optional(db)
        .await
}
