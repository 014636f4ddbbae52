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
