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
    attempt_with(app, number, password, from, &[]).await
}

/// A sign-in attempt from `from` (the TCP peer) with extra request headers.
async fn attempt_with(
    app: &TestApp,
    number: &str,
    password: &str,
    from: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let body = format!("student_number={number}&password={password}");
    let mut request = Request::post("/api/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut request = request.body(Body::from(body)).expect("request");
    let addr: SocketAddr = match from.parse::<std::net::IpAddr>().expect("address") {
        std::net::IpAddr::V4(v4) => SocketAddr::from((v4, 40000)),
        std::net::IpAddr::V6(v6) => SocketAddr::from((v6, 40000)),
    };
    request.extensions_mut().insert(ConnectInfo(addr));
    Reply::read(app.send(request).await).await
}

#[tokio::test]
async fn guessing_from_one_address_is_locked_after_five() {
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
    // From that address, locked means locked: even the right password is refused.
    let right = attempt(&app, "2020100001", "061234", "10.0.0.1").await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "{right:?}");
    assert!(right.cookie.is_none());

    // Another student from the same address is not affected.
    let other = attempt(&app, "2020100002", "12002X", "10.0.0.1").await;
    assert!(other.status.is_success(), "{other:?}");
}

#[tokio::test]
async fn a_storm_of_wrong_passwords_does_not_lock_the_student_out_from_elsewhere() {
    let app = TestApp::with_demo_students().await;
    // A prankster guesses 王小明's number from three addresses: two until they are
    // locked, and a few more guesses from a third.
    for (prankster, guesses) in [(1, 5), (2, 5), (3, 3)] {
        let from = format!("198.51.100.{prankster}");
        for guess in 1..=guesses {
            let reply = attempt(&app, "2020100001", "not-his", &from).await;
            let expected = if guess == 5 {
                StatusCode::TOO_MANY_REQUESTS
            } else {
                StatusCode::BAD_REQUEST
            };
            assert_eq!(reply.status, expected, "{from} guess {guess}: {reply:?}");
        }
    }
    // So many failures from so many places slow every attempt on the number down...
    let wait = app::db::throttle::slowdown(&app.state.db, "2020100001", app::clock::unix_now())
        .await
        .expect("slow-down");
    assert!(!wait.is_zero(), "guessing from many addresses is slowed");
    // ...but the real student, on the campus network, still gets in.
    let student = attempt(&app, "2020100001", "061234", "10.20.30.40").await;
    assert!(student.status.is_success(), "{student:?}");
    assert!(student.cookie.is_some());
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
            let until: i64 = with_pool!(&app.state.db, pool => sqlx::query_scalar(
                "SELECT locked_until FROM login_locks WHERE student_number = $1 AND client = '10.0.0.1'",
            )
            .bind(number)
            .fetch_one(pool)
            .await
            .expect("locked"));
            until - time::OffsetDateTime::now_utc().unix_timestamp()
        }
    };
    let first = lock("2020100003").await;
    assert!((15 * 60 - 5..=15 * 60).contains(&first), "{first} s");
    // Pretend the first lock has run out, then fail five more times.
    app.exec("UPDATE login_locks SET locked_until = 0 WHERE student_number = '2020100003'")
        .await;
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

/// The per-address limit is kept in the database: guesses spread over two server
/// processes count together (a limit in one process's memory would allow twice as many).
#[tokio::test]
async fn one_address_guessing_at_scale_gets_429_from_every_server() {
    let app = TestApp::with_demo_students().await;
    let other = app.second_server().await;
    let limit = app::db::throttle::MAX_CLIENT_FAILURES;
    for attempt_number in 0..limit {
        // A different number each time: the per-number lock never triggers.
        let number = format!("20209{attempt_number:05}");
        let server = if attempt_number % 2 == 0 {
            &app
        } else {
            &other
        };
        let reply = attempt(server, &number, "guess", "192.0.2.7").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "attempt {attempt_number}"
        );
    }
    for server in [&app, &other] {
        let refused = attempt(server, "2020100001", "061234", "192.0.2.7").await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("过于频繁"));
    }
    let elsewhere = attempt(&app, "2020100001", "061234", "192.0.2.8").await;
    assert!(
        elsewhere.status.is_success(),
        "other addresses still sign in: {elsewhere:?}"
    );
}

