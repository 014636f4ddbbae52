//! The graduate school's roster: an uploaded file between its upload and its import
//! (`roster_imports`), and the import itself, which creates students and their accounts,
//! updates changed 基本信息, and deactivates students no longer listed (never deletes).
//!
//! An account, once created, is never touched by an import: a password the student has
//! changed stays, and so does the initial one of a student who has not signed in yet.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Db, Instant, audit::Who};
use crate::{
    clearance::model::{BasicInfo, Gender},
    school::{roster::RosterCounts, roster_file::RosterRow},
    sync::csv::BadRow,
};

/// How long an upload is kept if it is never imported.
pub const KEEP_FOR: time::Duration = time::Duration::days(1);
/// A preparation whose server has not reported for this long has stopped (the server
/// was restarted, say): the upload must be made again.
pub const STALE_AFTER: time::Duration = time::Duration::seconds(60);

/// A roster row ready to import: with the hash of the initial password for a student
/// who has no account yet (`None`: the account exists and is left alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreparedRow {
    pub row: RosterRow,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Hashing the new accounts' initial passwords.
    Preparing,
    Ready,
    Failed,
}

impl Status {
    fn code(self) -> &'static str {
        match self {
            Status::Preparing => "preparing",
            Status::Ready => "ready",
            Status::Failed => "failed",
        }
    }
}

/// An uploaded roster.
#[derive(Debug, Clone)]
pub struct StoredRoster {
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub file_name: String,
    pub status: Status,
    pub accounts_total: usize,
    pub accounts_done: usize,
    pub rows: Vec<PreparedRow>,
    pub bad: Vec<BadRow>,
}

pub enum ApplyOutcome {
    Applied(RosterCounts),
    /// A new student has no prepared account (the database changed since the upload).
    Stale,
}

/// Logins that exist: student accounts, and staff logins (a 学号 may not take one).
pub struct Logins {
    pub students: HashSet<String>,
    pub staff: HashSet<String>,
}

pub async fn logins(db: &Db) -> Result<Logins, sqlx::Error> {
    on_backend!(db, logins())
}

/// Whether the student was removed from the cohort (`false` also for no such student).
pub async fn deactivated(db: &Db, student_number: &str) -> Result<bool, sqlx::Error> {
    on_backend!(db, deactivated(student_number))
}

#[allow(clippy::too_many_arguments)]
pub async fn create(
    db: &Db,
    id: &str,
    uploaded_by: &str,
    file_name: &str,
    status: Status,
    rows: &[PreparedRow],
    bad: &[BadRow],
    accounts_total: usize,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let rows_json = json(rows)?;
    let bad_json = json(bad)?;
    on_backend!(
        db,
        create(
            id,
            uploaded_by,
            file_name,
            status,
            rows.len(),
            &rows_json,
            &bad_json,
            accounts_total,
            now
        )
    )
}

/// The preparation's progress: `done` accounts hashed, and the server is alive.
pub async fn progress(
    db: &Db,
    id: &str,
    done: usize,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    on_backend!(db, progress(id, done, now))
}

/// The preparation ended: `Some(rows)` with every hash, or `None` if it failed.
pub async fn finish(
    db: &Db,
    id: &str,
    rows: Option<&[PreparedRow]>,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    let rows_json = rows.map(json).transpose()?;
    on_backend!(db, finish(id, rows_json.as_deref(), now))
}

/// The upload `id` if it is still kept; a preparation that has stopped reads as failed.
pub async fn load(
    db: &Db,
    id: &str,
    now: OffsetDateTime,
) -> Result<Option<StoredRoster>, sqlx::Error> {
    on_backend!(db, load(id, now))
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_backend!(db, delete(id))
}

/// What importing `rows` would do now (`full`: students not listed are deactivated).
pub async fn compare(
    db: &Db,
    rows: &[PreparedRow],
    full: bool,
) -> Result<RosterCounts, sqlx::Error> {
    on_backend!(db, compare(rows, full))
}

