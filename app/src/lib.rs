//! Lixiao's shared application: the same crate renders pages on the server
//! (`ssr`) and hydrates them in the browser (`hydrate`).

pub mod auth;
pub mod clearance;
pub mod desk;
pub mod error;
mod hydration;
mod layout;
mod pages;
pub mod pwa;
pub mod school;
pub mod verify;

pub use error::AppError;

/// Where server functions are mounted.
pub const API_PREFIX: &str = "/api/";

#[cfg(feature = "ssr")]
pub mod assets;
#[cfg(feature = "ssr")]
pub mod clock;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod net;
#[cfg(feature = "ssr")]
pub mod rate;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod sync;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Redirect, Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="zh-CN">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta
                    name="description"
                    content="研究生离校信息查询：核对图书馆、档案馆、公寓、财务四个离校审核事项，提交并打印离校流程单。"
                />
                <meta name="theme-color" content="#0b5394" />
                <meta name=pwa::VERSION_META content=build_version() />
                <link rel="stylesheet" id="leptos" href=stylesheet() />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <link rel="apple-touch-icon" href="/icons/apple-touch-icon.png" />
                <meta name="mobile-web-app-capable" content="yes" />
                <meta name="apple-mobile-web-app-capable" content="yes" />
                <meta name="apple-mobile-web-app-title" content="离校" />
                <meta name="apple-mobile-web-app-status-bar-style" content="default" />
                <script src="/pwa.js" defer></script>
                <AutoReload options=options.clone() />
                <IslandScripts />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// What `<HydrationScripts islands=true />` writes: the bundle preloaded, and Leptos's
/// island loader (`island_loader.js`, copied from leptos 0.8's `island_script.js`),
/// which imports it when the browser is idle and hydrates each island. Leptos's
/// component reads `hash.txt` from disk on every page it renders; the names and the loader's call here come from `AppState.assets`, made once
/// at start.
#[component]
fn IslandScripts() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        // Islands mode: the page outside the islands is never hydrated.
        if let Some(context) = Owner::current_shared_context() {
            context.set_is_hydrating(false);
        }
        // Without the state (never on a served page), the unhashed names.
        static PLAIN: std::sync::LazyLock<std::sync::Arc<assets::Assets>> =
            std::sync::LazyLock::new(|| {
                let options = LeptosOptions::builder().output_name("lixiao").build();
                std::sync::Arc::new(assets::Assets::from_hashes(&options, ""))
            });
        let assets = use_context::<state::AppState>()
            .map(|state| state.assets.clone())
            .unwrap_or_else(|| PLAIN.clone());
        let (js, wasm, loader) = (
            assets.js.clone(),
            assets.wasm.clone(),
            assets.island_loader.clone(),
        );
        let nonce = leptos::nonce::use_nonce();
        let wasm_crossorigin = nonce
            .as_ref()
            .map(|nonce| nonce.to_string())
            .unwrap_or_default();
        view! {
            <link rel="modulepreload" href=js crossorigin=nonce.clone() />
            <link
                rel="preload"
                href=wasm
                r#as="fetch"
                r#type="application/wasm"
                crossorigin=wasm_crossorigin
            />
            <script type="module" nonce=nonce>{loader}</script>
        }
    }
}

/// The stylesheet's address (content-hashed in a release build).
fn stylesheet() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<state::AppState>()
            .map(|state| state.assets.css.clone())
            .unwrap_or_else(|| "/pkg/lixiao.css".to_owned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

/// The build this page belongs to, for the page's service-worker code.
fn build_version() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<state::AppState>()
            .map(|state| state.build_version.to_string())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        String::new()
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| {
            if page.is_empty() { "离校 · 研究生离校信息查询".to_owned() } else { format!("{page} · 离校") }
        } />
        <hydration::MarkHydrated />
        <pwa::UpdatePrompt />
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
        <pwa::SaveForOffline />
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
                <Route path=path!("/desk") view=desk::DeskPage ssr=SsrMode::Async />
                <Route path=path!("/desk/batch") view=desk::DeskBatchPage ssr=SsrMode::Async />
                <Route path=path!("/desk/import") view=desk::import::DeskImportPage ssr=SsrMode::Async />
                <Route path=path!("/desk/reset") view=desk::accounts::ResetPasswordPage ssr=SsrMode::Async />
                <Route path=path!("/desk/overview") view=school::OverviewPage ssr=SsrMode::Async />
                <Route path=path!("/desk/overview/list") view=school::CohortListPage ssr=SsrMode::Async />
                <Route path=path!("/desk/departures") view=school::DeparturesPage ssr=SsrMode::Async />
                <Route path=path!("/desk/departures/revoke") view=school::DepartureRevokePage ssr=SsrMode::Async />
                <Route path=path!("/desk/roster") view=school::RosterPage ssr=SsrMode::Async />
                <Route path=path!("/admin") view=desk::accounts::AdminPage ssr=SsrMode::Async />
                <Route path=path!("/desk/student/:number") view=desk::DeskStudentPage ssr=SsrMode::Async />
                <Route path=path!("/verify") view=verify::VerifyPage ssr=SsrMode::Async />
                <Route path=path!("/verify/:code") view=verify::VerifyPage ssr=SsrMode::Async />
            </Routes>
        </main>
        <layout::Footer />
    }
}
