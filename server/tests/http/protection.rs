//! Brute-force protection and the audit trail.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};

use crate::common::{Reply, TestApp};

/// A sign-in attempt from a given client address, as the real server sees it.
async fn attempt(app: &TestApp, number: &str, password: &str, from: &str) -> Reply {
    let body = format!("student_number={number}&password={password}");
    let mut request = Request::post("/api/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from(body))
        .expect("request");
    let addr: SocketAddr = format!("{from}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(addr));
    Reply::read(app.send(request).await).await
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_number_even_against_the_right_one() {
    let app = TestApp::with_demo_students().await;
    for _ in 0..4 {
        let reply = attempt(&app, "2020100001", "wrong-one", "10.0.0.1").await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.body.contains("学号或密码错误"));
    }
    let fifth = attempt(&app, "2020100001", "wrong-one", "10.0.0.1").await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS, "{fifth:?}");
    assert!(
        fifth.body.contains("后重试"),
        "says when to retry: {}",
        fifth.body
    );

    let right = attempt(&app, "2020100001", "061234", "10.0.0.2").await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked means locked: {right:?}"
    );
    assert!(right.cookie.is_none());

    // Another student is not affected.
    let other = attempt(&app, "2020100002", "12002X", "10.0.0.1").await;
    assert!(other.status.is_success(), "{other:?}");
}

#[tokio::test]
async fn the_lock_lasts_fifteen_minutes_then_doubles() {
    let app = TestApp::with_demo_students().await;
    let lock = |number: &'static str| {
        let app = &app;
        async move {
            for _ in 0..5 {
                attempt(app, number, "wrong-one", "10.0.0.1").await;
            }
            let until: i64 = sqlx::query_scalar(
                "SELECT locked_until FROM login_throttle WHERE student_number = ?",
            )
            .bind(number)
            .fetch_one(&app.state.db)
            .await
            .expect("locked");
            until - time::OffsetDateTime::now_utc().unix_timestamp()
        }
    };
    let first = lock("2020100003").await;
    assert!((15 * 60 - 5..=15 * 60).contains(&first), "{first} s");
    // Pretend the first lock has run out, then fail five more times.
    sqlx::query("UPDATE login_throttle SET locked_until = 0 WHERE student_number = '2020100003'")
        .execute(&app.state.db)
        .await
        .expect("expire");
    let second = lock("2020100003").await;
    assert!((30 * 60 - 5..=30 * 60).contains(&second), "{second} s");
}

#[tokio::test]
async fn an_unknown_number_and_a_wrong_password_look_the_same_even_when_locked() {
    let app = TestApp::with_demo_students().await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..6 {
        known.push(attempt(&app, "2020100004", "guess", "10.0.0.9").await);
        unknown.push(attempt(&app, "2029999999", "guess", "10.0.0.9").await);
    }
    for (k, u) in known.iter().zip(&unknown) {
        assert_eq!(k.status, u.status);
        assert_eq!(
            k.body.replace("2020100004", "N"),
            u.body.replace("2029999999", "N")
        );
    }
}

#[tokio::test]
async fn one_address_guessing_at_scale_gets_429() {
    let app = TestApp::with_demo_students().await;
    let limit = app::auth::ip_limit::MAX_FAILURES;
    for attempt_number in 0..limit {
        // A different number each time: the per-number lock never triggers.
        let number = format!("20209{attempt_number:05}");
        let reply = attempt(&app, &number, "guess", "192.0.2.7").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "attempt {attempt_number}"
        );
    }
    let refused = attempt(&app, "2020100001", "061234", "192.0.2.7").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.body.contains("过于频繁"));
    let elsewhere = attempt(&app, "2020100001", "061234", "192.0.2.8").await;
    assert!(
        elsewhere.status.is_success(),
        "other addresses still sign in: {elsewhere:?}"
    );
}

#[tokio::test]
async fn sign_ins_submissions_and_cancellations_are_audited_without_secrets() {
    let app = TestApp::with_demo_students().await;
    attempt(&app, "2020100002", "not-it", "10.9.8.7").await;
    let reply = attempt(&app, "2020100002", "12002X", "10.9.8.7").await;
    let cookie = reply.cookie.expect("signed in");
    app.post("/api/cancel_library_card", &[], Some(&cookie))
        .await;
    let wang = app.sign_in("2020100001", "061234").await;
    app.post("/api/submit_departure", &[], Some(&wang)).await;

    let rows: Vec<(String, String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT at, event, account, client_addr FROM audit_log ORDER BY id")
            .fetch_all(&app.state.db)
            .await
            .expect("rows");
    let events: Vec<(&str, Option<&str>, Option<&str>)> = rows
        .iter()
        .map(|(_, event, account, addr)| (event.as_str(), account.as_deref(), addr.as_deref()))
        .collect();
    assert_eq!(
        events,
        vec![
            ("login_failed", Some("2020100002"), Some("10.9.8.7")),
            ("login_succeeded", Some("2020100002"), Some("10.9.8.7")),
            // Sent without a known address (as behind some proxies): recorded as unknown.
            ("library_card_cancelled", Some("2020100002"), None),
            ("login_succeeded", Some("2020100001"), None),
            ("departure_submitted", Some("2020100001"), None),
        ]
    );
    assert!(
        rows.iter()
            .all(|(at, ..)| at.starts_with("20") && at.ends_with('Z'))
    );
    let everything: String = sqlx::query_scalar("SELECT group_concat(coalesce(account, '') || coalesce(client_addr, ''), '|') FROM audit_log")
        .fetch_one(&app.state.db)
        .await
        .expect("text");
    for secret in ["not-it", "12002X", "061234"] {
        assert!(!everything.contains(secret), "the trail holds no password");
    }
}

#[tokio::test]
async fn a_staff_account_never_passes_as_a_student() {
    let app = TestApp::with_demo_students().await;
    let hash = app::auth::password::hash("library-desk-2020".to_owned())
        .await
        .expect("hash");
    sqlx::query(
        "INSERT INTO accounts (login, role, password_hash, must_change_password)
         VALUES ('lib0001', 'library', ?, 0)",
    )
    .bind(hash)
    .execute(&app.state.db)
    .await
    .expect("staff account");
    let staff = app.sign_in("lib0001", "library-desk-2020").await;
    for path in [
        "/api/clearance",
        "/api/submit_departure",
        "/api/cancel_library_card",
        "/api/departure",
    ] {
        let reply = app.post(path, &[], Some(&staff)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}: {reply:?}");
        assert!(reply.body.contains("Forbidden"), "{path}");
    }
    // A student number smuggled in changes nothing.
    let reply = app
        .post(
            "/api/clearance",
            &[("student_number", "2020100001")],
            Some(&staff),
        )
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn sign_in_issues_a_new_session_id_and_sign_out_ends_it() {
    let app = TestApp::with_demo_students().await;
    let planted = app.sign_in("2020100004", "150027").await;
    // Signing in again from a browser that already holds a session gets a fresh id.
    let reply = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", "061234")],
            Some(&planted),
        )
        .await;
    let fresh = reply.cookie.expect("a new session cookie");
    assert_ne!(fresh, planted);
    assert_eq!(
        app.post("/api/clearance", &[], Some(&planted)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post("/api/clearance", &[], Some(&fresh)).await.status,
        StatusCode::OK
    );

    app.post("/api/logout", &[], Some(&fresh)).await;
    assert_eq!(
        app.post("/api/clearance", &[], Some(&fresh)).await.status,
        StatusCode::UNAUTHORIZED
    );
}
