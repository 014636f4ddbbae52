//! The installed app (PWA): the build version that keys the service worker, the
//! "有新版本" prompt and the "安装到主屏幕" offer. The worker itself is served by the
//! server (`/sw.js`); this is the page's side of it, which runs only in the browser.

use leptos::prelude::*;

/// Where the page finds the build it was rendered by (read by the page's code).
pub const VERSION_META: &str = "lixiao-version";

/// The build version: a short hash of the built browser files (so each deploy of a
/// changed bundle installs a new service worker), unless configured explicitly.
#[cfg(feature = "ssr")]
pub fn build_version(
    options: &LeptosOptions,
    assets: &crate::assets::Assets,
    configured: Option<&str>,
) -> String {
    if let Some(version) = configured.filter(|version| !version.trim().is_empty()) {
        return version.trim().to_owned();
    }
    let root = std::path::Path::new(&*options.site_root);
    let mut hash = Fnv::default();
    hash.write(env!("CARGO_PKG_VERSION").as_bytes());
    for file in [&assets.js, &assets.wasm, &assets.css] {
        if let Ok(bytes) = std::fs::read(root.join(file.trim_start_matches('/'))) {
            hash.write(&bytes);
        }
    }
    format!("{:016x}", hash.0)
}

/// 64-bit FNV-1a: stable across processes and servers (unlike std's hasher), and
/// plenty for telling builds and students' page caches apart. Not a security measure.
#[cfg(feature = "ssr")]
pub struct Fnv(pub u64);

#[cfg(feature = "ssr")]
impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

#[cfg(feature = "ssr")]
impl Fnv {
    pub fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The key of a student's offline page cache: not the student number itself, so the
/// cache names in the browser carry nothing personal.
#[cfg(feature = "ssr")]
pub fn page_cache_key(login: &str) -> String {
    let mut hash = Fnv::default();
    hash.write(b"lixiao-pages:");
    hash.write(login.as_bytes());
    format!("{:016x}", hash.0)
}

/// Registers the service worker and offers a waiting new version: "有新版本" with a
/// button that reloads into it. Renders nothing on the server and until there is one.
#[island]
pub fn UpdatePrompt() -> impl IntoView {
    let (waiting, set_waiting) = signal(false);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::start(set_waiting);
        #[cfg(not(feature = "hydrate"))]
        let _ = set_waiting;
    });
    let update = move |_| {
        #[cfg(feature = "hydrate")]
        browser::activate_waiting();
    };
    view! {
        <Show when=move || waiting.get()>
            <div class="update-banner" role="status">
                <span>"有新版本"</span>
                <button type="button" class="primary" on:click=update>
                    "立即更新"
                </button>
            </div>
        </Show>
    }
}

/// Tells the service worker which page the student is on, so the pages kept for offline
/// use follow moves inside the app (the router fetches data, not pages, and the worker
/// would otherwise only see the first page loaded).
#[island]
pub fn SaveForOffline() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(path) = web_sys::window().and_then(|window| window.location().pathname().ok()) {
            browser::save_for_offline(&path);
        }
    });
}

