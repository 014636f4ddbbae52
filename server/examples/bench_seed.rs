//! Seeds a fresh database for `scripts/bench` (the departure-day benchmark; never part
//! of the tests or the demo): N students in varied states, every one past the first
//! sign-in with one shared password, and one sync token per office with a known value.
//!
//!     DATABASE_URL=sqlite://… LIXIAO_SLIP_KEY=bench:<64 hex digits> \
//!         cargo run --release -p server --example bench_seed -- 20000
//!
//! Only here may many accounts share one password hash: hashing 20,000 passwords would
//! take minutes and measure nothing. Sign-ins (argon2) have their own scenario.
//!
//! The states, by the student's position: every 4th from 0 passes all four offices (and
//! may submit); from 1, the library still has a book out; from 2, finance has arrears;
//! from 3, the archives have not reported (待核验). Housing states 不涉及 for all.
//! Every student has the offices' systems' reports in 变更记录 (library, finance, and the
//! archives where they reported). Among the first [`WITH_DEPARTURES`] (the page
//! scenarios' students, never the departure day's), every 8th has submitted, and every
//! 8th from 4 submitted and had it revoked by the graduate school (may submit again), so
//! the page reads departures and history as on the real day. The slips are tagged under
//! `LIXIAO_SLIP_KEY`, which `scripts/bench` gives the server too.

use std::time::Instant;

use app::db::{self, Db};

/// The students' shared password, and the tokens of the office systems.
const PASSWORD: &str = "Bench-password-2026";
const TOKENS: [(&str, &str); 4] = [
    ("library", "lxs_bench_library"),
    ("archives", "lxs_bench_archives"),
    ("housing", "lxs_bench_housing"),
    ("finance", "lxs_bench_finance"),
];
const COLLEGES: [&str; 5] = [
    "资源与地球科学学院",
    "矿业工程学院",
    "安全工程学院",
    "计算机科学与技术学院",
    "力学与土木工程学院",
];
/// The students among whom some have departed (see the top): the page scenarios sign in
/// the first 200, the sign-in storm the next 1,000; the departure day starts after them.
const WITH_DEPARTURES: usize = 1_200;
/// Rows per multi-row INSERT: at most 5 bound values a row, far below both backends'
/// limits on parameters.
const CHUNK: usize = 500;

fn number(index: usize) -> String {
    format!("2026{index:06}")
}

/// `INSERT … VALUES` with `rows` copies of `row`, whose `?1 … ?k` become each row's own
/// `$n` placeholders.
fn insert(head: &str, row: &str, width: usize, rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|index| {
            let mut text = row.to_owned();
            // Highest first, so that ?1 does not eat the start of ?10.
            for k in (1..=width).rev() {
                text = text.replace(&format!("?{k}"), &format!("${}", index * width + k));
            }
            text
        })
        .collect();
    format!("{head} VALUES {}", values.join(", "))
}

/// One statement for each chunk of the students `keep` selects, binding `bind` for each.
macro_rules! each_chunk {
    ($tx:expr, $students:expr, $head:expr, $row:expr, $width:expr,
     keep |$k:ident| $keep:expr, bind |$q:ident, $i:ident| $bind:expr) => {{
        let all: Vec<usize> = (0..$students).filter(|&$k| $keep).collect();
        for chunk in all.chunks(CHUNK) {
            let sql = insert($head, $row, $width, chunk.len());
            let mut $q = sqlx::query(&sql);
            for &$i in chunk {
                $q = $bind;
            }
            $q.execute(&mut *$tx).await.expect($head);
        }
    }};
}

