//! The WASM entry point. Pages are rendered on the server and work as plain HTML
//! (links and forms that post); only the islands (`#[island]` components of the app
//! crate: the service-worker prompts, 打印, the hydration mark) are brought to life here.

// Linked so that the app's islands are exported from this bundle.
pub use app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
