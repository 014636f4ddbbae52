//! The public verification page: the answer for a scanned link or a typed serial, and
//! the form to type one. No sign-in, nothing a checker does not need.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use super::{CheckedSlip, VERIFY_PATH, Verification, verify_slip};
use crate::AppError;

#[component]
pub fn VerifyPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    // The QR code's link carries the code in the path; the form sends `serial`.
    let code = move || {
        params
            .read()
            .get("code")
            .or_else(|| query.read().get("serial"))
            .filter(|code| !code.trim().is_empty())
    };
    let typed = move || query.read().get("serial").unwrap_or_default();
    let answer = Resource::new(code, |code| async move {
        match code {
            Some(code) => verify_slip(code).await.map(Some),
            None => Ok(None),
        }
    });
    view! {
        <Title text="离校流程单验证" />
        <Meta name="robots" content="noindex, nofollow" />
        <section class="card verify" aria-labelledby="verify-title">
            <h1 id="verify-title">"离校流程单验证"</h1>
            <p class="muted">
                "中国矿业大学研究生院：研究生凭打印出的离校流程单领取毕业证学位证。"
                "扫描流程单上的二维码，或输入流程单上的防伪编号，即可核对流程单的真伪。"
            </p>
            <Suspense fallback=|| view! { <p class="loading">"查询中…"</p> }>
                {move || Suspend::new(async move {
                    match answer.await {
                        Ok(Some(verification)) => view! { <Answer verification /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <Refused error /> }.into_any(),
                    }
                })}
            </Suspense>
            <Form method="GET" action=VERIFY_PATH attr:class="verify-form">
                <div class="field">
                    <label for="verify-serial">"防伪编号"</label>
                    <input
                        id="verify-serial"
                        name="serial"
                        value=typed
                        maxlength="40"
                        autocomplete="off"
                        autocapitalize="characters"
                        spellcheck="false"
                        placeholder="如 7K2M-9QX4-HDR3-PZ8W"
                        aria-describedby="verify-serial-hint"
                    />
                    <p id="verify-serial-hint" class="hint">
                        "16 位字母和数字，印在流程单上方二维码旁；不区分大小写，可不输入短横线。"
                    </p>
                </div>
                <button type="submit" class="primary">"验证"</button>
            </Form>
        </section>
    }
}

#[component]
fn Refused(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    error.set_response_status();
    view! { <p class="notice error" role="alert">{error.to_string()}</p> }
}

#[component]
fn Answer(verification: Verification) -> impl IntoView {
    match verification {
        Verification::Valid(slip) => view! { <Valid slip /> }.into_any(),
        Verification::Revoked { serial, revoked_on } => view! {
            <div class="verify-result revoked" role="status">
                <p class="verify-verdict">"已撤销 · 作废"</p>
                <p>
                    {format!(
                        "防伪编号 {serial} 的离校流程单已于 {revoked_on} 被研究生院撤销，不能用于领取毕业证、学位证。"
                    )}
                </p>
            </div>
        }
        .into_any(),
        Verification::Unknown => view! {
            <div class="verify-result unknown" role="status">
                <p class="verify-verdict">"未找到此离校流程单"</p>
                <p>
                    "没有与此防伪编号或二维码相符的离校流程单：流程单可能被涂改或伪造。"
                    "请核对编号后重新输入；仍未找到的，请向研究生院核实。"
                </p>
            </div>
        }
        .into_any(),
        Verification::NotASerial => view! {
            <p class="notice error" role="alert">
                "防伪编号为 16 位字母和数字（如 7K2M-9QX4-HDR3-PZ8W），请核对后重新输入。"
            </p>
        }
        .into_any(),
    }
}

#[component]
fn Valid(slip: CheckedSlip) -> impl IntoView {
    view! {
        <div class="verify-result valid" role="status">
            <p class="verify-verdict">"有效"</p>
            <p>"此离校流程单真实有效：四个部门审核全部通过，离校手续已办结。"</p>
            <dl class="verify-facts">
                <div><dt>"防伪编号"</dt><dd class="serial">{slip.serial}</dd></div>
                <div><dt>"姓名"</dt><dd>{slip.name}</dd></div>
                <div><dt>"学号"</dt><dd>{slip.student_number}</dd></div>
                <div><dt>"学院"</dt><dd>{slip.college}</dd></div>
                <div><dt>"离校类别"</dt><dd>{slip.departure_category}</dd></div>
                <div><dt>"提交日期"</dt><dd>{slip.submitted_on}</dd></div>
            </dl>
            <p class="hint">"请核对流程单上的姓名、学号与此处相符（部分字符已隐去，以保护个人信息）。"</p>
        </div>
    }
}
