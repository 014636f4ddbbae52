//! The HTTP shell: health check, the rendered document, the 404 page.

use crate::common::TestApp;

#[tokio::test]
async fn healthz_answers_ok_when_the_database_answers() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
}

#[tokio::test]
async fn healthz_reports_an_unavailable_database() {
    let app = TestApp::new().await;
    app.state.db.close().await;
    let (status, body) = app.get("/healthz").await;
    assert_eq!(status, 503);
    assert_eq!(body, "database unavailable");
}

#[tokio::test]
async fn the_sign_in_page_is_a_chinese_document_that_loads_the_app() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/login").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.contains(r#"<html lang="zh-CN""#), "{body}");
    assert!(body.contains(r#"name="viewport""#));
    assert!(body.contains("/pkg/lixiao.css"));
    assert!(
        body.contains("/pkg/lixiao.js"),
        "hydration script is linked"
    );
    assert!(body.contains("统一身份认证"));
}

#[tokio::test]
async fn the_root_leads_to_the_service_hall() {
    let app = TestApp::new().await;
    let reply = app.page("/", None).await;
    assert_eq!(reply.status, 302, "{reply:?}");
    assert_eq!(reply.location.as_deref(), Some("/hall"));
}

#[tokio::test]
async fn an_unknown_route_is_a_friendly_404() {
    let app = TestApp::new().await;
    let (status, body) = app.get("/no/such/page").await;
    assert_eq!(status, 404);
    assert!(body.contains("页面不存在"), "{body}");
    assert!(body.contains(r#"href="/""#));
}

/// The header names the signed-in student whichever way the page learnt who it is:
/// read before rendering (the app's routes, `session::read_before_render`) or while
/// rendering (the 404, drawn outside them). An ended session, and staff on the student's
/// page, get what they got before.
#[tokio::test]
async fn the_header_names_the_student_whether_read_before_or_while_rendering() {
    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100002", "12002X").await;
    for (path, status) in [
        ("/clearance", 200),
        ("/hall", 200),
        ("/completed", 200),
        ("/no/such/page", 404),
    ] {
        let reply = app.page(path, Some(&cookie)).await;
        assert_eq!(reply.status, status, "{path}: {reply:?}");
        assert!(
            reply.body.contains(r#"<span class="who">李娜</span>"#),
            "{path}: {}",
            reply.body
        );
    }
    let anonymous = app.page("/no/such/page", None).await;
    assert!(!anonymous.body.contains(r#"class="who""#), "{anonymous:?}");

    let librarian = app.sign_in("library_demo", "Library-demo-2020").await;
    let refused = app.page("/clearance", Some(&librarian)).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        refused.body.contains("您没有权限进行此操作。"),
        "{refused:?}"
    );
    assert!(
        !refused.body.contains(r#"id="offices-title""#),
        "{refused:?}"
    );

    let signed_out = app.post("/api/logout", &[], Some(&cookie)).await;
    assert!(signed_out.status.is_redirection() || signed_out.status.is_success());
    let ended = app.page("/clearance", Some(&cookie)).await;
    assert_eq!(ended.location.as_deref(), Some("/login"), "{ended:?}");
    assert!(!ended.body.contains(r#"class="who""#), "{ended:?}");
}

/// `session::read_before_render` works out who is signed in before a page's handler
/// runs, so the page draws without waiting; only for page GETs: server functions (which
/// sign in and out) and other methods ask for themselves.
#[tokio::test]
async fn who_is_signed_in_is_read_before_a_page_renders_and_only_for_pages() {
    use app::auth::session::{SignedInMemo, attach_memo, read_before_render};
    use axum::{
        Router,
        body::Body,
        extract::Request,
        middleware::{from_fn, from_fn_with_state},
        response::IntoResponse,
        routing::get,
    };
    use tower::ServiceExt as _;

    async fn answered(request: Request) -> axum::response::Response {
        let answer = match request
            .extensions()
            .get::<SignedInMemo>()
            .and_then(SignedInMemo::answered_login)
        {
            Some(Some(login)) => login,
            Some(None) => "nobody".to_owned(),
            None => "not read".to_owned(),
        };
        ([("x-answered", answer)], ()).into_response()
    }

    let app = TestApp::with_demo_students().await;
    let cookie = app.sign_in("2020100002", "12002X").await;
    let state = app.state.clone();
    let probe = Router::new()
        .route("/hall", get(answered).post(answered))
        .route("/api/who", get(answered).post(answered))
        .route_layer(from_fn_with_state(state.clone(), read_before_render))
        .layer(from_fn(attach_memo))
        .layer(server::sessions::layer(
            server::sessions::Store::new(&state.db, &state.lane),
            true,
            state.config.session_idle,
        ));
    for (method, path, cookie, expected) in [
        ("GET", "/hall", Some(&cookie), "2020100002"),
        ("GET", "/hall", None, "nobody"),
        ("POST", "/hall", Some(&cookie), "not read"),
        ("GET", "/api/who", Some(&cookie), "not read"),
        ("POST", "/api/who", Some(&cookie), "not read"),
    ] {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie.as_str());
        }
        let response = probe
            .clone()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("answer");
        let answer = response
            .headers()
            .get("x-answered")
            .and_then(|value| value.to_str().ok());
        assert_eq!(answer, Some(expected), "{method} {path}");
    }
}

/// Servers built while others answer (as the tests do, each with its own runtime on its
/// own thread) once left a page waiting for ever: generating leptos's route list renders
/// the app, and doing that on one thread could lose another thread's wake-up, so a page
/// hung until the 30 s request limit answered 408. The route list is now made once per
/// process. A hang shows here as a request still unanswered after 5 s.
#[test]
fn pages_render_while_other_servers_are_being_built() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let unanswered = std::sync::Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let unanswered = unanswered.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async {
                    for _ in 0..12 {
                        let app = TestApp::new().await;
                        for _ in 0..10 {
                            let answer = tokio::time::timeout(
                                std::time::Duration::from_secs(5),
                                app.get("/no/such/page"),
                            )
                            .await;
                            match answer {
                                Ok((404, _)) => {}
                                other => {
                                    eprintln!("unexpected answer: {:?}", other.map(|(s, _)| s));
                                    unanswered.fetch_add(1, Ordering::SeqCst);
                                }
                            }
                        }
                    }
                });
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("thread");
    }
    assert_eq!(
        unanswered.load(Ordering::SeqCst),
        0,
        "pages left unanswered"
    );
}
