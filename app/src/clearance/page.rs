//! The clearance page (研究生离校信息查询). One document for every screen: wide screens
//! lay it out as the table of the source's figure 4, phones as the list of figure 5.

use leptos::prelude::*;
use leptos::server_fn::ServerFn as _;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    CancelLibraryCard, ClearanceView, SubmitDeparture, get_clearance,
    model::{
        ArchivesThesisStatus, Arrear, BasicInfo, ClearanceFacts, HousingRecord, LibraryFacts,
        total_arrears, yuan,
    },
    rules::{self, Office, Verdict},
};
use crate::{
    AppError,
    layout::{ErrorPanel, ReadFirst, TelLink, loading, reported_error, reported_error_notice},
};

#[component]
pub fn ClearancePage() -> impl IntoView {
    fn page(clearance: Result<ClearanceView, AppError>) -> AnyView {
        match clearance {
            Ok(view) => view! { <Clearance view /> }.into_any(),
            Err(error) => view! { <ErrorPanel error /> }.into_any(),
        }
    }
    // Read once (the page is rendered on the server only, not an island, and every
    // action on it answers with a redirect that renders it afresh): usually with the
    // session, before the page renders.
    #[cfg(feature = "ssr")]
    let known = super::read_with_session();
    #[cfg(not(feature = "ssr"))]
    let known = None;
    let clearance = match known {
        Some(clearance) => ReadFirst::Known(clearance),
        None => ReadFirst::Loading(Resource::new(|| (), |_| get_clearance())),
    };
    let content = clearance.view(loading, page);
    view! {
        <Title text="研究生离校信息查询" />
        {content}
    }
}

#[component]
fn Clearance(view: ClearanceView) -> impl IntoView {
    let verdicts = rules::verdicts(&view.facts);
    let blocked = rules::gate(&verdicts)
        .err()
        .map(|_| rules::gate_refusal_message(&verdicts));
    let facts = view.facts;
    let offices = office_sections(verdicts.to_vec(), &facts, true);
    let history = view.history;

    view! {
        <article class="card clearance" aria-labelledby="clearance-title">
            <header class="clearance-head">
                <h1 id="clearance-title">"研究生离校信息查询"</h1>
                <p class="applied">"申请时间：" <time>{facts.basic.applied_on.clone()}</time></p>
            </header>
            <BasicInfoSection basic=facts.basic.clone() />
            <section class="offices" aria-labelledby="offices-title">
                <h2 id="offices-title" class="band">"离校审核事项"</h2>
                {offices}
            </section>
            <SubmitSection submitted=view.submitted revoked=view.revoked blocked />
            <HistorySection history />
        </article>
    }
}

/// The four office sections, each with its facts; `cancel` offers the 注销 button
/// (the live page), `false` shows the facts only (the slip).
pub fn office_sections(
    verdicts: Vec<Verdict>,
    facts: &ClearanceFacts,
    cancel: bool,
) -> impl IntoView + use<> {
    verdicts
        .into_iter()
        .map(|verdict| {
            let details = match verdict.office {
                Office::Library => {
                    view! { <LibraryDetails facts=facts.library.clone() cancel /> }.into_any()
                }
                Office::Archives => view! { <ArchivesDetails status=facts.archives /> }.into_any(),
                Office::Housing => {
                    view! { <HousingDetails record=facts.housing.clone() /> }.into_any()
                }
                Office::Finance => {
                    view! { <FinanceDetails arrears=facts.arrears.clone() /> }.into_any()
                }
            };
            let reported_at = facts.states.get(verdict.office).reported_at.clone();
            // Erased: the page's full view type is too deep for the WASM build otherwise.
            view! { <OfficeSection verdict details reported_at /> }.into_any()
        })
        .collect_view()
}

