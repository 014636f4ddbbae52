//! Request-level protections: cross-site request refusal (CSRF), security headers,
//! and the body-size and time limits. Each is a small axum middleware so the order
//! of protections reads in one place (`routes::router`).

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use app::AppError;

/// How to tell who the client is: the trusted reverse proxies, and whether the site is
/// served over HTTPS when no trusted proxy says otherwise (it is, unless the documented
/// switch for plain-HTTP local runs is on).
#[derive(Clone)]
pub struct Clients {
    pub proxies: app::net::TrustedProxies,
    pub https_by_default: bool,
}

/// Works out the client (address, HTTPS or not) once per request and hands it on as a
/// request extension: the sign-in limits, the audit trail, the cross-site check and HSTS
/// all read it from there.
pub async fn identify_client(
    State(clients): State<Clients>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(addr)| addr.ip());
    let client = app::net::ClientInfo::resolve(
        peer,
        request.headers(),
        &clients.proxies,
        clients.https_by_default,
    );
    request.extensions_mut().insert(client);
    next.run(request).await
}

/// The client worked out by [`identify_client`].
fn client_of(request: &Request) -> app::net::ClientInfo {
    request
        .extensions()
        .get::<app::net::ClientInfo>()
        .copied()
        .unwrap_or(app::net::ClientInfo {
            addr: None,
            https: true,
        })
}

/// Refuses state-changing requests that a browser sent from another origin.
///
/// Browsers label every request with `Sec-Fetch-Site` and every POST with `Origin`;
/// a forged cross-site form or fetch carries one of them and is refused with 403.
/// Requests with neither come from programs, not from a victim's browser.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    let https = client_of(&request).https;
    if is_safe(request.method()) || same_origin(request.headers(), https) {
        return next.run(request).await;
    }
    tracing::warn!(
        method = %request.method(),
        path = %request.uri().path(),
        origin = ?request.headers().get(header::ORIGIN),
        fetch_site = ?request.headers().get("sec-fetch-site"),
        "cross-site request refused"
    );
    refusal(
        request.headers(),
        StatusCode::FORBIDDEN,
        AppError::Forbidden,
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn same_origin(headers: &HeaderMap, https: bool) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        // "none" is the user's own action (a bookmark, the address bar), never a forgery.
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    match text(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let scheme = if https { "https" } else { "http" };
            text(header::HOST).is_some_and(|host| origin == format!("{scheme}://{host}"))
        }
    }
}

/// An error answer in the form the caller reads: JSON for script, a short page for a form.
pub fn refusal(request_headers: &HeaderMap, status: StatusCode, error: AppError) -> Response {
    if app::error::accepts_html(request_headers) {
        let page = format!(
            "<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>请求未被接受</title><p>{error}</p><p><a href=\"/hall\">返回办事大厅</a></p></html>"
        );
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page,
        )
            .into_response()
    } else {
        let body = serde_json::to_string(&error).unwrap_or_else(|_| "\"Internal\"".to_owned());
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// Headers every response gets. Pages get the page Content-Security-Policy, built here
/// from the script nonce Leptos wrote into the page (see [`page_policy`]); anything else
/// that sets none gets the strictest one.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let https = client_of(&request).https;
    let response = next.run(request).await;
    let mut response = with_page_policy(response).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "x-content-type-options", "nosniff");
    // same-origin keeps the Referer the no-JavaScript forms need to return to their page.
    set(headers, "referrer-policy", "same-origin");
    set(headers, "x-frame-options", "DENY");
    set(headers, "cross-origin-opener-policy", "same-origin");
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            headers,
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        );
    }
    if https {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    // Pages, server-function answers and exported lists carry personal data: never
    // store them.
    // The built assets (/pkg, icons) stay cacheable.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if (content_type.starts_with("text/html")
        || content_type.starts_with("application/json")
        || content_type.starts_with("text/csv"))
        && !headers.contains_key(header::CACHE_CONTROL)
    {
        set(headers, "cache-control", "no-store");
    }
    response
}

/// How long browsers keep the built files: a year, never revalidated, for the
/// content-hashed names (a new build has new names); the files whose names do not change
/// (icons, the manifest, pwa.js) are revalidated each time (304 while unchanged).
pub async fn cache_static(
    State(state): State<app::state::AppState>,
    request: Request,
    next: Next,
) -> Response {
    // Only the build's own content-hashed names are immutable: anything else under /pkg
    // (a leftover unhashed file, type declarations) may change at a deploy.
    let path = request.uri().path();
    let assets = &state.assets;
    let pkg = assets.hashed && [&assets.css, &assets.js, &assets.wasm].contains(&&path.to_owned());
    let mut response = next.run(request).await;
    let served = matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED);
    let headers = response.headers_mut();
    // A precompressed file (.br, .gz) differs by Accept-Encoding: a shared cache must not
    // hand the brotli copy to a client that did not ask for it.
    if headers.contains_key(header::CONTENT_ENCODING) && !headers.contains_key(header::VARY) {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if served && !headers.contains_key(header::CACHE_CONTROL) {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let personal =
            content_type.starts_with("text/html") || content_type.starts_with("application/json");
        let policy = if pkg {
            Some("public, max-age=31536000, immutable")
        } else if !personal {
            Some("no-cache")
        } else {
            None
        };
        if let Some(policy) = policy {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
        }
    }
    response
}

