//! Departure-day concurrency (on SQLite in WAL mode, and on PostgreSQL): storms of
//! submissions for one student, and offices changing while the student submits.

use std::collections::BTreeMap;

use app::clearance::{rules, submission::Departure};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use tower::ServiceExt;

use crate::common::TestApp;

async fn submit(router: axum::Router, cookie: String) -> (StatusCode, String) {
    let request = Request::post("/api/submit_departure")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookie)
        .body(Body::empty())
        .expect("request");
    let response = router.oneshot(request).await.expect("infallible");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_storms_of_a_hundred_submits_make_exactly_one_departure_each() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    for round in 0..5 {
        app.exec("DELETE FROM departures WHERE student_number = '2020100001'")
            .await;
        let storm: Vec<_> = (0..100)
            .map(|_| tokio::spawn(submit(app.router.clone(), cookie.clone())))
            .collect();
        let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
        for attempt in storm {
            let (status, body) = attempt.await.expect("task");
            let outcome = match status {
                StatusCode::OK => "submitted".to_owned(),
                StatusCode::CONFLICT if body.contains("已提交") => {
                    "already submitted".to_owned()
                }
                other => format!("{other}: {body}"),
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
        println!("round {round}: {outcomes:?}");
        let expected = BTreeMap::from([
            ("already submitted".to_owned(), 99),
            ("submitted".to_owned(), 1),
        ]);
        assert_eq!(outcomes, expected, "round {round}");
        let stored: i64 = app
            .count("SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'")
            .await;
        assert_eq!(stored, 1, "round {round}");
    }
}

/// The office state a flip leaves behind. Two passing states that differ (who checked
/// the room out) and two failing ones, so a snapshot taken from facts that were already
/// out of date shows, even when they passed.
fn office_state(flip: i64) -> (Option<&'static str>, bool) {
    // (housing checked out by, finance has an arrear)
    match flip % 4 {
        0 => (Some("丁二君"), false),
        1 => (Some("丁二君"), true),
        2 => (Some("王五"), false),
        _ => (None, false),
    }
}

async fn flip(db: &app::db::Db, seq: i64) {
    // Each flip is one office transaction under the student's lock (as every office
    // change takes it), and records its own number in it.
    let (checked_out_by, arrear) = office_state(seq);
    macro_rules! flip_in {
        ($tx:expr) => {{
            let mut tx = $tx.await.expect("begin");
            sqlx::query(
                "UPDATE housing_records SET checked_out_on = CASE WHEN $1 IS NULL THEN NULL ELSE '2020-06-05' END,
                        checked_out_by = $1
                 WHERE student_number = '2020100001'",
            )
            .bind(checked_out_by)
            .execute(&mut *tx)
            .await
            .expect("housing");
            sqlx::query("DELETE FROM finance_arrears WHERE student_number = '2020100001'")
                .execute(&mut *tx)
                .await
                .expect("finance");
            if arrear {
                sqlx::query(
                    "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen)
                     VALUES ('2020100001', '2019', '学分学费', 100)",
                )
                .execute(&mut *tx)
                .await
                .expect("finance");
            }
            sqlx::query("INSERT INTO test_flips (seq) VALUES ($1)")
                .bind(seq)
                .execute(&mut *tx)
                .await
                .expect("flip number");
            tx.commit().await.expect("commit");
        }};
    }
    match db {
        app::db::Db::Sqlite(pool) => {
            flip_in!(app::db::sqlite::begin_for_student(pool, "2020100001"))
        }
        app::db::Db::Postgres(pool) => {
            flip_in!(app::db::postgres::begin_for_student(pool, "2020100001"))
        }
    }
}

/// Offices change the facts while the student submits. Every flip is numbered, and a
/// test-only trigger stamps each departure with the number of the last flip committed
/// before it was inserted: the frozen snapshot must show exactly that flip's state. A
/// submit that read the facts outside its transaction would freeze an older state.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_snapshot_is_exactly_the_office_state_when_the_departure_was_recorded() {
    let app = TestApp::with_demo_students().await;
    let db = app.state.db.clone();
    app.exec(
        "CREATE TABLE test_flips (seq INTEGER PRIMARY KEY);
         ALTER TABLE departures ADD COLUMN test_last_flip INTEGER;",
    )
    .await;
    app.exec(match db.backend() {
        app::db::Backend::Sqlite => {
            "CREATE TRIGGER test_stamp_departure AFTER INSERT ON departures BEGIN
                 UPDATE departures SET test_last_flip = (SELECT max(seq) FROM test_flips)
                 WHERE id = NEW.id;
             END"
        }
        app::db::Backend::Postgres => {
            "CREATE FUNCTION test_stamp_departure() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 UPDATE departures SET test_last_flip = (SELECT max(seq) FROM test_flips)
                 WHERE id = NEW.id;
                 RETURN NULL;
             END $$;
             CREATE TRIGGER test_stamp_departure AFTER INSERT ON departures
                 FOR EACH ROW EXECUTE FUNCTION test_stamp_departure();"
        }
    })
    .await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let mut seq = 0;
    let mut submitted_rounds = 0;
    for round in 0..30 {
        app.exec("DELETE FROM departures WHERE student_number = '2020100001'")
            .await;
        // Start each round passing.
        seq += 4 - seq % 4;
        flip(&db, seq).await;
        let first = seq + 1;
        seq += 40;
        let flipper = {
            let db = db.clone();
            tokio::spawn(async move {
                for number in first..=first + 39 {
                    flip(&db, number).await;
                    tokio::task::yield_now().await;
                }
            })
        };
        let storm: Vec<_> = (0..10)
            .map(|_| tokio::spawn(submit(app.router.clone(), cookie.clone())))
            .collect();
        for attempt in storm {
            let (status, body) = attempt.await.expect("task");
            assert!(
                status == StatusCode::OK || status == StatusCode::CONFLICT,
                "round {round}: {status} {body}"
            );
        }
        flipper.await.expect("flipper");

        let row: Option<(String, i64)> = with_pool!(&db, pool => sqlx::query_as(
            "SELECT snapshot, CAST(test_last_flip AS BIGINT) FROM departures WHERE student_number = '2020100001'",
        )
        .fetch_optional(pool)
        .await
        .expect("read"));
        let Some((snapshot, last_flip)) = row else {
            continue;
        };
        submitted_rounds += 1;
        let departure: Departure = app::db::snapshot::thaw(&snapshot).expect("snapshot");
        let (checked_out_by, arrear) = office_state(last_flip);
        let frozen = (
            departure
                .facts
                .housing
                .as_ref()
                .and_then(|housing| housing.checked_out_by.as_deref()),
            !departure.facts.arrears.is_empty(),
        );
        assert_eq!(
            frozen,
            (checked_out_by, arrear),
            "round {round}: the snapshot is not the state of flip {last_flip}, the last one before the departure"
        );
        assert!(
            rules::gate(&departure.verdicts).is_ok(),
            "round {round}: a failing office was frozen"
        );
    }
    println!("rounds with a submission: {submitted_rounds} of 30");
    assert!(submitted_rounds > 0, "some rounds submit");
}
