//! Test support shared by the test crates: the database a test runs on (SQLite, or
//! PostgreSQL when `LIXIAO_TEST_BACKEND=postgres`), and the real server binary for the
//! tests that need a process (crash safety, memory under a sign-in storm, two servers
//! on one database). Plain HTTP/1.1 over TCP, so nothing else is needed.
#![allow(dead_code, unused_macros)]

use std::{
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("port")
}

/// Starts the server on the database at `url` (site files in `dir`), with `env` added
/// to a clean environment.
pub fn start(dir: &Path, url: &str, port: u16, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir.display().to_string())
        .env("LEPTOS_OUTPUT_NAME", "lixiao")
        .env("LIXIAO_PLAIN_HTTP", "1")
        .env("RUST_LOG", "error")
        // What serving needs (the tests' own key, never the demo's).
        .env(
            "LIXIAO_SLIP_KEY",
            "t1:lixiao-test-slip-key-0123456789abcdef",
        )
        .env("LIXIAO_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts")
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the raw head+body.
pub async fn http(
    addr: SocketAddr,
    path: &str,
    body: &str,
    cookie: Option<&str>,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(addr).await.ok()?;
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Accept: application/json\r\n{cookie}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

pub async fn wait_until_up(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(addr).await {
            let request =
                format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            let mut response = String::new();
            if stream.write_all(request.as_bytes()).await.is_ok()
                && stream.read_to_string(&mut response).await.is_ok()
                && response.starts_with("HTTP/1.1 200")
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not come up on {addr}");
}

/// Which database the tests run on: `LIXIAO_TEST_BACKEND=postgres` (scripts/test runs
/// the whole suite once per backend) or SQLite (the default).
pub fn on_postgres() -> bool {
    std::env::var("LIXIAO_TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// The PostgreSQL server the tests may use (`LIXIAO_TEST_POSTGRES`, an administrator's
/// URL; scripts/test starts a private cluster and sets it).
pub fn postgres_admin_url() -> String {
    std::env::var("LIXIAO_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "LIXIAO_TEST_BACKEND=postgres needs LIXIAO_TEST_POSTGRES=postgres://…/postgres \
             (scripts/test starts a cluster and sets both)"
        )
    })
}

/// A new, empty PostgreSQL database on the test server; returns its URL.
pub async fn fresh_postgres_database() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let admin = postgres_admin_url();
    let name = format!(
        "lixiao_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or(0)
    );
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .expect("the test PostgreSQL server answers");
    // A name made here from digits and underscores: nothing to escape.
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("URL with a database");
    format!("{base}/{name}")
}

/// Ends every connection the servers hold to the PostgreSQL `database`, as a restart or
/// a proxy's idle timeout would; returns how many there were.
pub async fn drop_server_connections(database: &str) -> i64 {
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url())
        .await
        .expect("admin connection");
    sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'lixiao') AS t",
    )
    .bind(database)
    .fetch_one(&mut admin)
    .await
    .expect("terminate")
}

/// The database URL for one test: a fresh SQLite file in `dir`, or a fresh PostgreSQL
/// database when the suite runs on PostgreSQL.
pub async fn fresh_database_url(dir: &Path) -> String {
    if on_postgres() {
        fresh_postgres_database().await
    } else {
        format!("sqlite://{}", dir.join("lixiao.db").display())
    }
}

/// `with_pool!(db, pool => expression)`: runs the same SQL on whichever pool `db` holds
/// (tests write their own statements with `$1` placeholders, which both backends read).
#[macro_export]
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            app::db::Db::Sqlite($pool) => $body,
            app::db::Db::Postgres($pool) => $body,
        }
    };
}

/// Runs `sql` (one or more statements, no parameters) on `db`.
pub async fn exec(db: &app::db::Db, sql: &str) {
    with_pool!(db, pool => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()))
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The single whole number `sql` selects (a COUNT, say).
pub async fn count(db: &app::db::Db, sql: &str) -> i64 {
    with_pool!(db, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Fills the database at `url` with `students` students who all pass every office,
/// numbered 2021000000 upwards, all with `password` (already changed from the initial one).
pub async fn prepare_students(url: &str, students: usize, password: &str) {
    let db = app::db::open(url).await.expect("database");
    let hash = app::auth::password::hash(password.to_owned())
        .await
        .expect("hash");
    for index in 0..students {
        let number = format!("2021{index:06}");
        for statement in [
            "INSERT INTO students (student_number, name, gender, grade, college, major, enrolled_on, departure_category, applied_on) VALUES ($1, '测试', 'male', '2018级', '测试学院', '测试专业', '2018-09-01', '毕业离校', '2021-06-01')",
            "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password) VALUES ($1, 'student', $1, $2, FALSE)",
            "INSERT INTO library_records VALUES ($1, 0, 0, 0, '2021-06-01T01:00:00Z', 'approved')",
            "INSERT INTO archives_records VALUES ($1, 'reviewed')",
            // Every office has reported: all clear, and housing states 不涉及.
            "INSERT INTO office_states (student_number, office, standing, reported_at)
             VALUES ($1, 'library', 'reported', '2021-06-01T01:00:00Z'),
                    ($1, 'archives', 'reported', '2021-06-01T01:00:00Z'),
                    ($1, 'housing', 'not_applicable', '2021-06-01T01:00:00Z'),
                    ($1, 'finance', 'reported', '2021-06-01T01:00:00Z')",
        ] {
            with_pool!(&db, pool => {
                let query = sqlx::query(statement).bind(&number);
                let query = if statement.contains("password_hash") {
                    query.bind(&hash)
                } else {
                    query
                };
                query.execute(pool).await.expect("insert");
            });
        }
    }
    db.close().await;
}

/// Signs `number` in over HTTP; returns the session cookie (`name=value`).
pub async fn sign_in_over_http(addr: SocketAddr, number: &str, password: &str) -> String {
    let body = format!("student_number={number}&password={password}");
    let (status, text) = http(addr, "/api/login", &body, None)
        .await
        .expect("login answers");
    assert_eq!(status, 200, "{text}");
    text.lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|value| value.split(';').next())
        .expect("session cookie")
        .to_owned()
}

/// After a storm: the database is whole (SQLite's integrity check), every number in
/// `acknowledged` has its departure, and every stored departure's snapshot reads and
/// belongs to its student, with a passing gate. Returns how many departures are stored.
pub async fn assert_every_acknowledged_submission_is_stored(
    db: &app::db::Db,
    acknowledged: &[String],
) -> usize {
    if let app::db::Db::Sqlite(pool) = db {
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(pool)
            .await
            .expect("check");
        assert_eq!(integrity, "ok");
    }
    let rows: Vec<(String, String)> = with_pool!(db, pool =>
        sqlx::query_as("SELECT student_number, snapshot FROM departures")
            .fetch_all(pool)
            .await
            .expect("rows"));
    for number in acknowledged {
        assert!(
            rows.iter().any(|(stored, _)| stored == number),
            "{number} was acknowledged but is not stored"
        );
    }
    for (number, snapshot) in &rows {
        let departure = app::db::snapshot::thaw(snapshot)
            .unwrap_or_else(|error| panic!("{number}: half-written snapshot: {error}"));
        assert_eq!(&departure.facts.basic.student_number, number);
        assert!(app::clearance::rules::gate(&departure.verdicts).is_ok());
    }
    rows.len()
}
