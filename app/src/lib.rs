//! Lixiao's shared application: the same crate renders pages on the server
//! (`ssr`) and hydrates them in the browser (`hydrate`).

pub mod auth;
pub mod clearance;
pub mod error;
mod hydration;
mod layout;
mod pages;

pub use error::AppError;

/// Where server functions are mounted.
pub const API_PREFIX: &str = "/api/";

#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod net;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Redirect, Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="theme-color" content="#0b5394" />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from us and only the inline ones
/// carrying this response's nonce (Leptos puts it on its hydration scripts), and
/// `wasm-unsafe-eval` so the browser may compile our WebAssembly.
#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/lixiao.css" />
        <Title formatter=|page: String| {
            if page.is_empty() { "离校 · 研究生离校信息查询".to_owned() } else { format!("{page} · 离校") }
        } />
        <hydration::MarkHydrated />
        <Router>
            <Pages />
        </Router>
    }
}

/// Every page waits for its data before the first byte is sent (`SsrMode::Async`), so a
/// redirect to the sign-in page or an error status can still be set, and pages without
/// JavaScript arrive complete.
#[component]
fn Pages() -> impl IntoView {
    layout::provide_current_user();
    view! {
        <layout::Header />
        <main class="page">
            <Routes fallback=pages::NotFound>
                <Route path=StaticSegment("") view=|| view! { <Redirect path="/hall" /> } ssr=SsrMode::Async />
                <Route path=path!("/login") view=auth::LoginPage ssr=SsrMode::Async />
                <Route path=path!("/password") view=auth::ChangePasswordPage ssr=SsrMode::Async />
                <Route path=path!("/hall") view=pages::HallPage ssr=SsrMode::Async />
                <Route path=path!("/clearance") view=clearance::ClearancePage ssr=SsrMode::Async />
                <Route path=path!("/completed") view=clearance::CompletedPage ssr=SsrMode::Async />
                <Route path=path!("/completed/slip") view=clearance::SlipPage ssr=SsrMode::Async />
            </Routes>
        </main>
        <layout::Footer />
    }
}
