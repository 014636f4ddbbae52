//! Marks `<body data-hydrated>` once the WASM bundle has taken over the page.
//!
//! Browser tests wait for this attribute before they click, so they never race
//! hydration; people never see it.

use leptos::prelude::*;

#[island]
pub fn MarkHydrated() -> impl IntoView {
    // Effects run only in the browser, after hydration: exactly the moment we mark.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.body())
        {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
