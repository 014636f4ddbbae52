//! The installable app's server side: the versioned service worker, the version
//! document, and the headers the worker keys students' saved pages by.

use axum::http::StatusCode;

use crate::common::TestApp;

#[tokio::test]
async fn the_service_worker_is_served_at_the_root_with_the_build_version() {
    let app = TestApp::with_env(&[("LIXIAO_BUILD_VERSION", "build-a")]).await;
    let reply = app.page("/sw.js", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.headers["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/javascript")
    );
    assert_eq!(reply.headers["cache-control"], "no-cache");
    assert!(reply.body.contains(r#"const VERSION = "build-a";"#));
    assert!(!reply.body.contains("__LIXIAO_VERSION__"));
    let csp = reply.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.contains("connect-src 'self'"),
        "the worker may fetch our pages: {csp}"
    );

    // Another build serves other bytes: the browser installs a new worker.
    let other = TestApp::with_env(&[("LIXIAO_BUILD_VERSION", "build-b")]).await;
    assert_ne!(other.page("/sw.js", None).await.body, reply.body);

    let (status, body) = app.get("/version.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("json"),
        serde_json::json!({ "version": "build-a" })
    );
}

#[tokio::test]
async fn without_a_configured_version_the_build_files_decide_it() {
    let a = TestApp::new().await;
    let b = TestApp::new().await;
    // Same (absent) bundle: same version, whatever the process.
    assert_eq!(a.state.build_version, b.state.build_version);
    assert_eq!(a.state.build_version.len(), 16);
}

#[tokio::test]
async fn every_page_links_the_manifest_and_allows_the_worker() {
    let app = TestApp::with_env(&[("LIXIAO_BUILD_VERSION", "build-a")]).await;
    let reply = app.page("/login", None).await;
    for part in [
        r#"<link rel="manifest" href="/manifest.webmanifest""#,
        r#"<link rel="apple-touch-icon" href="/icons/apple-touch-icon.png""#,
        r#"<meta name="apple-mobile-web-app-capable" content="yes""#,
        r##"<meta name="theme-color" content="#0b5394""##,
        r#"<meta name="lixiao-version" content="build-a""#,
    ] {
        assert!(reply.body.contains(part), "{part} missing");
    }
    let csp = reply.headers["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(csp.contains("worker-src 'self'"), "{csp}");
    assert!(csp.contains("manifest-src 'self'"), "{csp}");
}

#[tokio::test]
async fn pages_name_the_students_offline_cache_and_nobody_elses() {
    let app = TestApp::with_demo_students().await;
    let anonymous = app.page("/login", None).await;
    assert!(anonymous.headers.contains_key("x-lixiao-version"));
    assert!(
        !anonymous.headers.contains_key("x-lixiao-cache-key"),
        "a page served to nobody names no cache: the worker then forgets saved pages"
    );

    let wang = app.sign_in("2020100001", "061234").await;
    let li = app.sign_in("2020100002", "12002X").await;
    let key = |cookie: &str| {
        let app = &app;
        let cookie = cookie.to_owned();
        async move {
            let reply = app.page("/clearance", Some(&cookie)).await;
            assert_eq!(reply.status, StatusCode::OK);
            reply.headers["x-lixiao-cache-key"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    let wang_key = key(&wang).await;
    assert_eq!(wang_key, key(&wang).await, "stable for one student");
    assert_ne!(wang_key, key(&li).await, "different for another");
    assert!(!wang_key.contains("2020100001"), "nothing personal in it");

    // Signed out: no key any more.
    app.post("/api/logout", &[], Some(&wang)).await;
    let after = app.page("/login", Some(&wang)).await;
    assert!(!after.headers.contains_key("x-lixiao-cache-key"));
    // JSON answers are not tagged.
    let json = app.post("/api/clearance", &[], Some(&li)).await;
    assert!(!json.headers.contains_key("x-lixiao-cache-key"));
}
