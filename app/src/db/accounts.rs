//! Sign-in accounts: students (login = 学号) and, by role, staff.

use super::Db;

pub const STUDENT_ROLE: &str = "student";

pub struct Account {
    pub login: String,
    pub role: String,
    pub password_hash: String,
    pub session_generation: i64,
    pub must_change_password: bool,
    /// A student removed from the cohort (the graduate school's roster): cannot sign in.
    pub deactivated: bool,
}

/// What a session is checked against on every call. Read with the session itself
/// ([`super::sessions::load`]), and handed to the app inside the loaded session.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SessionState {
    pub role: String,
    /// Set for student accounts only.
    pub student_number: Option<String>,
    pub must_change_password: bool,
    pub session_generation: i64,
    /// A student removed from the cohort: every session of theirs ends.
    pub deactivated: bool,
    /// The student's name, or the staff login (the page header's).
    pub display_name: String,
}

/// [`SessionState`]'s columns as a statement reads them, in its order.
pub(crate) type SessionColumns = (String, Option<String>, bool, i64, bool, String);

impl From<SessionColumns> for SessionState {
    fn from(
        (role, student_number, must_change_password, session_generation, deactivated, display_name): SessionColumns,
    ) -> Self {
        SessionState {
            role,
            student_number,
            must_change_password,
            session_generation,
            deactivated,
            display_name,
        }
    }
}

pub async fn find(db: &Db, login: &str) -> Result<Option<Account>, sqlx::Error> {
    on_backend!(db, find(login))
}

pub async fn session_state(db: &Db, login: &str) -> Result<Option<SessionState>, sqlx::Error> {
    on_backend!(db, session_state(login))
}

/// Stores a new password hash; every session opened before it ends.
pub async fn change_password(db: &Db, login: &str, password_hash: &str) -> Result<(), sqlx::Error> {
    on_backend!(db, change_password(login, password_hash))
}

/// Resets a student's password to a one-time one (`password_hash`): it must be changed
/// at the next sign-in, every session of the account ends, and the reset is audited in
/// the same transaction. `false`: no student account has that number.
pub async fn reset_student_password(
    db: &Db,
    student_number: &str,
    password_hash: &str,
    now: time::OffsetDateTime,
    who: &super::audit::Who,
) -> Result<bool, sqlx::Error> {
    on_backend!(
        db,
        reset_student_password(student_number, password_hash, now, who)
    )
}

/// Creates a staff account with `password_hash` (a one-time password, to be changed at
/// first sign-in). `false`: the login is taken.
pub async fn create_staff(
    db: &Db,
    login: &str,
    role: &str,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    on_backend!(db, create_staff(login, role, password_hash))
}

for_each_backend! {
    pub(crate) async fn reset_student_password(
        pool: &Pool,
        student_number: &str,
        password_hash: &str,
        now: time::OffsetDateTime,
        who: &crate::db::audit::Who,
    ) -> Result<bool, sqlx::Error> {
        let mut tx = pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE accounts
             SET password_hash = $1, must_change_password = TRUE,
                 session_generation = session_generation + 1
             WHERE login = $2 AND role = 'student'",
        )
        .bind(password_hash)
        .bind(student_number)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(false);
        }
        audit::record_in(&mut tx, now, crate::db::audit::Event::PasswordReset, who).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn create_staff(
        pool: &Pool,
        login: &str,
        role: &str,
        password_hash: &str,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password)
             VALUES ($1, $2, NULL, $3, TRUE)
             ON CONFLICT (login) DO NOTHING",
        )
        .bind(login)
        .bind(role)
        .bind(password_hash)
        .execute(pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub(crate) async fn find(pool: &Pool, login: &str) -> Result<Option<Account>, sqlx::Error> {
        let row: Option<(String, String, String, i64, bool, bool)> = sqlx::query_as(
            "SELECT a.login, a.role, a.password_hash, a.session_generation, a.must_change_password,
                    s.deactivated_at IS NOT NULL
             FROM accounts a LEFT JOIN students s ON s.student_number = a.student_number
             WHERE a.login = $1",
        )
        .bind(login)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(
            |(login, role, password_hash, session_generation, must_change_password, deactivated)| {
                Account {
                    login,
                    role,
                    password_hash,
                    session_generation,
                    must_change_password,
                    deactivated,
                }
            },
        ))
    }

    pub(crate) async fn session_state(
        pool: &Pool,
        login: &str,
    ) -> Result<Option<SessionState>, sqlx::Error> {
        // One round trip for everything a page needs to know of the account.
        let row: Option<SessionColumns> = sqlx::query_as(
            "SELECT a.role, a.student_number, a.must_change_password, a.session_generation,
                    s.deactivated_at IS NOT NULL, coalesce(s.name, a.login)
             FROM accounts a LEFT JOIN students s ON s.student_number = a.student_number
             WHERE a.login = $1",
        )
        .bind(login)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(SessionState::from))
    }

    pub(crate) async fn change_password(
        pool: &Pool,
        login: &str,
        password_hash: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE accounts
             SET password_hash = $1, must_change_password = FALSE,
                 session_generation = session_generation + 1
             WHERE login = $2",
        )
        .bind(password_hash)
        .bind(login)
        .execute(pool)
        .await?;
        Ok(())
    }
}
