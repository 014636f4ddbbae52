//! Crash safety: a submission the server acknowledged survives `kill -9` of the server
//! right after it. The real server binary runs on a real SQLite file; a storm of
//! submissions is cut short by SIGKILL; after a restart every acknowledged submission is
//! there, and nothing is half-written.

use std::{
    net::{SocketAddr, TcpListener},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use app::clearance::{rules, submission::Departure};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const STUDENTS: usize = 60;
const PASSWORD: &str = "crash-test-password";

/// Creates the database with `STUDENTS` students who all pass every office.
async fn prepare(url: &str) {
    let db = app::db::open(url).await.expect("database");
    let hash = app::auth::password::hash(PASSWORD.to_owned())
        .await
        .expect("hash");
    for index in 0..STUDENTS {
        let number = format!("2021{index:06}");
        for statement in [
            "INSERT INTO students VALUES (?, '测试', '男', '2018级', '测试学院', '测试专业', '2018-09-01', '毕业离校', '2021-06-01')",
            "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password) VALUES (?, 'student', ?, ?, 0)",
            "INSERT INTO library_records VALUES (?, 0, 0, 0, '2021-06-01 09:00:00', '审核通过')",
            "INSERT INTO archives_records VALUES (?, '已审核')",
        ] {
            let query = sqlx::query(statement).bind(&number);
            let query = if statement.contains("password_hash") {
                query.bind(&number).bind(&hash)
            } else {
                query
            };
            query.execute(&db).await.expect("insert");
        }
    }
    db.close().await;
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("port")
}

fn start(dir: &Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("lixiao.db").display()),
        )
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", dir.display().to_string())
        .env("LEPTOS_OUTPUT_NAME", "lixiao")
        .env("LIXIAO_PLAIN_HTTP", "1")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts")
}

/// One HTTP/1.1 request over a fresh connection; returns the status and the raw head+body.
async fn http(
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

async fn wait_until_up(addr: SocketAddr) {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("lixiao.db").display());
    prepare(&url).await;
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let mut server = start(dir.path(), port);
    wait_until_up(addr).await;

    // Every student signs in first (not part of the storm).
    let mut cookies = Vec::new();
    for index in 0..STUDENTS {
        let body = format!("student_number=2021{index:06}&password={PASSWORD}");
        let (status, text) = http(addr, "/api/login", &body, None)
            .await
            .expect("login answers");
        assert_eq!(status, 200, "{text}");
        let cookie = text
            .lines()
            .find_map(|line| line.strip_prefix("set-cookie: "))
            .and_then(|value| value.split(';').next())
            .expect("session cookie")
            .to_owned();
        cookies.push((format!("2021{index:06}"), cookie));
    }

    // The storm: every student submits at once; the server is killed part-way through.
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let answered = Arc::new(AtomicUsize::new(0));
    let storm: Vec<_> = cookies
        .iter()
        .cloned()
        .map(|(number, cookie)| {
            let acknowledged = acknowledged.clone();
            let answered = answered.clone();
            tokio::spawn(async move {
                if let Some((200, _)) = http(addr, "/api/submit_departure", "", Some(&cookie)).await
                {
                    acknowledged.lock().expect("lock").push(number);
                }
                answered.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().expect("lock").len() < STUDENTS / 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix: no shutdown, no flush
    server.wait().expect("reaped");
    for attempt in storm {
        attempt.await.expect("task");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    // Restart on the same file and look at what survived.
    let mut server = start(dir.path(), port);
    wait_until_up(addr).await;
    server.kill().expect("stop");
    server.wait().expect("reaped");

    let db = app::db::open(&url).await.expect("reopens");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&db)
        .await
        .expect("check");
    assert_eq!(integrity, "ok");
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT student_number, snapshot FROM departures")
            .fetch_all(&db)
            .await
            .expect("rows");
    for number in &acknowledged {
        assert!(
            rows.iter().any(|(stored, _)| stored == number),
            "acknowledged {number} was lost"
        );
    }
    for (number, snapshot) in &rows {
        let departure: Departure = serde_json::from_str(snapshot)
            .unwrap_or_else(|error| panic!("{number}: half-written snapshot: {error}"));
        assert_eq!(&departure.facts.basic.student_number, number);
        assert!(rules::gate(&departure.verdicts).is_ok());
    }
    println!(
        "crash test: {} submissions sent, {} acknowledged before kill -9, {} stored after restart",
        STUDENTS,
        acknowledged.len(),
        rows.len()
    );
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < STUDENTS,
        "the kill landed mid-storm: {}",
        acknowledged.len()
    );
}
