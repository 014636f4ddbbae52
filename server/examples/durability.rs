//! What durable commits cost on a submit storm (a benchmark: prints figures, asserts
//! nothing). SQLite commits with `synchronous = FULL` so that a submission acknowledged
//! to a student survives a power cut; this measures the same storm with FULL and with
//! NORMAL (which may lose the last commits on power loss) on a real file.
//!
//!     cargo run --release -p server --example durability [students] [concurrency]
//!
//! Each student passes every office and submits once, through the app's own data layer
//! (the same transaction as the server's 提交离校流程).

use std::{sync::Arc, time::Instant};

use sqlx::sqlite::{SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::Semaphore;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let students: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(64);
    println!("submit storm: {students} students, {concurrency} at a time, SQLite file in WAL mode");
    for (name, synchronous) in [
        ("FULL (Lixiao)", SqliteSynchronous::Full),
        ("NORMAL", SqliteSynchronous::Normal),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let options = app::db::sqlite::options(&url)
            .expect("options")
            .synchronous(synchronous);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("open");
        app::db::sqlite::MIGRATOR.run(&pool).await.expect("migrate");
        let mut tx = pool.begin().await.expect("tx");
        for index in 0..students {
            let number = format!("2021{index:06}");
            for statement in [
                "INSERT INTO students (student_number, name, gender, grade, college, major, enrolled_on, departure_category, applied_on) VALUES ($1, '测试', 'male', '2018级', '测试学院', '测试专业', '2018-09-01', '毕业离校', '2021-06-01')",
                "INSERT INTO library_records VALUES ($1, 0, 0, 0, '2021-06-01T01:00:00Z', 'approved')",
                "INSERT INTO archives_records VALUES ($1, 'reviewed')",
            ] {
                sqlx::query(statement)
                    .bind(&number)
                    .execute(&mut *tx)
                    .await
                    .expect("seed");
            }
        }
        tx.commit().await.expect("seed");
        let db = app::db::Db::Sqlite(pool);
        let keys = app::verify::SlipKeys::demo();

        let gate = Arc::new(Semaphore::new(concurrency));
        let started = Instant::now();
        let tasks: Vec<_> = (0..students)
            .map(|index| {
                let db = db.clone();
                let keys = keys.clone();
                let gate = gate.clone();
                tokio::spawn(async move {
                    let _permit = gate.acquire_owned().await.expect("gate");
                    let number = format!("2021{index:06}");
                    let who = app::db::audit::Who::account(&number, None);
                    let slip = format!("LX20210601{number}");
                    let began = Instant::now();
                    let outcome = app::db::clearance::submit(
                        &db,
                        &number,
                        app::clock::now(),
                        &slip,
                        &who,
                        &keys,
                    )
                    .await
                    .expect("submit");
                    assert!(matches!(
                        outcome,
                        app::db::clearance::SubmitOutcome::Submitted(_)
                    ));
                    began.elapsed()
                })
            })
            .collect();
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.push(task.await.expect("task"));
        }
        let elapsed = started.elapsed();
        latencies.sort();
        let percentile =
            |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
        println!(
            "{name:>14}: {:>7.0} submits/s, p50 {:>6.1} ms, p99 {:>6.1} ms, total {:.2} s",
            students as f64 / elapsed.as_secs_f64(),
            percentile(0.50).as_secs_f64() * 1000.0,
            percentile(0.99).as_secs_f64() * 1000.0,
            elapsed.as_secs_f64()
        );
        db.close().await;
    }
}