/// `LIXIAO_SIGNIN_FAILURES_PER_CLIENT` sets the per-address count: a campus behind one
/// address, or a load test from 127.0.0.1, is not held to the default of 100.
#[tokio::test]
async fn the_per_address_limit_is_configurable() {
    let app =
        TestApp::with_env_and_demo_students(&[("LIXIAO_SIGNIN_FAILURES_PER_CLIENT", "3")]).await;
    for attempt_number in 0..3 {
        let number = format!("20209{attempt_number:05}");
        let reply = attempt(&app, &number, "guess", "192.0.2.7").await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "attempt {attempt_number}"
        );
    }
    let refused = attempt(&app, "2020100001", "061234", "192.0.2.7").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{refused:?}");

    let error = app::config::Config::from_lookup(|name| {
        (name == "LIXIAO_SIGNIN_FAILURES_PER_CLIENT").then(|| "none".to_owned())
    })
    .expect_err("refused");
    assert_eq!(error.name, "LIXIAO_SIGNIN_FAILURES_PER_CLIENT");
}

/// A server function called by script from the client `from`.
async fn call_from(app: &TestApp, path: &str, form: &str, cookie: &str, from: &str) -> Reply {
    let mut request = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("cookie", cookie)
        .body(Body::from(form.to_owned()))
        .expect("request");
    let addr: SocketAddr = format!("{from}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(addr));
    Reply::read(app.send(request).await).await
}

type AuditRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// An audit row without its time: event, actor, typed login, client address.
type Audited<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Forgets the audit rows written so far (the demo seed writes one for 刘洋's submission).
async fn clear_audit(app: &TestApp) {
    app.exec("DELETE FROM audit_log").await;
}

async fn audit_rows(app: &TestApp) -> Vec<AuditRow> {
    type Stored = (
        app::db::Instant,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<Stored> = with_pool!(&app.state.db, pool => sqlx::query_as(
            "SELECT at, event, actor, typed_login, client_addr FROM audit_log ORDER BY id",
        )
        .fetch_all(pool)
        .await
        .expect("rows"));
    rows.into_iter()
        .map(|(at, event, actor, typed, client)| (at.to_rfc3339(), event, actor, typed, client))
        .collect()
}

#[tokio::test]
async fn every_sign_in_change_and_refusal_is_audited_without_secrets() {
    let app = TestApp::with_demo_students().await;
    clear_audit(&app).await;
    let from = "10.9.8.7";
    // A password typed into the number field by mistake is not kept, even one that
    // looks just like a login (an initial password is six characters of an ID number).
    attempt(&app, "my secret pw", "x", from).await;
    attempt(&app, "12002X", "x", from).await;
    attempt(&app, "2020100002", "not-it", from).await;
    let li = attempt(&app, "2020100002", "12002X", from)
        .await
        .cookie
        .expect("signed in");
    call_from(&app, "/api/cancel_library_card", "", &li, from).await;
    // Refused: the gate is closed for 李娜 (housing and finance).
    call_from(&app, "/api/submit_departure", "", &li, from).await;
    let zhang = attempt(&app, "2020100003", "2020100003", from)
        .await
        .cookie
        .expect("signed in");
    // Refused: 张伟 has books out.
    call_from(&app, "/api/cancel_library_card", "", &zhang, from).await;
    call_from(
        &app,
        "/api/change_password",
        "current_password=wrong-current&new_password=a-long-new-one&confirm_password=a-long-new-one",
        &zhang,
        from,
    )
    .await;
    let wang = attempt(&app, "2020100001", "061234", from)
        .await
        .cookie
        .expect("signed in");
    call_from(&app, "/api/submit_departure", "", &wang, from).await;
    // Refused: submitted once already.
    call_from(&app, "/api/submit_departure", "", &wang, from).await;

    let rows = audit_rows(&app).await;
    let events: Vec<Audited> = rows
        .iter()
        .map(|(_, event, actor, typed, addr)| {
            (
                event.as_str(),
                actor.as_deref(),
                typed.as_deref(),
                addr.as_deref(),
            )
        })
        .collect();
    let li_ = Some("2020100002");
    let zhang_ = Some("2020100003");
    let wang_ = Some("2020100001");
    let at = Some(from);
    assert_eq!(
        events,
        vec![
            ("login_failed", None, None, at),
            ("login_failed", None, None, at),
            ("login_failed", None, li_, at),
            ("login_succeeded", li_, li_, at),
            ("library_card_cancelled", li_, None, at),
            ("departure_refused", li_, None, at),
            ("login_succeeded", zhang_, zhang_, at),
            ("library_card_cancellation_refused", zhang_, None, at),
            ("password_change_failed", zhang_, None, at),
            ("login_succeeded", wang_, wang_, at),
            ("departure_submitted", wang_, None, at),
            ("departure_refused", wang_, None, at),
        ]
    );
    // Times come from the application's clock, in UTC, as RFC 3339.
    let now = time::OffsetDateTime::now_utc();
    for (at, ..) in &rows {
        let moment =
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|error| panic!("{at}: {error}"));
        assert!(at.ends_with('Z'), "{at}");
        assert!((now - moment).whole_seconds().abs() < 120, "{at}");
    }
    let everything = app
        .text("SELECT string_agg(coalesce(actor, '') || coalesce(typed_login, '') || coalesce(client_addr, ''), '|') FROM audit_log")
        .await
        .unwrap_or_default();
    let limits = app
        .text(
            "SELECT string_agg(student_number, '|') FROM (SELECT student_number FROM login_locks
               UNION ALL SELECT student_number FROM login_slowdown) AS subjects",
        )
        .await
        .unwrap_or_default();
    for secret in ["secret", "12002X"] {
        assert!(
            !limits.contains(secret),
            "the limits hold no password: {limits}"
        );
    }
    for secret in [
        "secret",
        "not-it",
        "12002X",
        "061234",
        "wrong-current",
        "a-long-new-one",
    ] {
        assert!(!everything.contains(secret), "the trail holds no password");
    }
}

#[tokio::test]
async fn a_submission_and_its_audit_row_are_written_together() {
    let app = TestApp::with_demo_students().await;
    let wang = app.sign_in("2020100001", "061234").await;
    let li = app.sign_in("2020100002", "12002X").await;
    // The audit trail cannot be written: no change may happen without its row.
    app.exec(match app.state.db.backend() {
        app::db::Backend::Sqlite => {
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
             BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"
        }
        app::db::Backend::Postgres => {
            "CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql
                 AS $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$;
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log
                 FOR EACH ROW EXECUTE FUNCTION refuse_audit()"
        }
    })
    .await;
    let reply = app.post("/api/submit_departure", &[], Some(&wang)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{reply:?}");
    assert!(
        !reply.body.contains("audit unavailable"),
        "no internals leak"
    );
    let departures: i64 = app
        .count("SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'")
        .await;
    assert_eq!(departures, 0, "no submission without its audit row");

    // 李娜 may cancel her card; with the trail down, the card stays as it was.
    let reply = app.post("/api/cancel_library_card", &[], Some(&li)).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{reply:?}");
    let cancelled = app
        .count("SELECT COUNT(*) FROM library_records WHERE student_number = '2020100002' AND card_cancelled_at IS NOT NULL")
        .await;
    assert_eq!(cancelled, 0, "no cancellation without its audit row");
}

#[tokio::test]
async fn changing_the_password_has_the_sign_in_limits_and_the_lock_ends_the_session() {
    let app = TestApp::with_demo_students().await;
    let from = "10.1.1.1";
    let cookie = attempt(&app, "2020100004", "150027", from)
        .await
        .cookie
        .expect("signed in");
    let change =
        "current_password=guess-one&new_password=a-long-new-one&confirm_password=a-long-new-one";
    for _ in 0..4 {
        let reply = call_from(&app, "/api/change_password", change, &cookie, from).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{reply:?}");
        assert!(reply.body.contains("当前密码不正确"), "{}", reply.body);
    }
    let fifth = call_from(&app, "/api/change_password", change, &cookie, from).await;
    assert_eq!(fifth.status, StatusCode::TOO_MANY_REQUESTS, "{fifth:?}");
    assert!(fifth.body.contains("后重试"), "{}", fifth.body);
    // The session is over...
    let after = call_from(&app, "/api/clearance", "", &cookie, from).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{after:?}");
    // ...and from this network the number is locked, the right password too.
    let again = attempt(&app, "2020100004", "150027", from).await;
    assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS, "{again:?}");
    let events: Vec<String> = audit_rows(&app)
        .await
        .into_iter()
        .map(|(_, event, ..)| event)
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|event| *event == "password_change_failed")
            .count(),
        5
    );
    assert!(events.contains(&"password_change_locked".to_owned()));
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // No proxy trusted: a client's X-Forwarded-For is its own invention and is ignored.
    let app = TestApp::with_demo_students().await;
    clear_audit(&app).await;
    let spoofed = [("x-forwarded-for", "203.0.113.50")];
    attempt_with(&app, "2020100001", "wrong", "198.51.100.9", &spoofed).await;
    let rows = audit_rows(&app).await;
    assert_eq!(rows[0].4.as_deref(), Some("198.51.100.9"), "{rows:?}");

    // Behind a trusted proxy the forwarded client is the one counted and audited.
    let app = TestApp::with_env_and_demo_students(&[
        ("LIXIAO_TRUSTED_PROXIES", "10.0.0.1"),
        ("LIXIAO_PLAIN_HTTP", "1"),
    ])
    .await;
    clear_audit(&app).await;
    let via_proxy =
        |client: &'static str| [("x-forwarded-for", client), ("x-forwarded-proto", "https")];
    for _ in 0..5 {
        attempt_with(
            &app,
            "2020100001",
            "wrong",
            "10.0.0.1",
            &via_proxy("203.0.113.50"),
        )
        .await;
    }
    let rows = audit_rows(&app).await;
    assert_eq!(rows[0].4.as_deref(), Some("203.0.113.50"), "{rows:?}");
    // That client is locked; another one behind the same proxy is not.
    let locked = attempt_with(
        &app,
        "2020100001",
        "061234",
        "10.0.0.1",
        &via_proxy("203.0.113.50"),
    )
    .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    let other = attempt_with(
        &app,
        "2020100001",
        "061234",
        "10.0.0.1",
        &via_proxy("203.0.113.51"),
    )
    .await;
    assert!(other.status.is_success(), "{other:?}");
    // The proxy speaks HTTPS to the browser: HSTS is sent even though the server runs plain HTTP.
    assert_eq!(
        other.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64_network() {
    let app = TestApp::with_demo_students().await;
    // Five wrong passwords from five addresses of one /64: that network is locked.
    for host in 1..=5 {
        attempt(
            &app,
            "2020100002",
            "wrong",
            &format!("2001:db8:1:2::{host}"),
        )
        .await;
    }
    let same_network = attempt(&app, "2020100002", "12002X", "2001:db8:1:2::99").await;
    assert_eq!(
        same_network.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{same_network:?}"
    );
    let next_network = attempt(&app, "2020100002", "12002X", "2001:db8:1:3::1").await;
    assert!(next_network.status.is_success(), "{next_network:?}");
}

#[tokio::test]
async fn a_staff_account_never_passes_as_a_student() {
    let app = TestApp::with_demo_students().await;
    let hash = app::auth::password::hash("library-desk-2020".to_owned())
        .await
        .expect("hash");
    with_pool!(&app.state.db, pool => { sqlx::query(
        "INSERT INTO accounts (login, role, password_hash, must_change_password)
         VALUES ('lib0001', 'library', $1, FALSE)",
    )
    .bind(&hash)
    .execute(pool)
    .await
    .expect("staff account"); });
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

/// The database-kept limits count in windows: a client's window ends after
/// CLIENT_WINDOW_SECONDS and the next failure starts a new one; the clean-up forgets
/// windows that are over and rows a day old, but never a lock still running.
#[tokio::test]
async fn the_limit_windows_end_and_old_rows_are_forgotten() {
    use app::db::throttle::{self, CLIENT_WINDOW_SECONDS, MAX_CLIENT_FAILURES};
    let app = TestApp::new().await;
    let db = &app.state.db;
    let client = "198.51.100.9";
    let start = 1_800_000_000;
    for _ in 0..MAX_CLIENT_FAILURES {
        throttle::record_failure(db, "2029000001", client, start)
            .await
            .expect("counted");
    }
    assert!(
        !throttle::client_allowed(db, client, start + 1, MAX_CLIENT_FAILURES)
            .await
            .expect("read")
    );
    assert!(
        !throttle::client_allowed(
            db,
            client,
            start + CLIENT_WINDOW_SECONDS - 1,
            MAX_CLIENT_FAILURES
        )
        .await
        .expect("read"),
        "still inside the window"
    );
    let later = start + CLIENT_WINDOW_SECONDS + 1;
    assert!(
        throttle::client_allowed(db, client, later, MAX_CLIENT_FAILURES)
            .await
            .expect("read")
    );
    // The next failure starts a new window of one, not 101.
    throttle::record_failure(db, "2029000002", client, later)
        .await
        .expect("counted");
    let failures = app
        .count("SELECT failures FROM login_client_failures WHERE client = '198.51.100.9'")
        .await;
    assert_eq!(failures, 1);

    // The pair (2029000001, client) was locked at `start` for 15 minutes. A day later its
    // lock is over and it is forgotten, as are the windows; a running lock is kept.
    throttle::record_failure(db, "2029000003", "203.0.113.5", start + 86_400)
        .await
        .expect("counted");
    let forgotten = throttle::forget_old(db, start + 86_400 + 10)
        .await
        .expect("clean-up");
    assert!(forgotten >= 3, "{forgotten} rows forgotten");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_locks WHERE student_number = '2029000001'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_locks WHERE student_number = '2029000003'")
            .await,
        1,
        "a recent failure is kept"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_client_failures WHERE client = '203.0.113.5'")
            .await,
        1,
        "a window still running is kept"
    );
    // A lock still running is kept even when its last failure is old (a lock set by
    // hand, say, for longer than the automatic ones).
    app.exec(&format!(
        "INSERT INTO login_locks (student_number, client, failed_logins, lockouts, locked_until, last_failure_at)
         VALUES ('2029000004', '203.0.113.6', 0, 1, {}, {start})",
        start + 10 * 86_400
    ))
    .await;
    throttle::forget_old(db, start + 2 * 86_400)
        .await
        .expect("clean-up");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM login_locks WHERE student_number = '2029000004'")
            .await,
        1,
        "a running lock is kept"
    );
}

