//! Two server processes on one PostgreSQL database, as behind a load balancer: a session
//! opened on one works on the other; a storm of submissions spread over both makes
//! exactly one departure; `kill -9` of one mid-storm loses no acknowledged submission.
//! Needs PostgreSQL: runs in the PostgreSQL pass of scripts/test.

#[macro_use]
mod support;

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use support::{
    free_port, fresh_postgres_database, http, on_postgres, prepare_students, sign_in_over_http,
    start, wait_until_up,
};

const PASSWORD: &str = "two-servers-password";
const STUDENTS: usize = 61;

struct Servers {
    addrs: [SocketAddr; 2],
    processes: Vec<std::process::Child>,
    url: String,
    _dir: tempfile::TempDir,
}

async fn two_servers() -> Servers {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_postgres_database().await;
    prepare_students(&url, STUDENTS, PASSWORD).await;
    let mut addrs = Vec::new();
    let mut processes = Vec::new();
    for _ in 0..2 {
        let port = free_port();
        processes.push(start(dir.path(), &url, port, &[]));
        addrs.push(format!("127.0.0.1:{port}").parse().expect("address"));
    }
    let addrs: [SocketAddr; 2] = addrs.try_into().expect("two");
    for addr in addrs {
        wait_until_up(addr).await;
    }
    Servers {
        addrs,
        processes,
        url,
        _dir: dir,
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for process in &mut self.processes {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_share_sessions_and_make_exactly_one_departure() {
    if !on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let servers = two_servers().await;
    let [a, b] = servers.addrs;

    // Signed in on A, the student is known on B.
    let cookie = sign_in_over_http(a, "2021000000", PASSWORD).await;
    let (status, text) = http(b, "/api/clearance", "", Some(&cookie))
        .await
        .expect("B answers");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("2021000000"), "{text}");

    // 100 submissions at once, alternating between the servers: exactly one departure.
    let storm: Vec<_> = (0..100)
        .map(|index| {
            let cookie = cookie.clone();
            let addr = servers.addrs[index % 2];
            tokio::spawn(async move {
                http(addr, "/api/submit_departure", "", Some(&cookie))
                    .await
                    .map(|(status, text)| (status, text.contains("已提交")))
            })
        })
        .collect();
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for attempt in storm {
        let outcome = match attempt.await.expect("task") {
            Some((200, _)) => "submitted".to_owned(),
            Some((409, true)) => "already submitted".to_owned(),
            other => format!("{other:?}"),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    println!("two servers, 100 submits: {outcomes:?}");
    assert_eq!(
        outcomes,
        BTreeMap::from([
            ("already submitted".to_owned(), 99),
            ("submitted".to_owned(), 1)
        ])
    );
    let db = app::db::open(&servers.url).await.expect("database");
    let stored = support::count(
        &db,
        "SELECT COUNT(*) FROM departures WHERE student_number = '2021000000'",
    )
    .await;
    assert_eq!(stored, 1);
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_server_mid_storm_loses_no_acknowledged_submission() {
    if !on_postgres() {
        println!("skipped here: runs in the PostgreSQL pass (LIXIAO_TEST_BACKEND=postgres)");
        return;
    }
    let mut servers = two_servers().await;
    let students: Vec<String> = (1..STUDENTS)
        .map(|index| format!("2021{index:06}"))
        .collect();
    let mut cookies = Vec::new();
    for (index, number) in students.iter().enumerate() {
        let addr = servers.addrs[index % 2];
        cookies.push((
            number.clone(),
            sign_in_over_http(addr, number, PASSWORD).await,
        ));
    }

    // Every student submits once, half through each server; A is killed part-way.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let storm: Vec<_> = cookies
        .iter()
        .cloned()
        .enumerate()
        .map(|(index, (number, cookie))| {
            let addr = servers.addrs[index % 2];
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                if let Some((200, _)) = http(addr, "/api/submit_departure", "", Some(&cookie)).await
                {
                    acknowledged.lock().expect("lock").push(number);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while acknowledged.lock().expect("lock").len() < students.len() / 4 && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let a = &mut servers.processes[0];
    a.kill().expect("SIGKILL"); // std's kill is SIGKILL: no shutdown, no flush
    a.wait().expect("reaped");
    for attempt in storm {
        attempt.await.expect("task");
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    // B still serves, and the database holds every acknowledged submission, whole.
    let (status, _) = http(servers.addrs[1], "/api/clearance", "", Some(&cookies[1].1))
        .await
        .expect("B still answers");
    assert_eq!(status, 200);
    let db = app::db::open(&servers.url).await.expect("database");
    let stored = support::assert_every_acknowledged_submission_is_stored(&db, &acknowledged).await;
    println!(
        "two servers, kill -9 of one mid-storm: {} submissions sent, {} acknowledged, {} stored",
        students.len(),
        acknowledged.len(),
        stored
    );
    assert!(
        acknowledged.len() < students.len(),
        "the kill landed mid-storm: {} of {} acknowledged",
        acknowledged.len(),
        students.len()
    );
    db.close().await;
}
