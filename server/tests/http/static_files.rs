//! The built files as a browser meets them: the brotli or gzip copy made at build time,
//! a year's cache for content-hashed names (revalidation for the others), 304 for a file
//! the browser has, pages compressed on the fly, and the worker and the offline page
//! naming this build's files.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::common::{Reply, TestApp};

async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    Reply::read(
        app.send(request.body(Body::empty()).expect("request"))
            .await,
    )
    .await
}

/// A site root holding a stylesheet under `name`, with a "brotli" copy beside it (its
/// bytes are only checked for being the ones sent).
fn write_site(app: &TestApp, name: &str) {
    let pkg = std::path::Path::new(&*app.state.leptos_options.site_root).join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    std::fs::write(pkg.join(name), "body { color: black; }\n".repeat(50)).expect("css");
    std::fs::write(pkg.join(format!("{name}.br")), "BROTLI").expect("br");
}

#[tokio::test]
async fn built_files_are_sent_precompressed_and_revalidated_by_name() {
    let app = TestApp::new().await;
    write_site(&app, "lixiao.css");
    let plain = get(&app, "/pkg/lixiao.css", &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert!(plain.body.starts_with("body {"));
    // Names without a hash may change meaning at a deploy: revalidated each time.
    assert_eq!(plain.headers["cache-control"], "no-cache");
    let compressed = get(&app, "/pkg/lixiao.css", &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(compressed.headers["content-encoding"], "br");
    assert_eq!(
        compressed.headers["vary"], "accept-encoding",
        "a shared cache keys it by encoding"
    );
    assert_eq!(
        compressed.body, "BROTLI",
        "the build-time copy, not a new compression"
    );
    // A browser that has the file gets 304 and no body.
    let modified = plain.headers["last-modified"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let again = get(&app, "/pkg/lixiao.css", &[("if-modified-since", &modified)]).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    // Anything else is the app's friendly 404 page.
    let missing = get(&app, "/pkg/nothing.js", &[("accept", "text/html")]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn content_hashed_names_are_cached_for_a_year() {
    let mut app = TestApp::new().await;
    let assets = app::assets::Assets::from_hashes(
        &app.state.leptos_options,
        "js: 1a2b\nwasm: 3c4d\ncss: 5e6f\n",
    );
    app.state = app.state.with_assets(assets);
    app.router = server::routes::router(app.state.clone());
    write_site(&app, "lixiao.5e6f.css");
    let css = get(&app, "/pkg/lixiao.5e6f.css", &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(
        css.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    // Anything else under /pkg is not this build's hashed name: revalidated.
    write_site(&app, "lixiao.css");
    let leftover = get(&app, "/pkg/lixiao.css", &[]).await;
    assert_eq!(leftover.status, StatusCode::OK);
    assert_eq!(leftover.headers["cache-control"], "no-cache");
    // The pages, the worker and the offline page name the hashed files.
    let login = app.page("/login", None).await;
    assert!(
        login.body.contains(r#"href="/pkg/lixiao.5e6f.css""#),
        "{}",
        login.body
    );
    let worker = app.page("/sw.js", None).await;
    for name in [
        "/pkg/lixiao.1a2b.js",
        "/pkg/lixiao.3c4d.wasm",
        "/pkg/lixiao.5e6f.css",
    ] {
        assert!(worker.body.contains(name), "{name} not precached");
    }
    assert!(!worker.body.contains("__LIXIAO_"));
    let offline = app.page("/offline.html", None).await;
    assert_eq!(offline.status, StatusCode::OK);
    assert!(offline.body.contains(r#"href="/pkg/lixiao.5e6f.css""#));
    assert!(offline.body.contains("0516-83592137"));
}

/// The answer to `request`, its body as bytes, gunzipped when it came gzipped.
async fn gunzipped(app: &TestApp, request: Request<Body>) -> (axum::http::HeaderMap, String) {
    use std::io::Read;
    let response = app.send(request).await;
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), 4 * 1024 * 1024)
        .await
        .expect("body");
    let mut text = String::new();
    if headers
        .get("content-encoding")
        .is_some_and(|value| value == "gzip")
    {
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .expect("a valid gzip body");
    } else {
        text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    }
    (headers, text)
}

#[tokio::test]
async fn pages_and_answers_are_compressed_on_the_fly_and_keep_their_headers() {
    let app = TestApp::new().await;
    let page = |encoding: &str| {
        Request::get("/login")
            .header("accept", "text/html")
            .header("accept-encoding", encoding)
            .body(Body::empty())
            .expect("request")
    };
    // Several in a row: each thread's compressor is reused, and every answer must still
    // be a whole gzip stream of its own page.
    for _ in 0..3 {
        let (headers, body) = gunzipped(&app, page("gzip")).await;
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["vary"], "accept-encoding");
        // Compressed whole, by the thread's compressor (a streamed answer has no length).
        assert!(headers.contains_key("content-length"));
        assert!(body.contains("统一身份认证"), "the page itself, decoded");
        assert!(body.contains("</html>"), "the whole page");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("'nonce-"),
            "the page's policy is still built from its nonce"
        );
        assert_eq!(headers["cache-control"], "no-store");
    }
    // Without Accept-Encoding, or with gzip refused, plain.
    // Still marked as varying by Accept-Encoding: a shared cache must not hand this plain
    // copy to the next client, or a compressed one to a client that refused it.
    let plain = app.page("/login", None).await;
    assert!(!plain.headers.contains_key("content-encoding"));
    assert_eq!(plain.headers["vary"], "accept-encoding");
    assert!(plain.body.contains("统一身份认证"));
    let (refused, body) = gunzipped(&app, page("gzip;q=0, identity")).await;
    assert!(!refused.contains_key("content-encoding"));
    assert_eq!(refused["vary"], "accept-encoding");
    assert!(body.contains("统一身份认证"));
    // Small answers and redirects go as they are: compressing would only add bytes.
    let small = |path: &str| {
        Request::get(path)
            .header("accept", "text/html")
            .header("accept-encoding", "gzip")
            .body(Body::empty())
            .expect("request")
    };
    let (version, body) = gunzipped(&app, small("/version.json")).await;
    assert!(body.len() < 512, "{body}");
    assert!(!version.contains_key("content-encoding"), "{version:?}");
    let (redirect, _) = gunzipped(&app, small("/")).await;
    assert!(redirect.contains_key("location"));
    assert!(!redirect.contains_key("content-encoding"), "{redirect:?}");
}