/// Departure day: more students signing in at once than the server can check passwords
/// for. One who would wait longer than `LIXIAO_SIGNIN_WAIT_MS` is answered at once (503,
/// `Retry-After`, the reason in Chinese), with or without script, and nothing is counted
/// against them: no password was checked. With room again, they sign in.
#[tokio::test]
async fn sign_ins_beyond_what_the_server_can_check_are_told_at_once_to_retry() {
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SIGNIN_WAIT_MS", "1")]).await;
    let cookie = app.sign_in("2020100002", "12002X").await;
    clear_audit(&app).await;
    // A password check on every hashing thread: the next one would wait a whole hash.
    let checking: Vec<_> = (0..app::auth::password::CONCURRENT_HASHES)
        .map(|_| app.state.signin_queue.enter().expect("threads free"))
        .collect();

    // More tries than the lock allows (five): none of them counts.
    for password in [
        "061234", "wrong-1", "wrong-2", "wrong-3", "wrong-4", "wrong-5",
    ] {
        let refused = attempt(&app, "2020100001", password, "10.0.0.9").await;
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{refused:?}"
        );
        assert!(
            refused.body.contains("登录人数较多") && refused.body.contains("秒后再试"),
            "{}",
            refused.body
        );
        let retry = refused
            .headers
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok())
            .expect("Retry-After in seconds");
        let longest = app::auth::password::MAX_RETRY_AFTER.as_secs();
        assert!((1..=longest).contains(&retry), "Retry-After: {retry}");
        assert!(refused.cookie.is_none(), "not signed in");
    }

    // The sign-in form without script: back to the form, which shows the reason.
    let request = Request::post("/api/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "text/html,application/xhtml+xml")
        .header(
            "referer",
            format!("{}/login", crate::common::TEST_PUBLIC_URL),
        )
        .header("host", "lixiao.test")
        .header("origin", crate::common::TEST_PUBLIC_URL)
        .body(Body::from("student_number=2020100001&password=061234"))
        .expect("request");
    let posted = Reply::read(app.send(request).await).await;
    assert!(posted.status.is_redirection(), "{posted:?}");
    assert!(posted.headers.contains_key("retry-after"), "{posted:?}");
    let back = posted.location.expect("back to the form");
    let shown = app.page(&back, None).await;
    let alert = shown
        .body
        .split(r#"role="alert""#)
        .nth(1)
        .unwrap_or_else(|| panic!("no alert on {back}: {}", shown.body));
    assert!(alert.contains("登录人数较多"), "{alert}");

    // Changing a password is a check too: refused the same way, the password kept.
    let change = call_from(
        &app,
        "/api/change_password",
        "current_password=12002X&new_password=Departure-2026&confirm_password=Departure-2026",
        &cookie,
        "10.0.0.8",
    )
    .await;
    assert_eq!(change.status, StatusCode::SERVICE_UNAVAILABLE, "{change:?}");
    assert!(change.body.contains("密码尚未修改"), "{}", change.body);

    assert_eq!(audit_rows(&app).await, Vec::new(), "nothing happened");
    assert_eq!(app.count("SELECT COUNT(*) FROM login_locks").await, 0);

    drop(checking);
    let admitted = attempt(&app, "2020100001", "061234", "10.0.0.9").await;
    assert!(admitted.cookie.is_some(), "signed in: {admitted:?}");
    app.sign_in("2020100002", "12002X").await;
}

/// The log lines written on this thread (the test's runtime runs the whole router here).
#[derive(Clone, Default)]
struct Lines(std::sync::Arc<std::sync::Mutex<Vec<(tracing::Level, String)>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let mut message = String::new();
        event.record(
            &mut |field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
                message.push_str(&format!("{}={value:?} ", field.name()));
            },
        );
        self.0
            .lock()
            .expect("lines")
            .push((*event.metadata().level(), message));
    }
}

