//! What only SQLite does: opening a file database, and taking the write lock.

use std::{str::FromStr, time::Duration};

use sqlx::{
    Sqlite, SqlitePool, Transaction,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::OpenError;
use crate::config::PoolSettings;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The connection settings every SQLite connection of Lixiao uses.
pub fn options(url: &str) -> Result<SqliteConnectOptions, OpenError> {
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|source| OpenError::BadUrl {
            url: url.to_owned(),
            reason: source.to_string(),
        })?
        .create_if_missing(true)
        // WAL lets readers continue while one writer commits: departure-day pages stay fast.
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a commit is on disk before it is acknowledged, so a student told
        // "submitted" keeps the departure through a power cut, not only a crash of the
        // process (NORMAL, in WAL mode, may lose the last commits on power loss). Writes
        // are rare here; the cost on a submit storm is in docs/deploy.md.
        .synchronous(SqliteSynchronous::Full)
        // Writers queue for the lock instead of failing with "database is locked".
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true))
}

pub async fn open(url: &str, settings: PoolSettings) -> Result<SqlitePool, OpenError> {
    let options = options(url)?;
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
    let pool = SqlitePoolOptions::new()
        .max_connections(settings.pool_connections())
        .acquire_timeout(settings.acquire_timeout)
        // A file in this process cannot go away like a server can: pinging it before each
        // use is one more hop to the connection's thread and back, for nothing.
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|source| OpenError::Connect {
            url: url.to_owned(),
            source,
        })?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Starts a transaction that changes `student`'s clearance (a submission, 注销, an
