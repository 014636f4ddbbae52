//! 个人中心 · 已完成事项, and the printable departure slip (离校流程单) the student
//! takes to collect the diploma and degree certificate.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    Revocation, SlipCheck, get_departure, get_departures,
    page::{BasicInfoSection, office_sections},
    submission::Departure,
};
use crate::layout::ErrorPanel;

/// The slip's address: the active departure's, or a named (revoked) one's.
fn slip_link(slip_number: &str, active: bool) -> String {
    if active {
        "/completed/slip".to_owned()
    } else {
        format!("/completed/slip?n={slip_number}")
    }
}

#[component]
pub fn CompletedPage() -> impl IntoView {
    let departures = Resource::new(|| (), |_| get_departures());
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
                    match departures.await {
                        Ok(list) if !list.is_empty() => view! {
                            <ul class="done-list">
                                {list.into_iter().map(|departure| {
                                    let active = departure.revoked.is_none();
                                    let link = slip_link(&departure.slip_number, active);
                                    view! {
                                        <li class:revoked=!active>
                                            <div class="done-title">
                                                "研究生离校信息查询"
                                                {(!active).then(|| view! { <span class="badge fail">"已撤销"</span> })}
                                            </div>
                                            <div class="done-meta">
                                                "提交时间：" {departure.submitted_at} " · 流程单号：" {departure.slip_number}
                                            </div>
                                            {departure.revoked.map(|revoked| view! { <RevokedNote revoked /> })}
                                            <a class="button primary" href=link>
                                                {if active { "查看并打印" } else { "查看" }}
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Ok(_) => view! {
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

/// That the graduate school revoked a departure: when and why.
#[component]
pub fn RevokedNote(revoked: Revocation) -> impl IntoView {
    view! {
        <p class="notice error revoked-note">
            {format!("研究生院已于 {} 撤销此离校流程。原因：{}", revoked.at, revoked.reason)}
        </p>
    }
}

#[component]
pub fn SlipPage() -> impl IntoView {
    let query = use_query_map();
    let named = move || query.read().get("n").filter(|n| !n.is_empty());
    let departure = Resource::new(named, get_departure);
    view! {
        <Title text="离校流程单" />
        <Suspense fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match departure.await {
                    Ok(Some(slip)) => view! { <Slip departure=slip.departure revoked=slip.revoked check=slip.check /> }.into_any(),
                    Ok(None) if named().is_some() => view! {
                        <section class="card">
                            <h1>"离校流程单"</h1>
                            <p>{format!("没有找到您的流程单号为 {} 的离校流程单。", named().unwrap_or_default())}</p>
                            <p><a href="/completed">"查看已完成事项"</a></p>
                        </section>
                    }
                    .into_any(),
                    Ok(None) => view! {
                        <section class="card">
                            <h1>"离校流程单"</h1>
                            <p>"您没有有效的离校流程。四个事项全部通过并提交后，即可打印离校流程单。"</p>
                            <p><a href="/clearance">"前往研究生离校信息查询"</a></p>
                            <p><a href="/completed">"查看已完成事项"</a></p>
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
fn Slip(
    departure: Departure,
    revoked: Option<Revocation>,
    check: Option<SlipCheck>,
) -> impl IntoView {
    let facts = departure.facts;
    let offices = office_sections(departure.verdicts, &facts, false);
    let is_revoked = revoked.is_some();
    view! {
        <div class="slip-tools no-print">
            <a href="/completed">"返回已完成事项"</a>
            {(!is_revoked).then(|| view! { <PrintButton /> })}
        </div>
        <article class="card slip" class:revoked=is_revoked aria-labelledby="slip-title">
            {revoked.map(|revoked| view! {
                <div class="slip-revoked" role="alert">
                    <p class="slip-revoked-mark">"已撤销 · 作废"</p>
                    <RevokedNote revoked />
                    <p>"此离校流程单已作废，不能用于领取毕业证、学位证。"</p>
                </div>
            })}
            <header class="slip-head">
                <p class="slip-org">"中国矿业大学"</p>
                <h1 id="slip-title">"研究生离校流程单"</h1>
                <p class="slip-purpose">"研究生凭打印出的离校流程单领取毕业证学位证"</p>
                <dl class="slip-meta">
                    <div><dt>"流程单号"</dt><dd>{departure.slip_number}</dd></div>
                    <div><dt>"提交时间"</dt><dd>{departure.submitted_at}</dd></div>
                    <div><dt>"申请时间"</dt><dd>{facts.basic.applied_on.clone()}</dd></div>
                </dl>
                {check.map(|check| view! { <SlipVerification check /> })}
            </header>
            <BasicInfoSection basic=facts.basic.clone() />
            <section class="offices" aria-labelledby="slip-offices-title">
                <h2 id="slip-offices-title" class="band">"离校审核事项"</h2>
                {offices}
            </section>
            <p class="slip-note">
                "领取毕业证、学位证的具体安排将于近期在研究生院网站公布。"
            </p>
        </article>
    }
    .into_any()
}

/// The serial and the QR code of the verification link: whoever holds the printout
/// scans it, or types the serial at /verify, to see that the slip is real and stands.
#[component]
fn SlipVerification(check: SlipCheck) -> impl IntoView {
    view! {
        <div class="slip-check">
            // Drawn by the server (`crate::verify::qr`) from its own link: no user text.
            <div class="slip-qr-box" inner_html=check.qr_svg></div>
            <div class="slip-check-text">
                <p class="slip-serial-label">"防伪编号"</p>
                <p class="slip-serial">{check.serial}</p>
                <p class="slip-check-hint">
                    "扫描二维码，或在 " <span class="slip-link">{check.page}</span>
                    " 输入防伪编号，可验证本流程单的真伪。"
                </p>
                <p class="slip-qr-link">{check.link}</p>
            </div>
        </div>
    }
}

/// Opens the browser's print dialog. Without JavaScript the hint beside it says how.
#[island]
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
