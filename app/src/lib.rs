//! Lixiao's shared application: the same crate renders pages on the server
//! (`ssr`) and hydrates them in the browser (`hydrate`).

pub mod error;
pub use error::AppError;
mod hydration;
mod pages;

#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    StaticSegment,
    components::{Route, Router, Routes},
};

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
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
            <main class="page">
                <Routes fallback=pages::NotFound>
                    <Route path=StaticSegment("") view=pages::Home />
                </Routes>
            </main>
        </Router>
    }
}