/// office's update). SQLite has one writer: `BEGIN IMMEDIATE` takes the write lock
/// first, so nothing read inside can change before the commit.
pub async fn begin_for_student(
    pool: &SqlitePool,
    _student: &str,
) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Starts a transaction whose reads all see one state (the clearance page: facts and
/// submission together). In WAL mode a transaction's first read fixes its snapshot.
pub async fn begin_read(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin().await
}

/// Starts a transaction that writes (the demo seed, a batch): the write lock first.
pub async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// Locks one student inside a write transaction (a batch): SQLite's write transaction
/// already excludes every other writer.
pub async fn lock_student(
    _conn: &mut sqlx::SqliteConnection,
    _student: &str,
) -> Result<(), sqlx::Error> {
    Ok(())
}

/// A JSON array (as text) of one JSON array of `columns` for each row `from` yields,
/// in no particular order; `[]` for none. The reader sorts: an `ORDER BY` inside the
/// aggregate sets up a sorter on every call, which made the clearance page's statement
/// twice as costly (87 against 47 µs of CPU, measured with 64 pages at once).
pub fn json_rows(columns: &str, from: &str) -> String {
    format!("(SELECT coalesce(json_group_array(json_array({columns})), '[]') FROM {from})")
}

/// Whether `error` breaks the unique index `name`. SQLite's message names the columns,
/// not the index ("UNIQUE constraint failed: departures.student_number"), so the indexes
/// Lixiao tells apart are listed here with their columns.
pub fn violates(error: &dyn sqlx::error::DatabaseError, name: &str) -> bool {
    let columns = match name {
        "departures_one_active_per_student" => "departures.student_number",
        "departures_slip_number_unique" => "departures.slip_number",
        _ => return false,
    };
    error.is_unique_violation() && error.message() == format!("UNIQUE constraint failed: {columns}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{self, Db};

    fn pool(db: &Db) -> &SqlitePool {
        match db {
            Db::Sqlite(pool) => pool,
            Db::Postgres(_) => unreachable!("a sqlite:// URL opens SQLite"),
        }
    }

    #[tokio::test]
    async fn open_creates_the_directory_and_migrates_with_durable_commits() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/deeper/lixiao.db");
        let db = db::open(&format!("sqlite://{}", path.display()))
            .await
            .expect("opens");
        assert!(path.exists());
        assert!(db::ping(&db).await);
        let pool = pool(&db);
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .expect("pragma");
        assert_eq!(mode, "wal");
        let number = |name: &'static str| async move {
            sqlx::query_scalar::<_, i64>(name)
                .fetch_one(pool)
                .await
                .expect("pragma")
        };
        assert_eq!(number("PRAGMA foreign_keys").await, 1);
        // 2 = FULL: an acknowledged commit survives power loss.
        assert_eq!(number("PRAGMA synchronous").await, 2);
        let tables: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'students'",
        )
        .fetch_one(pool)
        .await
        .expect("count");
        assert_eq!(tables, 1);
    }

    #[tokio::test]
    async fn a_migration_that_no_longer_matches_stops_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("lixiao.db").display());
        let db = db::open(&url).await.expect("opens");
        // As if the schema file had been edited after this database was migrated.
        sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
            .execute(pool(&db))
            .await
            .expect("tamper");
        db.close().await;
        let error = db::open(&url)
            .await
            .expect_err("must not start on a mismatched schema");
        assert!(matches!(error, OpenError::Migrate(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("migration failed, the server will not start")
        );
    }

    #[tokio::test]
    async fn a_database_that_cannot_be_created_is_reported() {
        let error = db::open("sqlite:///proc/definitely/not/here.db")
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

    /// A database of an older release, made by its migrations only, then filled by `sql`.
    async fn old_database(dir: &std::path::Path, up_to: i64, sql: &str) -> String {
        let url = format!("sqlite://{}", dir.join("lixiao.db").display());
        let mut old = sqlx::migrate!("./migrations/sqlite");
        old.migrations = old
            .migrations
            .iter()
            .filter(|migration| migration.version <= up_to)
            .cloned()
            .collect::<Vec<_>>()
            .into();
        let pool = SqlitePool::connect_with(options(&url).expect("url"))
            .await
            .expect("old database");
        old.run(&pool).await.expect("old schema");
        sqlx::raw_sql(sql).execute(&pool).await.expect("old data");
        pool.close().await;
        url
    }

    /// Departures from before serials (migration 10) each get a distinct serial from the
    /// migration and their tag from the start-up pass; their slips still render and verify.
    #[tokio::test]
    async fn slips_from_before_serials_get_a_serial_and_verify() {
        let dir = tempfile::tempdir().expect("temp dir");
        let snapshot = include_str!("../../tests/fixtures/snapshot-before-utc.json");
        let mut sql = String::new();
        for (i, number) in ["2020100004", "2020100005", "2020100006"]
            .iter()
            .enumerate()
        {
            sql.push_str(&format!(
                "INSERT INTO students (student_number, name, gender, grade, college, major, enrolled_on, departure_category, applied_on)
                 VALUES ('{number}', '刘洋', 'female', '2017级', '计算机科学与技术学院', '计算机技术', '2017-09-01', '毕业离校', '2020-06-08');
                 INSERT INTO departures (student_number, slip_number, submitted_at, snapshot{revoked_columns})
                 VALUES ('{number}', 'LX20200609{number}', '2020-06-09T02:21:37Z', '{json}'{revoked_values});",
                json = snapshot.replace('\'', "''"),
                revoked_columns = if i == 2 { ", revoked_at, revoked_by, revoke_reason" } else { "" },
                revoked_values = if i == 2 { ", '2020-06-10T01:00:00Z', 'gs', '重复'" } else { "" },
            ));
        }
        let url = old_database(dir.path(), 10, &sql).await;
        let db = db::open(&url).await.expect("migrates forward");
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT student_number, serial, tag FROM departures ORDER BY id")
                .fetch_all(pool(&db))
                .await
                .expect("rows");
        assert_eq!(rows.len(), 3, "no departure lost");
        let mut serials: Vec<&str> = rows.iter().map(|(_, serial, _)| serial.as_str()).collect();
        for (_, serial, tag) in &rows {
            assert_eq!(
                crate::verify::normalize_serial(serial).as_deref(),
                Some(serial.as_str())
            );
            assert!(tag.is_none(), "SQL cannot tag");
        }
        serials.sort_unstable();
        serials.dedup();
        assert_eq!(serials.len(), 3, "distinct serials");

        let keys = crate::verify::SlipKeys::demo();
        assert_eq!(db::slips::tag_untagged(&db, &keys).await.expect("tags"), 3);
        for (number, serial, _) in &rows {
            let record = db::slips::find(&db, serial)
                .await
                .expect("reads")
                .expect("found");
            let tag = record.tag.clone().expect("tagged");
            let link = crate::verify::LinkCode::parse(&format!("{serial}.{tag}")).expect("link");
            assert!(keys.check(&link, number));
            assert_eq!(record.revoked_at.is_some(), number == "2020100006");
            // The slip itself still reads from its old snapshot.
            let slip =
                db::clearance::find_departure(&db, number, Some(&format!("LX20200609{number}")))
                    .await
                    .expect("reads")
                    .expect("the slip");
            assert_eq!(&slip.serial, serial);
            assert_eq!(slip.departure.facts.basic.name, "刘洋");
        }
    }

    /// A database made by the first release (migrations 1-3) with its data in the old
    /// formats moves forward without losing a row: times become UTC, the audit trail
    /// splits actor from typed login and drops what does not look like a login, and a
    /// snapshot frozen in the old format still reads (as Beijing time).
    #[tokio::test]
    async fn a_first_release_database_migrates_forward_without_losing_a_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let snapshot = include_str!("../../tests/fixtures/snapshot-before-utc.json");
        let url = old_database(
            dir.path(),
            3,
            &format!(
                "INSERT INTO students VALUES ('2020100004', '刘洋', '女', '2017级', '计算机科学与技术学院', '计算机技术', '2017-09-01', '毕业离校', '2020-06-08');
                 INSERT INTO accounts (login, role, student_number, password_hash) VALUES ('2020100004', 'student', '2020100004', 'x');
                 INSERT INTO library_records VALUES ('2020100004', 0, 0, 0, '2020-06-02 15:40:00', '审核通过');
                 INSERT INTO login_throttle (student_number, failed_logins) VALUES ('2020100004', 2);
                 INSERT INTO audit_log (at, event, account, client_addr) VALUES
                    ('2020-06-09T02:00:00.000Z', 'login_failed', 'my password', '10.0.0.1'),
                    ('2020-06-09T02:00:01.000Z', 'login_failed', '2020100004', '10.0.0.1'),
                    ('2020-06-09T02:00:02.000Z', 'login_succeeded', '2020100004', '10.0.0.1'),
                    ('2020-06-09T02:21:37.000Z', 'departure_submitted', '2020100004', '10.0.0.1');
                 INSERT INTO departures (student_number, slip_number, submitted_at, snapshot)
                 VALUES ('2020100004', 'LX202006092020100004', '2020-06-09 10:21:37', '{}');",
                snapshot.replace('\'', "''")
            ),
        )
        .await;

        let db = db::open(&url).await.expect("migrates forward");
        let pool = pool(&db);
        let times: (String, String) = sqlx::query_as(
            "SELECT departures.submitted_at, library_records.card_cancelled_at
             FROM departures JOIN library_records USING (student_number)",
        )
        .fetch_one(pool)
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
                .fetch_all(pool)
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
            .fetch_one(pool)
            .await
            .expect("snapshot");
        assert!(stored.contains("\"submitted_at\":\"2020-06-09 10:21:37\""));
        let departure = db::clearance::find_departure(&db, "2020100004", None)
            .await
            .expect("reads")
            .expect("exists")
            .departure;
        assert_eq!(departure.submitted_at, "2020-06-09 10:21:37");
        assert_eq!(departure.facts.basic.name, "刘洋");
        let (facts, submitted) = db::clearance::load(&db, "2020100004")
            .await
            .expect("loads")
            .expect("student");
        assert_eq!(
            submitted.submitted.expect("submitted").submitted_at,
            "2020-06-09 10:21:37",
            "the converted UTC time shows as the same Beijing time"
        );
        assert_eq!(facts.basic.gender.label(), "女");
    }

    /// The release before codes (migrations 1-4) with the demo data exactly as it seeded
    /// it: every row survives, labels become codes, and every page reads as before.
    #[tokio::test]
    async fn a_demo_database_of_the_release_before_codes_migrates_without_losing_a_row() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = old_database(
            dir.path(),
            4,
            include_str!("../../tests/fixtures/demo-before-codes.sql"),
        )
        .await;
        let counts = |pool: SqlitePool| async move {
            let mut counts = Vec::new();
            for table in [
                "students",
                "accounts",
                "library_records",
                "archives_records",
                "housing_records",
                "finance_arrears",
                "departures",
                "audit_log",
            ] {
                let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                counts.push((table, count));
            }
            counts
        };
        let before = counts(
            SqlitePool::connect_with(options(&url).expect("url"))
                .await
                .expect("old"),
        )
        .await;
        let db = db::open(&url).await.expect("migrates forward");
        let pool = pool(&db).clone();
        assert_eq!(counts(pool.clone()).await, before, "no row lost");
        let codes: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT students.student_number, gender, library_records.thesis_status,
                    archives_records.thesis_status
             FROM students
             LEFT JOIN library_records USING (student_number)
             LEFT JOIN archives_records USING (student_number)
             ORDER BY students.student_number",
        )
        .fetch_all(&pool)
        .await
        .expect("codes");
        let row = |number: &str, gender: &str, library: &str, archives: Option<&str>| {
            (
                number.to_owned(),
                gender.to_owned(),
                Some(library.to_owned()),
                archives.map(str::to_owned),
            )
        };
        assert_eq!(
            codes,
            vec![
                row("2020100001", "male", "approved", Some("reviewed")),
                row("2020100002", "female", "approved", Some("reviewed")),
                row("2020100003", "male", "submitted", None),
                row("2020100004", "female", "approved", Some("reviewed")),
            ]
        );
        let foreign_key_errors: Vec<(String,)> = sqlx::query_as("PRAGMA foreign_key_check")
            .fetch_all(&pool)
            .await
            .expect("check");
        assert!(foreign_key_errors.is_empty(), "{foreign_key_errors:?}");
        // The pages read as before: 张伟's library facts, 刘洋's slip of the old format.
        let (facts, _) = db::clearance::load(&db, "2020100003")
            .await
            .expect("loads")
            .expect("student");
        let library = facts.library.expect("library record");
        assert_eq!(library.thesis.label(), "已提交");
        assert_eq!(facts.basic.gender.label(), "男");
        let slip = db::clearance::find_departure(&db, "2020100004", None)
            .await
            .expect("reads")
            .expect("exists")
            .departure;
        assert_eq!(slip.submitted_at, "2020-06-09 10:21:37");
        assert_eq!(slip.facts.basic.gender.label(), "女");
    }

    /// Standings arrive (migration 6) without changing a verdict a student saw: a
    /// library or archives row is that office's report, a missing housing row (which
    /// meant "never lived on campus") becomes 不涉及, finance reported on everyone; a
    /// missing library row stays a closed gate, now shown as 待核验.
    #[tokio::test]
    async fn standings_arrive_without_changing_any_verdict() {
        let dir = tempfile::tempdir().expect("temp dir");
        let student = |number: &str, name: &str| {
            format!(
                "INSERT INTO students VALUES ('{number}', '{name}', 'male', '2017级', '学院', '专业', '2017-09-01', '毕业离校', '2020-06-08');"
            )
        };
        let url = old_database(
            dir.path(),
            5,
            &[
                student("2020100001", "王小明"),
                student("2020100002", "李娜"),
                student("2020100003", "张伟"),
                student("2021000001", "赵六"),
                "INSERT INTO library_records VALUES ('2020100001', 0, 0, 0, '2020-06-03T01:12:00Z', 'approved');
                 INSERT INTO archives_records VALUES ('2020100001', 'reviewed');
                 INSERT INTO housing_records VALUES ('2020100001', '南湖校区', '梅苑1号楼', 'A3061', '2020-06-05', '丁二君');
                 INSERT INTO library_records VALUES ('2020100002', 0, 0, 0, NULL, 'approved');
                 INSERT INTO archives_records VALUES ('2020100002', 'reviewed');
                 INSERT INTO housing_records VALUES ('2020100002', '南湖校区', '梅苑1号楼', 'A3071', NULL, NULL);
                 INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen)
                 VALUES ('2020100002', '2019', '学分学费', 55000);
                 INSERT INTO library_records VALUES ('2020100003', 2, 350, 1, NULL, 'submitted');
                 INSERT INTO archives_records VALUES ('2020100003', NULL);"
                    .to_owned(),
            ]
            .concat(),
        )
        .await;
        let db = db::open(&url).await.expect("migrates forward");
        // (student, what each office showed before: pass?) in page order.
        let before = [
            ("2020100001", [true, true, true, true]),
            ("2020100002", [false, true, false, false]),
            ("2020100003", [false, false, true, true]),
            ("2021000001", [false, false, true, true]),
        ];
        for (number, passed) in before {
            let (facts, _) = db::clearance::load(&db, number)
                .await
                .expect("loads")
                .expect("student");
            let verdicts = crate::clearance::rules::verdicts(&facts);
            let now: Vec<bool> = verdicts.iter().map(|verdict| verdict.passed()).collect();
            assert_eq!(now, passed, "{number}: {verdicts:?}");
        }
        let (zhang, _) = db::clearance::load(&db, "2020100003")
            .await
            .expect("loads")
            .expect("student");
        assert_eq!(
            zhang.states.housing.standing,
            crate::clearance::model::Standing::NotApplicable
        );
        assert_eq!(
            zhang.states.archives.standing,
            crate::clearance::model::Standing::Reported
        );
        let (zhao, _) = db::clearance::load(&db, "2021000001")
            .await
            .expect("loads")
            .expect("student");
        let verdicts = crate::clearance::rules::verdicts(&zhao);
        assert!(
            verdicts[0].pending() && verdicts[1].pending(),
            "no library or archives row: 待核验"
        );
    }
}
