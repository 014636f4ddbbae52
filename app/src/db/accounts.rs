//! Sign-in accounts.

use super::Db;

pub struct Account {
    pub student_number: String,
    pub password_hash: String,
}

pub async fn find(db: &Db, student_number: &str) -> Result<Option<Account>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT student_number, password_hash FROM accounts WHERE student_number = ?",
    )
    .bind(student_number)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(student_number, password_hash)| Account {
        student_number,
        password_hash,
    }))
}

pub async fn set_password_hash(
    db: &Db,
    student_number: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET password_hash = ? WHERE student_number = ?")
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
