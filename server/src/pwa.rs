//! The installable app's server side: the service worker (versioned by the build), the
//! version document the page checks, and the headers that let the worker keep each
//! student's pages apart.

use app::state::AppState;
use axum::{
    Json,
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

const SERVICE_WORKER: &str = include_str!("pwa/sw.js");
const OFFLINE_PAGE: &str = include_str!("pwa/offline.html");

/// `GET /sw.js`: the worker with this build's version in it. Never cached by the HTTP
/// cache, so the browser sees a new build at once; allowed to control the whole site.
pub async fn service_worker(State(state): State<AppState>) -> Response {
    let script = SERVICE_WORKER
        .replace("__LIXIAO_VERSION__", &state.build_version)
        .replace("__LIXIAO_JS__", &state.assets.js)
        .replace("__LIXIAO_WASM__", &state.assets.wasm)
        .replace("__LIXIAO_CSS__", &state.assets.css);
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            // The worker fetches our own pages and files, and nothing else.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; connect-src 'self'",
            ),
        ],
        script,
    )
        .into_response()
}

/// `GET /offline.html`: what the worker shows offline for a page it has not kept,
/// styled by this build's stylesheet. Static but for that name; the worker keeps it.
pub async fn offline_page(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        OFFLINE_PAGE.replace("__LIXIAO_CSS__", &state.assets.css),
    )
        .into_response()
}

/// `GET /version.json`: which build the server runs, for pages left open across a deploy.
pub async fn version(State(state): State<AppState>) -> Response {
    Json(serde_json::json!({ "version": &*state.build_version })).into_response()
}

/// Tags every page with the build that rendered it (`X-Lixiao-Version`) and, for a
/// signed-in account, the key of its offline page cache (`X-Lixiao-Cache-Key`). A page
/// without the key was served to nobody: the worker then forgets every saved page.
pub async fn tag_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Session>().cloned();
    let memo = request
        .extensions()
        .get::<app::auth::session::SignedInMemo>()
        .cloned();
    let mut response = next.run(request).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_page {
        return response;
    }
    if let Ok(version) = HeaderValue::from_str(&state.build_version) {
        response.headers_mut().insert("x-lixiao-version", version);
    }
    // Whom the page was rendered for: its answer of who is signed in, or else (a page
    // that did not ask, or a request that signed in or out) the session's login.
    let login = match memo.and_then(|memo| memo.answered_login()) {
        Some(login) => login,
        None => match session {
            Some(session) => app::auth::session::login_of(&session).await,
            None => None,
        },
    };
    if let Some(login) = login
        && let Ok(key) = HeaderValue::from_str(&app::pwa::page_cache_key(&login))
    {
        response.headers_mut().insert("x-lixiao-cache-key", key);
    }
    response
}
