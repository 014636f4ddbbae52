//! 个人中心 · 已完成事项, and the printable departure slip (离校流程单) the student
//! takes to collect the diploma and degree certificate.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    get_departure,
    page::{BasicInfoSection, office_sections},
    submission::Departure,
};
use crate::layout::ErrorPanel;

#[component]
pub fn CompletedPage() -> impl IntoView {
    let departure = Resource::new(|| (), |_| get_departure());
    view! {
        <Title text="已完成事项" />
        <section class="card" aria-labelledby="centre-title">
            <h1 id="centre-title">"个人中心"</h1>
            <nav class="tabs" aria-label="个人中心">
                <a href="/completed" aria-current="page">"已完成事项"</a>
                <a href="/password">"修改密码"</a>
            </nav>
            <h2>"已完成事项"</h2>
            <Suspense fallback=|| view! { <p class="loading">"加载中…"</p> }>
                {move || Suspend::new(async move {
                    match departure.await {
                        Ok(Some(departure)) => view! {
                            <ul class="done-list">
                                <li>
                                    <div class="done-title">"研究生离校信息查询"</div>
                                    <div class="done-meta">
                                        "提交时间：" {departure.submitted_at} " · 流程单号：" {departure.slip_number}
                                    </div>
                                    <a class="button primary" href="/completed/slip">"查看并打印"</a>
                                </li>
                            </ul>
                        }
                        .into_any(),
                        Ok(None) => view! {
                            <p class="muted">"暂无已完成事项。提交离校流程后，可在此查看并打印离校流程单。"</p>
                        }
                        .into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
pub fn SlipPage() -> impl IntoView {
    let departure = Resource::new(|| (), |_| get_departure());
    view! {
        <Title text="离校流程单" />
        <Suspense fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match departure.await {
                    Ok(Some(departure)) => view! { <Slip departure /> }.into_any(),
                    Ok(None) => view! {
                        <section class="card">
                            <h1>"离校流程单"</h1>
                            <p>"您尚未提交离校流程。四个事项全部通过并提交后，即可打印离校流程单。"</p>
                            <p><a href="/clearance">"前往研究生离校信息查询"</a></p>
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Slip(departure: Departure) -> impl IntoView {
    let facts = departure.facts;
    let offices = office_sections(departure.verdicts, &facts, None);
    view! {
        <div class="slip-tools no-print">
            <a href="/completed">"返回已完成事项"</a>
            <PrintButton />
        </div>
        <article class="card slip" aria-labelledby="slip-title">
            <header class="slip-head">
                <p class="slip-org">"中国矿业大学"</p>
                <h1 id="slip-title">"研究生离校流程单"</h1>
                <dl class="slip-meta">
                    <div><dt>"流程单号"</dt><dd>{departure.slip_number}</dd></div>
                    <div><dt>"提交时间"</dt><dd>{departure.submitted_at}</dd></div>
                    <div><dt>"申请时间"</dt><dd>{facts.basic.applied_on.clone()}</dd></div>
                </dl>
            </header>
            <BasicInfoSection basic=facts.basic.clone() />
            <section class="offices" aria-labelledby="slip-offices-title">
                <h2 id="slip-offices-title" class="band">"离校审核事项"</h2>
                {offices}
            </section>
            <p class="slip-note">
                "研究生凭此离校流程单领取毕业证、学位证（具体安排以研究生院网站公布为准）。"
            </p>
        </article>
    }
}

/// Opens the browser's print dialog. Without JavaScript the hint beside it says how.
#[component]
fn PrintButton() -> impl IntoView {
    let print = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <button type="button" class="primary" on:click=print>"打印"</button>
        <span class="hint">"也可使用浏览器的打印功能（Ctrl+P）"</span>
    }
}