#[component]
pub fn BasicInfoSection(basic: BasicInfo) -> impl IntoView {
    let pairs = [
        ("姓名", basic.name),
        ("学号", basic.student_number),
        ("性别", basic.gender.label().to_owned()),
        ("现在年级", basic.grade),
        ("学院", basic.college),
        ("专业", basic.major),
        ("入学日期", basic.enrolled_on),
        ("离校类别", basic.departure_category),
    ];
    view! {
        <section class="basic" aria-labelledby="basic-title">
            <h2 id="basic-title" class="band">"基本信息"</h2>
            <dl class="pairs">
                {pairs
                    .into_iter()
                    .map(|(label, value)| {
                        view! {
                            <div class="pair">
                                <dt>{label}</dt>
                                <dd>{value}</dd>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
        </section>
    }
}

/// One office: its name, the green 通过, red 未通过 or grey 待核验, its phone, when its
/// data arrived, its facts (not while pending), an office's decision with its reason, and
/// what the student has to do.
#[component]
pub fn OfficeSection(
    verdict: Verdict,
    details: AnyView,
    reported_at: Option<String>,
) -> impl IntoView {
    let office = verdict.office;
    let id = format!("office-{}", office_slug(office));
    let labelled_by = id.clone();
    let passed = verdict.passed();
    let pending = verdict.pending();
    let not_applicable = verdict.basis == rules::Basis::NotApplicable;
    view! {
        <section
            class="office"
            class:failed=!passed && !pending
            class:pending=pending
            aria-labelledby=labelled_by
            data-office=office_slug(office)
        >
            <div class="office-head">
                <h3 id=id>{office.name()}</h3>
                <VerdictBadge passed pending />
                <p class="phone">"咨询电话：" <TelLink number=office.phone() /></p>
            </div>
            <div class="office-body">
                {reported_at.map(|at| view! { <p class="updated">"数据更新于 " <time>{at}</time></p> })}
                {verdict.note.clone().map(|note| view! { <p class="notice decision">{note}</p> })}
                {if pending {
                    ().into_any()
                } else if not_applicable {
                    let text = if office == Office::Housing {
                        "不涉及：未在学校住宿，无需办理退宿手续。".to_owned()
                    } else {
                        format!("不涉及：{}确认您无需在此办理。", office.name())
                    };
                    view! { <p class="muted">{text}</p> }.into_any()
                } else {
                    details
                }}
                {(!passed)
                    .then(|| {
                        view! {
                            <ul class="todo" aria-label="需要办理">
                                {verdict.todo.into_iter().map(|item| view! { <li>{item}</li> }).collect_view()}
                            </ul>
                        }
                    })}
            </div>
        </section>
    }
}

pub fn office_slug(office: Office) -> &'static str {
    match office {
        Office::Library => "library",
        Office::Archives => "archives",
        Office::Housing => "housing",
        Office::Finance => "finance",
    }
}

#[component]
pub fn VerdictBadge(passed: bool, #[prop(optional)] pending: bool) -> impl IntoView {
    if pending {
        view! { <span class="badge pending">"待核验"</span> }
    } else if passed {
        view! { <span class="badge pass">"通过"</span> }
    } else {
        view! { <span class="badge fail">"未通过"</span> }
    }
}

/// 变更记录: every change of the offices' data, newest first, with its reason.
#[component]
pub fn HistorySection(history: Vec<super::model::HistoryEntry>) -> impl IntoView {
    (!history.is_empty()).then(|| {
        view! {
            <section class="history" aria-labelledby="history-title">
                <h2 id="history-title" class="band">"变更记录"</h2>
                <ol class="history-list">
                    {history
                        .into_iter()
                        .map(|entry| {
                            view! {
                                <li data-office=office_slug(entry.office)>
                                    <p class="history-head">
                                        <time>{entry.at}</time>
                                        " · "
                                        <strong>{entry.office.name()}</strong>
                                        " · "
                                        {entry.change}
                                        " · 办理："
                                        {entry.by}
                                        {entry.staff.map(|staff| view! { <span class="muted">" （" {staff} "）"</span> })}
                                    </p>
                                    <p class="history-change">{entry.before} " → " {entry.after}</p>
                                    <p class="history-reason">"原因：" {entry.reason}</p>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            </section>
        }
        .into_any()
    })
}

/// A label and its value; the label may have a second part (e.g. 图书状态 · 未还册数).
#[component]
fn Fact(
    label: &'static str,
    #[prop(optional)] sub: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="fact">
            <dt>
                {label}
                {(!sub.is_empty()).then(|| view! { <span class="sub">{sub}</span> })}
            </dt>
            <dd>{children()}</dd>
        </div>
    }
}

#[component]
fn LibraryDetails(facts: Option<LibraryFacts>, cancel: bool) -> impl IntoView {
    let Some(facts) = facts else {
        return view! { <p class="muted">"图书馆暂无记录。"</p> }.into_any();
    };
    let card = if facts.card_cancelled {
        view! { <span>"已注销"</span> }.into_any()
    } else if cancel {
        view! { <span>"未注销"</span> <CardCancellation facts=facts.clone() /> }.into_any()
    } else {
        view! { <span>"未注销"</span> }.into_any()
    };
    view! {
        <dl class="facts">
            <Fact label="图书状态" sub="未还册数">{facts.books_out}</Fact>
            <Fact label="欠费情况" sub="欠款金额(元)">{yuan(facts.fines)}</Fact>
            <Fact label="违章状态">{facts.violations}</Fact>
            <Fact label="证件状态">{card}</Fact>
            <Fact label="论文提交状态">{facts.thesis.label()}</Fact>
        </dl>
    }
    .into_any()
}

/// The 注销 button. It first asks for confirmation (a panel reached by a plain link, so it
/// works without JavaScript too); when the rule forbids it, it explains why instead.
#[component]
fn CardCancellation(facts: LibraryFacts) -> impl IntoView {
    let query = use_query_map();
    let asked = move || {
        query
            .read()
            .get("confirm")
            .is_some_and(|value| value == "card")
    };
    let failed = reported_error::<CancelLibraryCard>().is_some();
    let allowed = rules::card_cancellation(&facts);
    // Plain forms: this page is not an island, so nothing here runs in the browser and
    // Leptos's <Form>, <ActionForm> and <Show> would only cost the server their
    // reactive set-up. The browser posts the forms itself (the server function answers
    // with a redirect), with JavaScript and without.
    let confirmation = (asked() && !failed).then(|| match allowed {
        Ok(()) => view! {
            <div class="confirm" role="dialog" aria-labelledby="confirm-card-title">
                <p id="confirm-card-title" class="confirm-title">"确定注销借书证吗？"</p>
                <p>"注销后借书证将不能再借阅图书，此操作不可撤销。"</p>
                <div class="confirm-actions">
                    <form action=CancelLibraryCard::url() method="post">
                        <button type="submit" class="danger">"确认注销"</button>
                    </form>
                    <a class="button secondary" href="/clearance">"取消"</a>
                </div>
            </div>
        }
        .into_any(),
        Err(refusal) => view! {
            <p class="notice error" role="alert">{refusal.message()}</p>
        }
        .into_any(),
    });
    view! {
        <form method="GET" action="/clearance">
            <input type="hidden" name="confirm" value="card" />
            <button type="submit" class="small">"注销"</button>
        </form>
        {reported_error_notice::<CancelLibraryCard>()}
        {confirmation}
    }
}

#[component]
fn ArchivesDetails(status: Option<ArchivesThesisStatus>) -> impl IntoView {
    view! {
        <dl class="facts">
            <Fact label="论文提交状态">{status.map(ArchivesThesisStatus::label).unwrap_or("")}</Fact>
        </dl>
    }
}

#[component]
fn HousingDetails(record: Option<HousingRecord>) -> impl IntoView {
    let Some(record) = record else {
        return view! { <p class="muted">"未在学校住宿，无需办理退宿手续。"</p> }.into_any();
    };
    view! {
        <table class="grid-table">
            <thead>
                <tr>
                    <th scope="col">"校区"</th>
                    <th scope="col">"楼宇"</th>
                    <th scope="col">"房间号"</th>
                    <th scope="col">"退宿日期"</th>
                    <th scope="col">"退宿办理人"</th>
                </tr>
            </thead>
            <tbody>
                <tr>
                    <td data-label="校区">{record.campus}</td>
                    <td data-label="楼宇">{record.building}</td>
                    <td data-label="房间号">{record.room}</td>
                    <td data-label="退宿日期">{record.checked_out_on.unwrap_or_default()}</td>
                    <td data-label="退宿办理人">{record.checked_out_by.unwrap_or_default()}</td>
                </tr>
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn FinanceDetails(arrears: Vec<Arrear>) -> impl IntoView {
    let total = total_arrears(&arrears);
    let empty = arrears.is_empty();
    view! {
        <table class="grid-table finance">
            <thead>
                <tr>
                    <th scope="col">"学号"</th>
                    <th scope="col">"收费学年"</th>
                    <th scope="col">"收费项目名称"</th>
                    <th scope="col" class="num">"总欠款"</th>
                </tr>
            </thead>
            <tbody>
                {empty
                    .then(|| {
                        view! {
                            <tr class="empty">
                                <td colspan="4">"无欠费数据"</td>
                            </tr>
                        }
                    })}
                {arrears
                    .into_iter()
                    .map(|arrear| {
                        view! {
                            <tr>
                                <td data-label="学号">{arrear.student_number}</td>
                                <td data-label="收费学年">{arrear.academic_year}</td>
                                <td data-label="收费项目名称">{arrear.item}</td>
                                <td data-label="总欠款" class="num">{yuan(arrear.amount)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
            <tfoot>
                <tr>
                    <th scope="row" colspan="3">"总计欠款(元)"</th>
                    <td class="num total" data-label="总计欠款(元)">{yuan(total)}</td>
                </tr>
            </tfoot>
        </table>
    }
}

#[component]
fn SubmitSection(
    submitted: Option<super::SubmittedRef>,
    /// The last revoked departure, when there is no active one.
    revoked: Option<super::Revocation>,
    /// Why the gate is closed, or `None` when all four offices pass.
    blocked: Option<String>,
) -> impl IntoView {
    if let Some(submitted) = submitted {
        return view! {
            <section class="submit" aria-labelledby="submit-title">
                <h2 id="submit-title" class="band">"提交离校流程"</h2>
                <p class="notice success" role="status">
                    "离校流程已于 " {submitted.submitted_at} " 提交，流程单号 " {submitted.slip_number} "。"
                </p>
                <p>
                    <a class="button primary" href="/completed/slip">"查看并打印离校流程单"</a>
                </p>
            </section>
        }
        .into_any();
    }
    let closed = blocked.is_some();
    let hint = if revoked.is_some() {
        "四个事项全部显示“通过”才可重新提交；提交后得到新的流程单号。"
    } else {
        "四个事项全部显示“通过”才可提交。注意：离校流程只能提交一次。"
    };
    view! {
        <section class="submit" aria-labelledby="submit-title">
            <h2 id="submit-title" class="band">"提交离校流程"</h2>
            {revoked.map(|revoked| view! {
                <p class="notice error" role="status">
                    {format!(
                        "您此前提交的离校流程已于 {} 被研究生院撤销。原因：{}。原离校流程单已作废；四个事项全部通过后，可以重新提交。",
                        revoked.at,
                        revoked.reason.trim_end_matches('。'),
                    )}
                </p>
            })}
            {blocked.map(|message| view! { <p class="notice warning">{message}</p> })}
            {reported_error_notice::<SubmitDeparture>()}
            <form action=SubmitDeparture::url() method="post">
                <button type="submit" class="primary wide" disabled=closed>
                    "提交离校流程"
                </button>
            </form>
            <p class="hint">{hint}</p>
        </section>
    }
    .into_any()
}