/// Imports `rows` in one transaction, audited as `who`.
pub async fn apply(
    db: &Db,
    rows: &[PreparedRow],
    full: bool,
    now: OffsetDateTime,
    who: &Who,
) -> Result<ApplyOutcome, sqlx::Error> {
    on_backend!(db, apply(rows, full, now, who))
}

fn json<T: Serialize + ?Sized>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// A student as stored: 基本信息 and whether they are in the cohort.
type Existing = HashMap<String, (BasicInfo, bool)>;

/// What to do with each row: the plan both the preview and the import follow.
struct Plan<'a> {
    create: Vec<&'a PreparedRow>,
    update: Vec<&'a PreparedRow>,
    accounts: Vec<(&'a str, Option<&'a str>)>,
    deactivate: Vec<String>,
    counts: RosterCounts,
}

fn plan<'a>(
    existing: &Existing,
    accounts: &HashSet<String>,
    rows: &'a [PreparedRow],
    full: bool,
) -> Plan<'a> {
    let mut plan = Plan {
        create: vec![],
        update: vec![],
        accounts: vec![],
        deactivate: vec![],
        counts: RosterCounts::default(),
    };
    let listed: HashSet<&str> = rows
        .iter()
        .map(|row| row.row.basic.student_number.as_str())
        .collect();
    for row in rows {
        let number = row.row.basic.student_number.as_str();
        match existing.get(number) {
            None => {
                plan.create.push(row);
                plan.counts.created += 1;
            }
            Some((basic, active)) => {
                if !active {
                    plan.counts.reactivated += 1;
                }
                if basic != &row.row.basic || !active {
                    plan.update.push(row);
                    plan.counts.updated += 1;
                } else {
                    plan.counts.unchanged += 1;
                }
            }
        }
        if !accounts.contains(number) {
            plan.accounts.push((number, row.password_hash.as_deref()));
            plan.counts.accounts_created += 1;
        }
    }
    let mut not_listed: Vec<String> = existing
        .iter()
        .filter(|(number, (_, active))| *active && !listed.contains(number.as_str()))
        .map(|(number, _)| number.clone())
        .collect();
    not_listed.sort();
    plan.counts.not_listed = not_listed.len();
    if full {
        plan.counts.deactivated = not_listed.len();
        plan.deactivate = not_listed;
    }
    plan
}

/// Rows per multi-row INSERT: 100 students of 9 values stay far below both backends'
/// limits on bound parameters.
const CHUNK: usize = 100;

