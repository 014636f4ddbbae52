//! How fast the offices' desk answers with a university's worth of students (a
//! benchmark: prints figures, asserts nothing). Fills a fresh database with N students
//! in varied states for every office, then times the desk's list queries the way a
//! clerk uses them: the first page, a state filter, a name search, the last page, and
//! resolving the whole filtered list as a batch does.
//!
//!     cargo run --release -p server --example desk_list [students]
//!
//! SQLite by default; set DATABASE_URL=postgres://… to measure an (empty) PostgreSQL
//! database instead.

use std::time::Instant;

use app::{
    clearance::rules::Office,
    db::{self, desk},
    desk::{DeskQuery, RowStatus},
};

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
    let started = Instant::now();
    fill(&db, students).await;
    println!(
        "desk list: {students} students on {} (filled in {:.1} s)",
        db::redact(&url),
        started.elapsed().as_secs_f64()
    );
    let query = |q: &str, status: &str, page: u32| DeskQuery {
        q: q.to_owned(),
        status: status.to_owned(),
        page,
        ..DeskQuery::default()
    };
    for office in Office::ALL {
        let cases = [
            ("first page", query("", "", 1), None),
            ("state 未通过", query("", "fail", 1), Some(RowStatus::Fail)),
            ("search by name", query("学生203001234", "", 1), None),
            ("last page", query("", "", u32::MAX), None),
        ];
        for (name, query, status) in cases {
            let mut times = Vec::new();
            let mut total = 0;
            for _ in 0..5 {
                let started = Instant::now();
                let list = desk::list(&db, office, &query, status).await.expect("list");
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                total = list.total;
            }
            times.sort_by(f64::total_cmp);
            println!(
                "  {:<28} {:<16} {:>6} rows  median {:>7.1} ms  max {:>7.1} ms",
                office.name(),
                name,
                total,
                times[2],
                times[4]
            );
        }
        let started = Instant::now();
        let all = desk::matching(&db, office, &DeskQuery::default(), None)
            .await
            .expect("matching");
        println!(
            "  {:<28} {:<16} {:>6} rows  once   {:>7.1} ms",
            office.name(),
            "batch targets",
            all.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    db.close().await;
}

/// N students: colleges and grades in turn, each office in one of its states.
async fn fill(db: &db::Db, students: usize) {
    let statements = [
        "INSERT INTO students (student_number, name, gender, grade, college, major, enrolled_on, departure_category, applied_on) VALUES ($1, '学生' || $1, 'male', '2018级', '测试学院', '测试专业', '2018-09-01', '毕业离校', '2021-06-01')",
        "INSERT INTO library_records VALUES ($1, 1, 0, 0, NULL, 'approved')",
        "INSERT INTO archives_records VALUES ($1, 'reviewed')",
        "INSERT INTO housing_records VALUES ($1, '南湖校区', '桃苑', '101', NULL, NULL)",
        "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen) VALUES ($1, '2019', '学费', 100)",
        "INSERT INTO office_states (student_number, office, standing, reported_at)
         VALUES ($1, 'library', 'reported', '2021-06-01T00:00:00Z'),
                ($1, 'archives', 'reported', '2021-06-01T00:00:00Z'),
                ($1, 'housing', 'reported', '2021-06-01T00:00:00Z'),
                ($1, 'finance', 'reported', '2021-06-01T00:00:00Z')",
    ];
    match db {
        db::Db::Sqlite(pool) => {
            let mut tx = pool.begin().await.expect("tx");
            for index in 0..students {
                let number = format!("2030{index:06}");
                for (which, statement) in statements.iter().enumerate() {
                    // Every third student lacks office rows beyond the first: 待核验 there.
                    if which > 0 && index % 3 == 0 {
                        continue;
                    }
                    sqlx::query(statement)
                        .bind(&number)
                        .execute(&mut *tx)
                        .await
                        .expect("insert");
                }
            }
            tx.commit().await.expect("commit");
        }
        db::Db::Postgres(pool) => {
            let mut tx = pool.begin().await.expect("tx");
            for index in 0..students {
                let number = format!("2030{index:06}");
                for (which, statement) in statements.iter().enumerate() {
                    if which > 0 && index % 3 == 0 {
                        continue;
                    }
                    sqlx::query(statement)
                        .bind(&number)
                        .execute(&mut *tx)
                        .await
                        .expect("insert");
                }
            }
            tx.commit().await.expect("commit");
        }
    }
}
