//! A sign-in storm against the real server binary: 200 simultaneous sign-ins. Every
//! password check holds 19 MiB of argon2 memory, so unbounded checks would need gigabytes;
//! bounded, the server's peak memory stays small, and every attempt still gets an answer.

#[macro_use]
mod support;

use std::{collections::BTreeMap, net::SocketAddr};

use support::{free_port, fresh_database_url, http, start, wait_until_up};

const STORM: usize = 200;
/// The debug build idles near 40-80 MiB and four argon2 memories add 76 MiB. Unbounded,
/// 200 checks at once need about 3.8 GiB; bounded but allocating afresh for every check,
/// the allocator kept 500-800 MiB after this storm.
const PEAK_RSS_LIMIT_KIB: u64 = 256 * 1024;

/// The peak resident set (VmHWM) of process `pid`, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_simultaneous_sign_ins_all_get_answers_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    // Every check queues here (none is turned away as too long to wait): the bound on
    // memory is what is measured. The refusals are tested in `http::protection`.
    let mut server = start(
        dir.path(),
        &url,
        port,
        &[
            ("LIXIAO_DEMO_DATA", "1"),
            ("LIXIAO_SIGNIN_WAIT_MS", "25000"),
        ],
    );
    wait_until_up(addr).await;
    let before = peak_rss_kib(server.id());

    // The four demo students, mostly with the right password, some with a wrong one.
    let students = [
        ("2020100001", "061234"),
        ("2020100002", "12002X"),
        ("2020100003", "2020100003"),
        ("2020100004", "150027"),
    ];
    let storm: Vec<_> = (0..STORM)
        .map(|index| {
            let (number, right) = students[index % students.len()];
            let password = if index % 5 == 0 { "wrong-guess" } else { right };
            tokio::spawn(async move {
                let body = format!("student_number={number}&password={password}");
                http(addr, "/api/login", &body, None).await
            })
        })
        .collect();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for attempt in storm {
        let answer = match attempt.await.expect("task") {
            None => "no answer (connection dropped)".to_owned(),
            Some((status, _)) => status.to_string(),
        };
        *answers.entry(answer).or_default() += 1;
    }
    let peak = peak_rss_kib(server.id());
    server.kill().expect("stop");
    server.wait().expect("reaped");

    println!(
        "sign-in storm: {STORM} at once; answers {answers:?}; server peak RSS {:.1} MiB (before the storm {:.1} MiB)",
        peak as f64 / 1024.0,
        before as f64 / 1024.0
    );
    for answer in answers.keys() {
        assert!(
            ["200", "302", "303", "400", "429"].contains(&answer.as_str()),
            "every sign-in is answered with success, a redirect, 400 or 429: {answers:?}"
        );
    }
    assert!(
        answers.get("200").copied().unwrap_or(0) > 0,
        "some sign-ins succeed: {answers:?}"
    );
    assert!(
        peak <= PEAK_RSS_LIMIT_KIB,
        "peak RSS {peak} KiB over {PEAK_RSS_LIMIT_KIB} KiB: password checks are not bounded"
    );
}
