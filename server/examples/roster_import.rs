//! How long the graduate school's roster import takes for a whole cohort (a benchmark:
//! prints figures, asserts nothing). Builds a roster file of N students with ID numbers
//! and runs it through the same code as the upload: reading the file, hashing every new
//! account's initial password in the background (the slow part), the preview, and the
//! import; then the same file again (nothing to hash), and the overview's count.
//!
//!     cargo run --release -p server --example roster_import [students]
//!
//! SQLite by default; set DATABASE_URL=postgres://… to measure an (empty) PostgreSQL
//! database instead.

use std::time::{Duration, Instant};

use app::{
    db::{self, roster::Status},
    school::roster::server as roster,
};

/// A roster file of `students` students, as the template has it.
fn roster_file(students: usize) -> String {
    let mut text =
        String::from("学号,姓名,性别,现在年级,学院,专业,入学日期,离校类别,申请时间,身份证号\r\n");
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    for index in 1..=students {
        let first17 = format!("3201021998{index:07}");
        let sum: u32 = first17
            .chars()
            .zip(WEIGHTS)
            .map(|(digit, weight)| digit.to_digit(10).unwrap_or(0) * weight)
            .sum();
        text.push_str(&format!(
            "{},学生{index},{},2022级,{}学院,专业{},2022-09-01,毕业离校,2025-06-01,{first17}{}\r\n",
            2_022_000_000 + index,
            if index % 2 == 0 { "女" } else { "男" },
            ["资源", "力学", "化工", "计算机", "安全"][index % 5],
            index % 7,
            CHECK[(sum % 11) as usize]
        ));
    }
    text
}

/// Uploads `text` and waits until its preview is ready; the id and the seconds taken
/// by reading and by hashing.
async fn upload(db: &db::Db, text: &str) -> (String, f64, f64) {
    let started = Instant::now();
    let id = roster::start(db, "bench", "bench.csv", text)
        .await
        .expect("upload");
    let read = started.elapsed().as_secs_f64();
    let mut last = Instant::now();
    loop {
        let stored = db::roster::load(db, &id, app::clock::now())
            .await
            .expect("load")
            .expect("kept");
        match stored.status {
            Status::Ready => break,
            Status::Failed => panic!("the preparation failed"),
            Status::Preparing => {
                if last.elapsed() >= Duration::from_secs(10) {
                    last = Instant::now();
                    println!(
                        "    … {} / {} accounts after {:.0} s",
                        stored.accounts_done,
                        stored.accounts_total,
                        started.elapsed().as_secs_f64()
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    (id, read, started.elapsed().as_secs_f64() - read)
}

async fn import(db: &db::Db, id: &str) -> (f64, f64) {
    let stored = db::roster::load(db, id, app::clock::now())
        .await
        .expect("load")
        .expect("kept");
    let started = Instant::now();
    let counts = db::roster::compare(db, &stored.rows, true)
        .await
        .expect("preview");
    let preview = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let who = db::audit::Who::account("bench", None);
    match db::roster::apply(db, &stored.rows, true, app::clock::now(), &who)
        .await
        .expect("import")
    {
        db::roster::ApplyOutcome::Applied(applied) => assert_eq!(applied, counts),
        db::roster::ApplyOutcome::Stale => panic!("stale"),
    }
    (preview, started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() {
    let students: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let db = db::open(&url).await.expect("open");
    let text = roster_file(students);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "roster import: {students} students ({:.1} MB file) on {}, {cores} cores",
        text.len() as f64 / 1e6,
        db::redact(&url)
    );

    let started = Instant::now();
    let (id, read, hashing) = upload(&db, &text).await;
    let (preview, apply) = import(&db, &id).await;
    println!("  first import (every account new):");
    println!("    read and check the file  {read:>8.2} s");
    println!(
        "    hash {students} initial passwords {hashing:>8.2} s  ({:.1} ms per account)",
        hashing * 1000.0 / students as f64
    );
    println!("    preview (compare)        {preview:>8.2} s");
    println!("    import (one transaction) {apply:>8.2} s");
    println!(
        "    upload to imported       {:>8.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let (id, read, hashing) = upload(&db, &text).await;
    let (preview, apply) = import(&db, &id).await;
    println!("  the same file again (nothing to hash):");
    println!(
        "    read {read:.2} s, hash {hashing:.2} s, preview {preview:.2} s, import {apply:.2} s, in all {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let cohort = db::desk::cohort(&db).await.expect("cohort");
    let (_, total) = app::school::count(&cohort);
    println!(
        "  overview: {} students counted in {:.2} s",
        total.students,
        started.elapsed().as_secs_f64()
    );
}