/// The policy of an HTML page: scripts only from us and only the inline ones carrying
/// this page's nonce (Leptos puts it on its hydration scripts), `wasm-unsafe-eval` so
/// the browser may compile our WebAssembly, the worker and the manifest from us.
pub fn page_policy(nonce: Option<&str>) -> String {
    let inline = nonce
        .map(|nonce| format!(" 'nonce-{nonce}'"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'{inline} 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         frame-ancestors 'none'; form-action 'self'"
    )
}

/// Gives an HTML answer without a policy of its own the page policy. The nonce is read
/// from the page itself, so the header and the page always agree: setting it while
/// rendering proved unreliable (once in a few hundred pages the header was missing, and
/// the page arrived without its styles and scripts).
async fn with_page_policy(response: Response) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_html
        || response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, PAGE_LIMIT_BYTES).await else {
        tracing::error!("a page larger than {PAGE_LIMIT_BYTES} bytes could not be sent");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let nonce = find_nonce(&bytes);
    if let Ok(policy) = HeaderValue::from_str(&page_policy(nonce.as_deref())) {
        parts
            .headers
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// No page of Lixiao comes near this; it bounds the copy made to read the nonce.
const PAGE_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// The value of the first `nonce="…"` attribute in the page, if it is a plain token.
fn find_nonce(page: &[u8]) -> Option<String> {
    const MARK: &[u8] = b"nonce=\"";
    let start = page.windows(MARK.len()).position(|window| window == MARK)? + MARK.len();
    let length = page[start..].iter().position(|byte| *byte == b'"')?;
    let nonce = std::str::from_utf8(&page[start..start + length]).ok()?;
    nonce
        .bytes()
        .all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'/' | b'=' | b'-' | b'_')
        })
        .then(|| nonce.to_owned())
}

/// No form or server-function call of Lixiao comes near this; anything larger is refused (413).
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// A desk's CSV file (8 MiB) and the multipart form around it.
pub const IMPORT_BODY_LIMIT_BYTES: usize = 9 * 1024 * 1024;

/// Reads the whole request body up front, refusing more than [`BODY_LIMIT_BYTES`] with 413,
/// whether announced by Content-Length or streamed in chunks. The handlers then never
/// see a body that fails half-way (which would otherwise surface as a server error).
pub async fn limit_body(request: Request, next: Next) -> Response {
    let too_large = |headers: &HeaderMap| {
        refusal(
            headers,
            StatusCode::PAYLOAD_TOO_LARGE,
            AppError::BadRequest("提交的内容过大。".to_owned()),
        )
    };
    // A desk's CSV upload and the roster are the larger bodies.
    let path = request.uri().path();
    let limit =
        if path == app::desk::import::UPLOAD_PATH || path == app::school::roster::UPLOAD_PATH {
            IMPORT_BODY_LIMIT_BYTES
        } else {
            BODY_LIMIT_BYTES
        };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|length| length > limit) {
        return too_large(request.headers());
    }
    let (parts, body) = request.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Err(_) => too_large(&parts.headers),
    }
}

/// Turns the timeout rejection into the app's error answer.
pub async fn friendly_timeout(request: Request, next: Next) -> Response {
    let request_headers = request.headers().clone();
    let response = next.run(request).await;
    match response.status() {
        StatusCode::REQUEST_TIMEOUT => refusal(
            &request_headers,
            StatusCode::REQUEST_TIMEOUT,
            AppError::BadRequest("请求超时，请稍后重试。".to_owned()),
        ),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_read_from_the_page_and_only_if_it_is_a_token() {
        assert_eq!(
            find_nonce(br#"<script nonce="aB3+/x==">x</script>"#).as_deref(),
            Some("aB3+/x==")
        );
        assert_eq!(find_nonce(b"<p>no scripts</p>"), None);
        assert_eq!(find_nonce(br#"<script nonce="a' 'unsafe-inline">"#), None);
        assert!(
            page_policy(Some("abc")).contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'")
        );
        assert!(!page_policy(None).contains("nonce"));
    }
}