for_each_backend! {
    pub(crate) async fn logins(pool: &Pool) -> Result<Logins, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as("SELECT login, role FROM accounts")
            .fetch_all(pool)
            .await?;
        let mut logins = Logins { students: HashSet::new(), staff: HashSet::new() };
        for (login, role) in rows {
            if role == crate::db::accounts::STUDENT_ROLE {
                logins.students.insert(login);
            } else {
                logins.staff.insert(login);
            }
        }
        Ok(logins)
    }

    pub(crate) async fn deactivated(pool: &Pool, student_number: &str) -> Result<bool, sqlx::Error> {
        let found: Option<bool> = sqlx::query_scalar(
            "SELECT deactivated_at IS NOT NULL FROM students WHERE student_number = $1",
        )
        .bind(student_number)
        .fetch_optional(pool)
        .await?;
        Ok(found.unwrap_or(false))
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn create(
        pool: &Pool,
        id: &str,
        uploaded_by: &str,
        file_name: &str,
        status: Status,
        rows_total: usize,
        rows_json: &str,
        bad_json: &str,
        accounts_total: usize,
        now: OffsetDateTime,
    ) -> Result<(), sqlx::Error> {
        // Uploads nobody imported go after a day; a clean-up here needs no timer.
        sqlx::query("DELETE FROM roster_imports WHERE uploaded_at < $1")
            .bind(Instant::new(now - KEEP_FOR))
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO roster_imports (id, uploaded_by, uploaded_at, file_name, status,
                 rows_total, accounts_total, accounts_done, heartbeat_at, rows_json, bad_rows_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $3, $8, $9)",
        )
        .bind(id)
        .bind(uploaded_by)
        .bind(Instant::new(now))
        .bind(file_name)
        .bind(status.code())
        .bind(i64::try_from(rows_total).unwrap_or(i64::MAX))
        .bind(i64::try_from(accounts_total).unwrap_or(i64::MAX))
        .bind(rows_json)
        .bind(bad_json)
        .execute(pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn progress(
        pool: &Pool,
        id: &str,
        done: usize,
        now: OffsetDateTime,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE roster_imports SET accounts_done = $1, heartbeat_at = $2
             WHERE id = $3 AND status = 'preparing'",
        )
        .bind(i64::try_from(done).unwrap_or(i64::MAX))
        .bind(Instant::new(now))
        .bind(id)
        .execute(pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn finish(
        pool: &Pool,
        id: &str,
        rows_json: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), sqlx::Error> {
        match rows_json {
            Some(rows_json) => {
                sqlx::query(
                    "UPDATE roster_imports
                     SET status = 'ready', accounts_done = accounts_total, heartbeat_at = $1,
                         rows_json = $2
                     WHERE id = $3",
                )
                .bind(Instant::new(now))
                .bind(rows_json)
                .bind(id)
                .execute(pool)
                .await?;
            }
            None => {
                sqlx::query("UPDATE roster_imports SET status = 'failed', heartbeat_at = $1 WHERE id = $2")
                    .bind(Instant::new(now))
                    .bind(id)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn load(
        pool: &Pool,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StoredRoster>, sqlx::Error> {
        type Row = (String, Instant, String, String, i64, i64, Instant, String, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT uploaded_by, uploaded_at, file_name, status, accounts_total, accounts_done,
                    heartbeat_at, rows_json, bad_rows_json
             FROM roster_imports WHERE id = $1 AND uploaded_at >= $2",
        )
        .bind(id)
        .bind(Instant::new(now - KEEP_FOR))
        .fetch_optional(pool)
        .await?;
        let Some((uploaded_by, uploaded_at, file_name, status, total, done, heartbeat, rows, bad)) = row else {
            return Ok(None);
        };
        let decode = |error: serde_json::Error| sqlx::Error::Decode(Box::new(error));
        let status = match status.as_str() {
            "preparing" if heartbeat.0 < now - STALE_AFTER => Status::Failed,
            "preparing" => Status::Preparing,
            "ready" => Status::Ready,
            "failed" => Status::Failed,
            other => return Err(crate::db::clearance::unknown_code("roster_imports.status", other)),
        };
        Ok(Some(StoredRoster {
            uploaded_by,
            uploaded_at: uploaded_at.beijing_display(),
            file_name,
            status,
            accounts_total: usize::try_from(total).unwrap_or(0),
            accounts_done: usize::try_from(done).unwrap_or(0),
            rows: serde_json::from_str(&rows).map_err(decode)?,
            bad: serde_json::from_str(&bad).map_err(decode)?,
        }))
    }

    pub(crate) async fn delete(pool: &Pool, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM roster_imports WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    }

    /// Every student as stored, and the logins of student accounts.
    async fn current(conn: &mut Conn) -> Result<(Existing, HashSet<String>), sqlx::Error> {
        type Row = (String, String, String, String, String, String, String, String, String, bool);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT student_number, name, gender, grade, college, major, enrolled_on,
                    departure_category, applied_on, deactivated_at IS NULL
             FROM students",
        )
        .fetch_all(&mut *conn)
        .await?;
        let mut existing = Existing::with_capacity(rows.len());
        for (number, name, gender, grade, college, major, enrolled_on, category, applied_on, active) in rows {
            let gender = Gender::from_code(&gender)
                .ok_or_else(|| crate::db::clearance::unknown_code("students.gender", &gender))?;
            existing.insert(
                number.clone(),
                (
                    BasicInfo {
                        name,
                        student_number: number,
                        gender,
                        grade,
                        college,
                        major,
                        enrolled_on,
                        departure_category: category,
                        applied_on,
                    },
                    active,
                ),
            );
        }
        let accounts: Vec<String> = sqlx::query_scalar(
            "SELECT login FROM accounts WHERE role = 'student'",
        )
        .fetch_all(&mut *conn)
        .await?;
        Ok((existing, accounts.into_iter().collect()))
    }

    pub(crate) async fn compare(
        pool: &Pool,
        rows: &[PreparedRow],
        full: bool,
    ) -> Result<RosterCounts, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        let (existing, accounts) = current(&mut tx).await?;
        tx.commit().await?;
        Ok(plan(&existing, &accounts, rows, full).counts)
    }

    pub(crate) async fn apply(
        pool: &Pool,
        rows: &[PreparedRow],
        full: bool,
        now: OffsetDateTime,
        who: &Who,
    ) -> Result<ApplyOutcome, sqlx::Error> {
        let mut tx = dialect::begin_write(pool).await?;
        let (existing, accounts) = current(&mut tx).await?;
        let plan = plan(&existing, &accounts, rows, full);
        if plan.accounts.iter().any(|(_, hash)| hash.is_none()) {
            return Ok(ApplyOutcome::Stale);
        }
        for chunk in plan.create.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = |k: usize| format!("${}", i * 9 + k);
                    format!("({}, {}, {}, {}, {}, {}, {}, {}, {})", p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9))
                })
                .collect();
            let sql = format!(
                "INSERT INTO students (student_number, name, gender, grade, college, major,
                     enrolled_on, departure_category, applied_on)
                 VALUES {}",
                values.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for row in chunk {
                let basic = &row.row.basic;
                insert = insert
                    .bind(&basic.student_number)
                    .bind(&basic.name)
                    .bind(basic.gender.code())
                    .bind(&basic.grade)
                    .bind(&basic.college)
                    .bind(&basic.major)
                    .bind(&basic.enrolled_on)
                    .bind(&basic.departure_category)
                    .bind(&basic.applied_on);
            }
            insert.execute(&mut *tx).await?;
        }
        for row in &plan.update {
            let basic = &row.row.basic;
            dialect::lock_student(&mut tx, &basic.student_number).await?;
            sqlx::query(
                "UPDATE students SET name = $1, gender = $2, grade = $3, college = $4, major = $5,
                     enrolled_on = $6, departure_category = $7, applied_on = $8,
                     deactivated_at = NULL
                 WHERE student_number = $9",
            )
            .bind(&basic.name)
            .bind(basic.gender.code())
            .bind(&basic.grade)
            .bind(&basic.college)
            .bind(&basic.major)
            .bind(&basic.enrolled_on)
            .bind(&basic.departure_category)
            .bind(&basic.applied_on)
            .bind(&basic.student_number)
            .execute(&mut *tx)
            .await?;
        }
        // New accounts only: an existing one keeps its password, whatever the file says.
        let new_accounts: Vec<(&str, &str)> = plan
            .accounts
            .iter()
            .filter_map(|(number, hash)| Some((*number, (*hash)?)))
            .collect();
        for chunk in new_accounts.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, 'student', ${}, ${}, TRUE)", i * 3 + 1, i * 3 + 2, i * 3 + 3))
                .collect();
            let sql = format!(
                "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password)
                 VALUES {} ON CONFLICT (login) DO NOTHING",
                values.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for (number, hash) in chunk {
                insert = insert.bind(*number).bind(*number).bind(*hash);
            }
            insert.execute(&mut *tx).await?;
        }
        for chunk in plan.deactivate.chunks(500) {
            let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "UPDATE students SET deactivated_at = $1
                 WHERE deactivated_at IS NULL AND student_number IN ({})",
                placeholders.join(", ")
            );
            let mut update = sqlx::query(&sql).bind(Instant::new(now));
            for number in chunk {
                update = update.bind(number);
            }
            update.execute(&mut *tx).await?;
        }
        audit::record_in(&mut tx, now, crate::db::audit::Event::RosterImported, who).await?;
        tx.commit().await?;
        Ok(ApplyOutcome::Applied(plan.counts))
    }
}