macro_rules! seed_on {
    ($pool:expr, $students:expr, $hash:expr) => {{
        let hash: &str = $hash;
        let mut tx = $pool.begin().await.expect("transaction");
        each_chunk!(
            tx,
            $students,
            "INSERT INTO students (student_number, name, gender, grade, college, major, enrolled_on, departure_category, applied_on)",
            "(?1, ?2, ?3, '2022级', ?4, ?5, '2022-09-01', '毕业离校', '2026-06-01')",
            5,
            keep |_index| true,
            bind |query, index| query
                .bind(number(index))
                .bind(format!("学生{index}"))
                .bind(if index % 2 == 0 { "male" } else { "female" })
                .bind(COLLEGES[index % COLLEGES.len()])
                .bind(format!("专业{}", index % 7))
        );
        each_chunk!(
            tx,
            $students,
            "INSERT INTO accounts (login, role, student_number, password_hash, must_change_password)",
            "(?1, 'student', ?1, ?2, FALSE)",
            2,
            keep |_index| true,
            bind |query, index| query.bind(number(index)).bind(hash.to_owned())
        );
        each_chunk!(
            tx,
            $students,
            "INSERT INTO library_records (student_number, books_out, fines_fen, violations, card_cancelled_at, thesis_status)",
            "(?1, ?2, 0, 0, '2026-05-20T00:00:00Z', 'approved')",
            2,
            keep |_index| true,
            bind |query, index| query.bind(number(index)).bind(i64::from(index % 4 == 1))
        );
        each_chunk!(
            tx,
            $students,
            "INSERT INTO archives_records (student_number, thesis_status)",
            "(?1, 'reviewed')",
            1,
            keep |index| index % 4 != 3,
            bind |query, index| query.bind(number(index))
        );
        each_chunk!(
            tx,
            $students,
            "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen)",
            "(?1, '2025', '学分学费', 55000)",
            1,
            keep |index| index % 4 == 2,
            bind |query, index| query.bind(number(index))
        );
        for (office, standing) in [
            ("library", "reported"),
            ("housing", "not_applicable"),
            ("finance", "reported"),
        ] {
            let row = format!("(?1, '{office}', '{standing}', '2026-06-01T00:00:00Z')");
            each_chunk!(
                tx,
                $students,
                "INSERT INTO office_states (student_number, office, standing, reported_at)",
                &row,
                1,
                keep |_index| true,
                bind |query, index| query.bind(number(index))
            );
        }
        each_chunk!(
            tx,
            $students,
            "INSERT INTO office_states (student_number, office, standing, reported_at)",
            "(?1, 'archives', 'reported', '2026-06-01T00:00:00Z')",
            1,
            keep |index| index % 4 != 3,
            bind |query, index| query.bind(number(index))
        );
        // 变更记录: what the offices' systems reported, as the sync API writes it.
        for (office, reported_only) in [("library", false), ("finance", false), ("archives", true)] {
            let row = format!(
                "(?1, '{office}', '2026-06-01T00:00:00Z', 'system', '{office}-bench', 'facts', '待核验', ?2, '系统同步')"
            );
            each_chunk!(
                tx,
                $students,
                "INSERT INTO office_history (student_number, office, at, actor_kind, actor, change, before, after, reason)",
                &row,
                2,
                keep |index| !reported_only || index % 4 != 3,
                bind |query, index| query.bind(number(index)).bind(match (office, index % 4) {
                    ("library", 1) => "未还 1 册，欠款 0.00 元，违章 0 条，借书证已注销，论文审核通过",
                    ("library", _) => "未还 0 册，欠款 0.00 元，违章 0 条，借书证已注销，论文审核通过",
                    ("finance", 2) => "欠费 1 项，共 550.00 元",
                    ("finance", _) => "无欠费",
                    _ => "论文提交状态：已审核",
                })
            );
        }
        tx.commit().await.expect("commit");
    }};
}

/// Submits (and for some revokes) departures among the first students, through the
/// same functions the student and the graduate school use.
async fn depart(db: &Db, students: usize, keys: &app::verify::SlipKeys) -> usize {
    use app::db::{
        audit::Who,
        clearance::{self, RevokeOutcome, SubmitOutcome},
    };
    let at = time::macros::datetime!(2026-06-10 02:00:00 UTC);
    let school = Who::account("gs-bench", None);
    let mut count = 0;
    for index in (0..students.min(WITH_DEPARTURES)).filter(|index| index % 4 == 0) {
        let student = number(index);
        let who = Who::account(&student, None);
        let SubmitOutcome::Submitted(submitted) =
            clearance::submit(db, &student, at, "20260610", &who, keys)
                .await
                .expect("submit")
        else {
            panic!("{student} passes all four offices and has not submitted");
        };
        count += 1;
        if index % 8 == 4 {
            let revoked = clearance::revoke(
                db,
                &submitted.slip_number,
                "信息有误，请核对后重新提交",
                at,
                &school,
            )
            .await
            .expect("revoke");
            assert!(
                matches!(revoked, RevokeOutcome::Revoked(_)),
                "{student} revoked"
            );
        }
    }
    count
}

#[tokio::main]
async fn main() {
    let students: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the fresh database");
    let db: Db = db::open(&url).await.expect("open");
    let started = Instant::now();
    let hash = app::auth::password::hash(PASSWORD.to_owned())
        .await
        .expect("hash");
    match &db {
        Db::Sqlite(pool) => seed_on!(pool, students, &hash),
        Db::Postgres(pool) => seed_on!(pool, students, &hash),
    }
    let keys = app::verify::SlipKeys::parse(
        &std::env::var("LIXIAO_SLIP_KEY").expect("LIXIAO_SLIP_KEY: the server's slip key"),
        "",
    )
    .expect("a valid slip key");
    let departures = depart(&db, students, &keys).await;
    for (office, token) in TOKENS {
        let office = app::clearance::rules::Office::from_code(office).expect("office");
        db::sync::add_token(
            &db,
            &format!("{}-bench", office.code()),
            office,
            token,
            app::clock::now(),
        )
        .await
        .expect("token");
    }
    db.close().await;
    println!(
        "seeded {students} students (2026000000 on, password {PASSWORD}), {departures} departures and 4 sync tokens in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
