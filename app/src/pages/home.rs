use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <Title text="" />
        <section class="card" aria-labelledby="home-title">
            <h1 id="home-title">"研究生离校信息查询"</h1>
            <p>
                "图书馆、档案馆、总务部公寓与物业中心、财务资产部收费管理办公室四个事项全部通过后，"
                "即可提交离校流程，并打印离校流程单领取毕业证、学位证。"
            </p>
        </section>
    }
}