/// "安装到主屏幕" where the browser offers installation; on iOS Safari, which has no such
/// offer, a short instruction instead. Nothing once the app runs installed.
#[island]
pub fn InstallOffer() -> impl IntoView {
    let (offer, set_offer) = signal(Offer::None);
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        browser::watch_install_offer(set_offer);
        #[cfg(not(feature = "hydrate"))]
        let _ = set_offer;
    });
    let install = move |_| {
        #[cfg(feature = "hydrate")]
        browser::prompt_install(set_offer);
    };
    view! {
        {move || match offer.get() {
            Offer::None => None,
            Offer::Prompt => Some(view! {
                <p class="install">
                    <button type="button" class="secondary" on:click=install>
                        "安装到主屏幕"
                    </button>
                </p>
            }.into_any()),
            Offer::IosInstructions => Some(view! {
                <p class="install hint">
                    "安装到主屏幕：在 Safari 中点击底部的“分享”按钮，再选择“添加到主屏幕”。"
                </p>
            }.into_any()),
        }}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    None,
    Prompt,
    IosInstructions,
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The browser APIs behind the prompts, through web-sys.

    use leptos::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    use wasm_bindgen::{JsCast, JsValue, closure::Closure};
    use wasm_bindgen_futures::JsFuture;

    use super::{Offer, VERSION_META};

    /// How often an open page asks the server which build it runs.
    const CHECK_EVERY_MS: i32 = 10 * 60 * 1000;

    fn page_version() -> Option<String> {
        let document = web_sys::window()?.document()?;
        let meta = document
            .query_selector(&format!("meta[name=\"{VERSION_META}\"]"))
            .ok()??;
        meta.get_attribute("content")
    }

    fn container() -> Option<web_sys::ServiceWorkerContainer> {
        let navigator = web_sys::window()?.navigator();
        // Absent in insecure contexts and some embedded browsers.
        js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker"))
            .ok()
            .filter(|present| *present)?;
        Some(navigator.service_worker())
    }

    /// Registers `/sw.js` for this build and watches for a newer one.
    pub fn start(set_waiting: WriteSignal<bool>) {
        let (Some(container), Some(version)) = (container(), page_version()) else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let promise = container.register(&format!("/sw.js?v={version}"));
            let Ok(registration) = JsFuture::from(promise).await else {
                return;
            };
            let registration: web_sys::ServiceWorkerRegistration = registration.unchecked_into();
            watch_registration(&registration, set_waiting);
            // The new worker took over after the student chose to update: show the new
            // version. (A first install also changes the controller: no reload then.)
            let reload = Closure::<dyn FnMut()>::new(|| {
                if UPDATE_CHOSEN.load(Ordering::Relaxed)
                    && let Some(window) = web_sys::window()
                {
                    // (Set by accepting the prompt here or in another tab: either way
                    // the new version now controls this page.)
                    let _ = window.location().reload();
                }
            });
            container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
            reload.forget();
            poll_server_version(registration, version);
        });
    }

    /// Whether a controller change means "reload into the new version": true once an
    /// update has been offered on this page.
    static UPDATE_CHOSEN: AtomicBool = AtomicBool::new(false);

    /// Shows the prompt when a new worker is waiting (a controller exists, so this is an
    /// update rather than the first install).
    fn watch_registration(
        registration: &web_sys::ServiceWorkerRegistration,
        set_waiting: WriteSignal<bool>,
    ) {
        let has_controller = || container().and_then(|c| c.controller()).is_some();
        // Once the prompt shows, a new controller means the update happened (perhaps
        // accepted in another tab): this page reloads into it too.
        let offer = move || {
            UPDATE_CHOSEN.store(true, Ordering::Relaxed);
            set_waiting.set(true);
        };
        if registration.waiting().is_some() && has_controller() {
            offer();
        }
        let found = {
            let registration = registration.clone();
            Closure::<dyn FnMut()>::new(move || {
                let Some(installing) = registration.installing() else {
                    return;
                };
                let worker = installing.clone();
                let changed = Closure::<dyn FnMut()>::new(move || {
                    if worker.state() == web_sys::ServiceWorkerState::Installed && has_controller()
                    {
                        offer();
                    }
                });
                installing.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
                changed.forget();
            })
        };
        registration.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
        found.forget();
    }

    /// Every few minutes, asks the server for its build (with gloo-net); a different one
    /// means a deploy happened while this page was open: fetch the new worker.
    fn poll_server_version(registration: web_sys::ServiceWorkerRegistration, version: String) {
        let check = Closure::<dyn FnMut()>::new(move || {
            let registration = registration.clone();
            let version = version.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(server) = server_version().await
                    && server != version
                {
                    let _ = registration.update();
                }
            });
        });
        if let Some(window) = web_sys::window() {
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
                check.as_ref().unchecked_ref(),
                CHECK_EVERY_MS,
            );
        }
        check.forget();
    }

    #[derive(serde::Deserialize)]
    struct VersionDocument {
        version: String,
    }

    async fn server_version() -> Option<String> {
        let response = gloo_net::http::Request::get("/version.json")
            .send()
            .await
            .ok()?;
        if !response.ok() {
            return None;
        }
        response
            .json::<VersionDocument>()
            .await
            .ok()
            .map(|document| document.version)
    }

    /// The student chose to update: the waiting worker takes over, and the page reloads
    /// when it does (the controllerchange listener above).
    pub fn activate_waiting() {
        let Some(container) = container() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let Ok(registration) = JsFuture::from(container.get_registration()).await else {
                return;
            };
            let Ok(registration) = registration.dyn_into::<web_sys::ServiceWorkerRegistration>()
            else {
                return;
            };
            if let Some(waiting) = registration.waiting() {
                let _ = waiting.post_message(&JsValue::from_str("skip-waiting"));
            }
        });
    }

    /// Asks the worker controlling this page to keep `path` for offline use.
    pub fn save_for_offline(path: &str) {
        if let Some(worker) = container().and_then(|container| container.controller()) {
            let _ = worker.post_message(&JsValue::from_str(&format!("save:{path}")));
        }
    }

    fn window_value(name: &str) -> Option<JsValue> {
        let window = web_sys::window()?;
        js_sys::Reflect::get(&window, &JsValue::from_str(name))
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    fn running_installed() -> bool {
        let standalone = web_sys::window()
            .and_then(|window| {
                window
                    .match_media("(display-mode: standalone)")
                    .ok()
                    .flatten()
            })
            .is_some_and(|query| query.matches());
        let ios_standalone = web_sys::window()
            .and_then(|window| {
                js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("standalone")).ok()
            })
            .is_some_and(|value| value.is_truthy());
        standalone || ios_standalone
    }

    fn on_ios_safari() -> bool {
        let agent = web_sys::window()
            .and_then(|window| window.navigator().user_agent().ok())
            .unwrap_or_default();
        (agent.contains("iPhone") || agent.contains("iPad") || agent.contains("iPod"))
            && agent.contains("Safari")
            && !agent.contains("CriOS")
            && !agent.contains("FxiOS")
    }

    /// Shows the offer kept by `/pwa.js` (now or when it comes), or the iOS instructions.
    pub fn watch_install_offer(set_offer: WriteSignal<Offer>) {
        if running_installed() {
            return;
        }
        if window_value("__lixiaoInstallPrompt").is_some() {
            set_offer.set(Offer::Prompt);
        } else if on_ios_safari() {
            set_offer.set(Offer::IosInstructions);
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let offered = Closure::<dyn FnMut()>::new(move || set_offer.set(Offer::Prompt));
        let installed = Closure::<dyn FnMut()>::new(move || set_offer.set(Offer::None));
        let _ = window.add_event_listener_with_callback(
            "lixiao-installable",
            offered.as_ref().unchecked_ref(),
        );
        let _ = window.add_event_listener_with_callback(
            "lixiao-installed",
            installed.as_ref().unchecked_ref(),
        );
        offered.forget();
        installed.forget();
    }

    /// Opens the browser's own install dialog (the kept beforeinstallprompt event).
    pub fn prompt_install(set_offer: WriteSignal<Offer>) {
        let Some(event) = window_value("__lixiaoInstallPrompt") else {
            return;
        };
        let prompt = js_sys::Reflect::get(&event, &JsValue::from_str("prompt"))
            .ok()
            .and_then(|prompt| prompt.dyn_into::<js_sys::Function>().ok());
        if let Some(prompt) = prompt {
            let _ = prompt.call0(&event);
        }
        // The event can be used once; the browser offers again later if it wants to.
        if let Some(window) = web_sys::window() {
            let _ = js_sys::Reflect::set(
                &window,
                &JsValue::from_str("__lixiaoInstallPrompt"),
                &JsValue::UNDEFINED,
            );
        }
        set_offer.set(Offer::None);
    }
}
