//! The session store's rows (the server's `sessions::Store` is the layer's side).
//!
//! A session is read together with the account it belongs to, in one statement: every
//! signed-in request needs both, and on departure day a statement is what a page costs
//! (a hop to SQLite's connection thread and back, or a round trip to PostgreSQL).
//!
//! Rows are keyed by the SHA-256 of the cookie's value, so a copy of the database holds
//! no session anyone could use. `login` repeats the session's own `login` value for the
//! join; `data` is the session's values as a JSON object; `expires_at` (Unix seconds) is
//! the idle limit, pushed out whenever the session is written.

use sha2::{Digest, Sha256};

use std::sync::Arc;

use super::{
    Db,
    accounts::SessionState,
    clearance::{StudentPage, session_page_sql, student_page},
    lane::{Lane, Shelf},
};

/// What a live session holds: its values (a JSON object), when it expires (Unix
/// seconds), and its account as it is now (`None`: no login, or no such account).
pub struct Loaded {
    pub data: String,
    pub expires_at: i64,
    pub account: Option<SessionState>,
}

/// The row key of the session whose cookie holds `id`.
pub fn key(id: &str) -> String {
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `on_lane!(lane, function(args…))`: [`on_backend!`] for the functions that read
/// through the [`Lane`] (every signed-in request's statement).
macro_rules! on_lane {
    ($lane:expr, $function:ident ( $($arg:expr),* $(,)? )) => {
        match $lane {
            Lane::Sqlite(shelf) => sqlite::$function(shelf, $($arg),*).await,
            Lane::Postgres(shelf) => postgres::$function(shelf, $($arg),*).await,
        }
    };
}

/// `on_lane_connection!(shelf, |connection| statement)`: runs the read `statement` (a
/// future using `connection`) on a lane connection, and once more on a new connection
/// when the shelved one it got was gone ([`Lent::lost`](super::lane::Lent::lost)); the
/// error of a statement that failed otherwise is returned from the calling function.
macro_rules! on_lane_connection {
    ($shelf:expr, |$connection:ident| $statement:expr) => {{
        let mut fresh = false;
        loop {
            let mut lent = if fresh {
                $shelf.acquire_new().await?
            } else {
                $shelf.acquire().await?
            };
            let $connection = &mut *lent;
            let answer = $statement.await;
            match answer {
                Ok(answer) => {
                    lent.shelve();
                    break answer;
                }
                Err(error) => {
                    if !lent.lost(&error) {
                        return Err(error);
                    }
                    fresh = true;
                }
            }
        }
    }};
}

/// The session `key` unless it expired by `now`, with its account.
pub async fn load(lane: &Lane, key: &str, now: i64) -> Result<Option<Loaded>, sqlx::Error> {
    on_lane!(lane, load(key, now))
}

/// [`load`], and in the same statement the clearance page of the session's student
/// (`None` for staff, or for a student the roster no longer has): the student's own
/// page costs one statement, not two.
pub async fn load_with_page(
    lane: &Lane,
    key: &str,
    now: i64,
) -> Result<Option<(Loaded, Option<StudentPage>)>, sqlx::Error> {
    on_lane!(lane, load_with_page(key, now))
}

/// Stores a new session; `false` when `key` is taken (the caller draws another id).
pub async fn create(
    db: &Db,
    key: &str,
    login: Option<&str>,
    data: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    on_backend!(db, create(key, login, data, expires_at))
}

/// Writes the session `key`, created if it is not there.
pub async fn save(
    db: &Db,
    key: &str,
    login: Option<&str>,
    data: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    on_backend!(db, save(key, login, data, expires_at))
}

pub async fn delete(db: &Db, key: &str) -> Result<(), sqlx::Error> {
    on_backend!(db, delete(key))
}

/// Deletes the sessions that expired by `now` (the store refuses to load them anyway).
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    on_backend!(db, delete_expired(now))
}

for_each_backend! {
    pub(crate) async fn load(
        lane: &Arc<Shelf<Conn>>,
        key: &str,
        now: i64,
    ) -> Result<Option<Loaded>, sqlx::Error> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            format!(
                "SELECT {SESSION_COLUMNS}
                 FROM sessions x
                 LEFT JOIN accounts acct ON acct.login = x.login
                 LEFT JOIN students s ON s.student_number = acct.student_number
                 WHERE x.id = $1 AND x.expires_at > $2"
            )
        });
        let row = on_lane_connection!(lane, |connection| {
            sqlx::query_as::<_, SessionRow>(sql)
                .bind(key)
                .bind(now)
                .fetch_optional(connection)
        });
        Ok(row.map(SessionRow::loaded))
    }

    pub(crate) async fn load_with_page(
        lane: &Arc<Shelf<Conn>>,
        key: &str,
        now: i64,
    ) -> Result<Option<(Loaded, Option<StudentPage>)>, sqlx::Error> {
        use sqlx::{FromRow as _, Row as _};
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| session_page_sql(dialect::json_rows));
        let row = on_lane_connection!(lane, |connection| {
            sqlx::query(sql).bind(key).bind(now).fetch_optional(connection)
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let loaded = SessionRow::from_row(&row)?.loaded();
        let page = if row.try_get("has_student")? {
            Some(student_page(&row)?)
        } else {
            None
        };
        Ok(Some((loaded, page)))
    }

    pub(crate) async fn create(
        pool: &Pool,
        key: &str,
        login: Option<&str>,
        data: &str,
        expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "INSERT INTO sessions (id, login, data, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(key)
        .bind(login)
        .bind(data)
        .bind(expires_at)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn save(
        pool: &Pool,
        key: &str,
        login: Option<&str>,
        data: &str,
        expires_at: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (id, login, data, expires_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE
             SET login = excluded.login, data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(key)
        .bind(login)
        .bind(data)
        .bind(expires_at)
        .execute(pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn delete(pool: &Pool, key: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(key)
            .execute(pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn delete_expired(pool: &Pool, now: i64) -> Result<u64, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected())
    }
}

/// The columns of a session `x` and its account `acct` (outer joins, with the student
/// `s`), as [`SessionRow`] reads them.
pub(crate) const SESSION_COLUMNS: &str = "x.data AS session_data,
    x.expires_at AS session_expires_at,
    acct.role AS account_role,
    acct.student_number AS account_student,
    acct.must_change_password AS account_must_change,
    acct.session_generation AS account_generation,
    s.deactivated_at IS NOT NULL AS account_deactivated,
    coalesce(s.name, acct.login) AS account_name";

#[derive(sqlx::FromRow)]
struct SessionRow {
    session_data: String,
    session_expires_at: i64,
    account_role: Option<String>,
    account_student: Option<String>,
    account_must_change: Option<bool>,
    account_generation: Option<i64>,
    account_deactivated: Option<bool>,
    account_name: Option<String>,
}

impl SessionRow {
    /// Every account column is NOT NULL: all of them present means the outer join found
    /// the account.
    fn loaded(self) -> Loaded {
        let account = (|| {
            Some(SessionState::from((
                self.account_role?,
                self.account_student,
                self.account_must_change?,
                self.account_generation?,
                self.account_deactivated?,
                self.account_name?,
            )))
        })();
        Loaded {
            data: self.session_data,
            expires_at: self.session_expires_at,
            account,
        }
    }
}
