//! Departure-day concurrency on a file-backed SQLite in WAL mode: storms of submissions
//! for one student, and offices changing while the student submits.

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
        sqlx::query("DELETE FROM departures WHERE student_number = '2020100001'")
            .execute(&app.state.db)
            .await
            .expect("reset");
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
        let stored: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'",
        )
        .fetch_one(&app.state.db)
        .await
        .expect("count");
        assert_eq!(stored, 1, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_office_changing_during_submission_never_yields_a_failing_snapshot() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let mut submitted_rounds = 0;
    for round in 0..30 {
        sqlx::query("DELETE FROM departures WHERE student_number = '2020100001'")
            .execute(&app.state.db)
            .await
            .expect("reset");
        // The finance office adds and removes an arrear, and housing reopens and closes the
        // room, over and over while ten submissions race.
        let db = app.state.db.clone();
        let flipper = tokio::spawn(async move {
            for flip in 0..20 {
                let statement = match flip % 4 {
                    0 => {
                        "INSERT INTO finance_arrears (student_number, academic_year, item, amount_fen) VALUES ('2020100001', '2019', '学分学费', 100)"
                    }
                    1 => "DELETE FROM finance_arrears WHERE student_number = '2020100001'",
                    2 => {
                        "UPDATE housing_records SET checked_out_on = NULL, checked_out_by = NULL WHERE student_number = '2020100001'"
                    }
                    _ => {
                        "UPDATE housing_records SET checked_out_on = '2020-06-05', checked_out_by = '丁二君' WHERE student_number = '2020100001'"
                    }
                };
                sqlx::query(statement)
                    .execute(&db)
                    .await
                    .expect("office writes");
                tokio::task::yield_now().await;
            }
        });
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

        let snapshot: Option<String> = sqlx::query_scalar(
            "SELECT snapshot FROM departures WHERE student_number = '2020100001'",
        )
        .fetch_optional(&app.state.db)
        .await
        .expect("read");
        if let Some(snapshot) = snapshot {
            submitted_rounds += 1;
            let departure: Departure = serde_json::from_str(&snapshot).expect("snapshot");
            let recomputed = rules::verdicts(&departure.facts);
            assert!(
                rules::gate(&recomputed).is_ok(),
                "round {round}: a failing office was frozen: {departure:?}"
            );
            assert!(
                departure.verdicts.iter().all(rules::Verdict::passed),
                "round {round}"
            );
        }
    }
    println!("rounds with a submission: {submitted_rounds} of 30");
}
