//! Request-level protections: cross-site refusal, headers, cookie flags, size limits.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use futures_util::StreamExt;

use crate::common::{Reply, TestApp};

const HOST: &str = "lixiao.test";

async fn post_from(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post(path)
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::read(
        app.send(
            request
                .body(Body::from("student_number=2020100001&password=061234"))
                .expect("request"),
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn state_changing_requests_from_another_origin_are_refused() {
    let app = TestApp::with_demo_students().await;
    let forged = [
        vec![("origin", "https://evil.example")],
        vec![("origin", "http://lixiao.test")], // wrong scheme: the site is HTTPS
        vec![("origin", "https://lixiao.test:8443")], // wrong port
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "https://lixiao.test"),
        ],
    ];
    for headers in forged {
        for path in [
            "/api/login",
            "/api/submit_departure",
            "/api/cancel_library_card",
            "/api/logout",
        ] {
            let reply = post_from(&app, path, &headers).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path} {headers:?}: {reply:?}"
            );
            assert!(reply.cookie.is_none(), "{path}: no session was started");
        }
    }
    // The same request from the site itself goes through.
    let own = post_from(
        &app,
        "/api/login",
        &[
            ("origin", "https://lixiao.test"),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert!(own.status.is_success(), "{own:?}");
}

#[tokio::test]
async fn no_state_changing_server_function_answers_a_get() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    for path in [
        "/api/login",
        "/api/logout",
        "/api/submit_departure",
        "/api/cancel_library_card",
        "/api/change_password",
    ] {
        let request = Request::get(path)
            .header("cookie", &cookie)
            .body(Body::empty())
            .expect("request");
        let status = app.send(request).await.status();
        assert!(
            status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_FOUND,
            "{path}: {status}"
        );
    }
    let departures: i64 = app
        .count("SELECT COUNT(*) FROM departures WHERE student_number = '2020100001'")
        .await;
    assert_eq!(departures, 0);
}

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_are_never_cached() {
    let app = TestApp::new().await;
    let response = app
        .send(
            Request::get("/login")
                .header("accept", "text/html")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"].to_str().expect("ascii");
    for part in [
        "script-src 'self' 'nonce-",
        "'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP lacks {part}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("nonce");
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = String::from_utf8_lossy(&body);
    assert!(
        body.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );

    // A second page gets a different nonce.
    let again = app
        .send(
            Request::get("/login")
                .header("accept", "text/html")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_ne!(
        again.headers()["content-security-policy"],
        headers["content-security-policy"]
    );
}

#[tokio::test]
async fn plain_http_runs_drop_hsts_and_the_secure_flag() {
    let app = TestApp::plain_http().await;
    assert!(
        app::db::demo::seed(&app.state.db, app.state.slip_keys().expect("key"))
            .await
            .expect("seeds")
    );
    let reply = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", "061234")],
            None,
        )
        .await;
    assert!(reply.status.is_success(), "{reply:?}");
    assert!(reply.headers.get("strict-transport-security").is_none());
    let cookie = reply.headers["set-cookie"].to_str().expect("ascii");
    assert!(!cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_secure() {
    let app = TestApp::with_demo_students().await;
    let reply = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", "061234")],
            None,
        )
        .await;
    let cookie = reply.headers["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for attribute in [
        "lixiao_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Secure",
        "Path=/",
        // Idle sessions end after 30 minutes (activity pushes the end out: see
        // `activity_keeps_a_session_alive_past_the_idle_limit`).
        "Max-Age=1800",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert_eq!(
        reply.headers["cache-control"], "no-store",
        "server-function answers are not cached"
    );
}

#[tokio::test]
async fn oversized_requests_get_413_and_nothing_is_read() {
    let app = TestApp::with_demo_students().await;
    let password = "x".repeat(200 * 1024);
    let reply = app
        .post(
            "/api/login",
            &[("student_number", "2020100001"), ("password", &password)],
            None,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("提交的内容过大"), "{}", reply.body);

    // Announced by Content-Length: refused before a byte of the body is read.
    let request = Request::post("/api/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("content-length", "10000000")
        .body(Body::from("student_number=1"))
        .expect("request");
    assert_eq!(
        app.send(request).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

#[tokio::test]
async fn a_request_that_dawdles_past_the_timeout_gets_408() {
    let app = TestApp::with_env(&[("LIXIAO_REQUEST_TIMEOUT_SECS", "1")]).await;
    // A client that sends half a body and then stalls.
    let body = futures_util::stream::once(async {
        Ok::<_, std::io::Error>("student_number=1".to_owned())
    })
    .chain(futures_util::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        Ok("&password=x".to_owned())
    }));
    let request = Request::post("/api/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from_stream(body))
        .expect("request");
    let reply = Reply::read(app.send(request).await).await;
    assert_eq!(reply.status, StatusCode::REQUEST_TIMEOUT, "{reply:?}");
    assert!(reply.body.contains("请求超时"), "{}", reply.body);
}

/// Calls the clearance server function with `cookie`; returns the status and whether the
/// answer set the session cookie again (which it does when activity was recorded).
async fn use_session(app: &TestApp, cookie: &str) -> (StatusCode, bool) {
    let reply = app.post("/api/clearance", &[], Some(cookie)).await;
    (reply.status, reply.headers.contains_key("set-cookie"))
}

async fn pause(seconds: f64) {
    tokio::time::sleep(std::time::Duration::from_secs_f64(seconds)).await;
}

#[tokio::test]
async fn activity_keeps_a_session_alive_past_the_idle_limit() {
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SESSION_IDLE_SECS", "2")]).await;
    let cookie = app.sign_in("2020100001", "061234").await;
    // Used every half second for 5 seconds, well past the 2-second idle limit.
    for _ in 0..10 {
        pause(0.5).await;
        assert_eq!(use_session(&app, &cookie).await.0, StatusCode::OK);
    }
    // Left alone past the idle limit, it ends.
    pause(3.0).await;
    assert_eq!(use_session(&app, &cookie).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_absolute_limit_ends_even_an_active_session() {
    let app = TestApp::with_env_and_demo_students(&[
        ("LIXIAO_SESSION_IDLE_SECS", "2"),
        ("LIXIAO_SESSION_MAX_SECS", "3"),
    ])
    .await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        pause(0.5).await;
        statuses.push(use_session(&app, &cookie).await.0);
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn page_views_do_not_write_the_session_every_time() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100001", "061234").await;
    for _ in 0..3 {
        let (status, rewritten) = use_session(&app, &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            !rewritten,
            "activity is recorded at most once a minute with the 30-minute limit"
        );
    }
}

/// A session row is keyed by a digest of the cookie, so a copy of the database opens no
/// session; it keeps the login and the session's own values, never the account's state,
/// which is read afresh with the session on every request.
#[tokio::test]
async fn a_session_row_holds_no_usable_cookie_and_no_copy_of_the_account() {
    // A 3-second idle limit: every use writes the session back (see `touch_interval`).
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SESSION_IDLE_SECS", "3")]).await;
    let cookie = app.sign_in("2020100001", "061234").await;
    let id = cookie.split('=').nth(1).expect("cookie value");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM sessions WHERE id = '{id}'"))
            .await,
        0,
        "the cookie's value is not stored"
    );
    let key = app::db::sessions::key(id);
    assert_eq!(
        app.text(&format!("SELECT login FROM sessions WHERE id = '{key}'"))
            .await
            .as_deref(),
        Some("2020100001")
    );
    // Loaded with its account, used a second later, written back: without the account.
    pause(1.1).await;
    let (status, rewritten) = use_session(&app, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(rewritten, "the short idle limit writes on every use");
    let data = app
        .text(&format!("SELECT data FROM sessions WHERE id = '{key}'"))
        .await
        .expect("row");
    assert!(data.contains("seen_at"), "{data}");
    assert!(!data.contains("session_generation"), "{data}");
    // The account is read afresh with the session: once it is gone, so is the session.
    app.exec("UPDATE accounts SET login = 'renamed' WHERE login = '2020100001'")
        .await;
    assert_eq!(use_session(&app, &cookie).await.0, StatusCode::UNAUTHORIZED);
}

/// Two cookies with the session's name (another Path or Domain can set one): the page
/// and sign-out must mean one session, the one the session layer writes to. (The page
/// once read the first cookie while the layer used the last: the page showed one
/// student and 退出 ended the other's session.)
#[tokio::test]
async fn with_two_session_cookies_the_page_and_sign_out_mean_one_session() {
    let app = TestApp::with_demo_students().await;
    let zhang = app.sign_in("2020100001", "061234").await;
    let li = app.sign_in("2020100002", "12002X").await;
    let both = format!("{zhang}; {li}");
    let page = app.post("/api/clearance", &[], Some(&both)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("2020100002"), "{}", page.body);
    assert!(!page.body.contains("2020100001"), "{}", page.body);
    let out = app.post("/api/logout", &[], Some(&both)).await;
    assert!(
        out.status.is_success() || out.status.is_redirection(),
        "{}",
        out.status
    );
    // The session the page showed is the one that ended; the other is untouched.
    assert_eq!(use_session(&app, &li).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(use_session(&app, &zhang).await.0, StatusCode::OK);
}

#[tokio::test]
async fn expired_sessions_are_deleted_from_the_store() {
    let app = TestApp::with_env_and_demo_students(&[("LIXIAO_SESSION_IDLE_SECS", "1")]).await;
    app.sign_in("2020100001", "061234").await;
    let live = app.sign_in("2020100002", "12002X").await;
    let count = || async { app.count("SELECT COUNT(*) FROM sessions").await };
    assert_eq!(count().await, 2);
    pause(2.5).await;
    // Keeps one of them alive...
    let live_key = app::db::sessions::key(live.split('=').nth(1).expect("cookie value"));
    with_pool!(&app.state.db, pool => { sqlx::query("UPDATE sessions SET expires_at = $1 WHERE id = $2")
        .bind(app::clock::unix_now() + 300)
        .bind(&live_key)
        .execute(pool)
        .await
        .expect("extend"); });
    server::sessions::delete_expired(&server::sessions::Store::new(
        &app.state.db,
        &app.state.lane,
    ))
    .await
    .expect("clean-up");
    assert_eq!(count().await, 1, "only the live session is left");
}
