use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for every route the app does not know, with HTTP 404 when rendered on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::AppError::NotFound.set_response_status();

    view! {
        <Title text="页面不存在" />
        <section class="card not-found" aria-labelledby="not-found-title">
            <h1 id="not-found-title">"页面不存在"</h1>
            <p>"您访问的页面不存在或已被移除，请检查地址是否正确。"</p>
            <p>
                <a href="/">"返回首页"</a>
            </p>
        </section>
    }
}