/// Turning thousands away is the server working as meant, not failing: a 503 "busy" is
/// a WARN in the log, never an ERROR (which is for what someone must fix).
#[tokio::test]
async fn a_busy_refusal_is_logged_as_a_warning_not_an_error() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SIGNIN_WAIT_MS", "1")]).await;
    let _checking: Vec<_> = (0..app::auth::password::CONCURRENT_HASHES)
        .map(|_| app.state.signin_queue.enter().expect("threads free"))
        .collect();
    let lines = Lines::default();
    let refused = {
        let _logging =
            tracing::subscriber::set_default(tracing_subscriber::registry().with(lines.clone()));
        attempt(&app, "2020100001", "061234", "10.0.0.9").await
    };
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{refused:?}"
    );
    let lines = lines.0.lock().expect("lines").clone();
    assert!(
        lines
            .iter()
            .any(|(level, line)| *level == tracing::Level::WARN && line.contains("503")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .all(|(level, _)| *level != tracing::Level::ERROR),
        "{lines:?}"
    );
}

/// The many turned away on departure day cost the server next to nothing: the refusal
/// comes before the sign-in touches the database (here, one that no longer answers).
#[tokio::test]
async fn a_busy_refusal_comes_before_any_database_work() {
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SIGNIN_WAIT_MS", "1")]).await;
    let _checking: Vec<_> = (0..app::auth::password::CONCURRENT_HASHES)
        .map(|_| app.state.signin_queue.enter().expect("threads free"))
        .collect();
    app.state.db.close().await;
    let refused = attempt(&app, "2020100001", "061234", "10.0.0.9").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{refused:?}"
    );
    assert!(refused.body.contains("登录人数较多"), "{}", refused.body);
    assert!(refused.headers.contains_key("retry-after"), "{refused:?}");
}
