//! Crash safety: a submission the server acknowledged survives `kill -9` of the server
//! right after it. The real server binary runs on a real database (a SQLite file, or
//! PostgreSQL when the suite runs on it); a storm of
//! submissions is cut short by SIGKILL; after a restart every acknowledged submission is
//! there, and nothing is half-written.

#[macro_use]
mod support;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use support::{
    free_port, fresh_database_url, http, prepare_students, sign_in_over_http, start, wait_until_up,
};

const STUDENTS: usize = 60;
const PASSWORD: &str = "crash-test-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_submissions_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    prepare_students(&url, STUDENTS, PASSWORD).await;
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    let mut server = start(dir.path(), &url, port, &[]);
    wait_until_up(addr).await;

    // Every student signs in first (not part of the storm).
    let mut cookies = Vec::new();
    for index in 0..STUDENTS {
        let number = format!("2021{index:06}");
        let cookie = sign_in_over_http(addr, &number, PASSWORD).await;
        cookies.push((number, cookie));
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
    let mut server = start(dir.path(), &url, port, &[]);
    wait_until_up(addr).await;
    server.kill().expect("stop");
    server.wait().expect("reaped");

    let db = app::db::open(&url).await.expect("reopens");
    let stored = support::assert_every_acknowledged_submission_is_stored(&db, &acknowledged).await;
    println!(
        "crash test: {} submissions sent, {} acknowledged before kill -9, {} stored after restart",
        STUDENTS,
        acknowledged.len(),
        stored
    );
    assert!(
        !acknowledged.is_empty() && acknowledged.len() < STUDENTS,
        "the kill landed mid-storm: {}",
        acknowledged.len()
    );
}
