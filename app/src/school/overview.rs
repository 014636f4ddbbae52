//! 离校总览 (/desk/overview): the cohort counted by college, by office and state, the
//! submissions per day; every count opens the list of its students (/desk/overview/list)
//! with what blocks each of them, and every list exports to CSV.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    CohortFilter, CohortPage, Group, Overview, OverviewLine, SchoolTabs, get_cohort_page,
    get_overview,
};
use crate::{clearance::rules::Office, desk::RowStatus, layout::ErrorPanel};

/// Where the CSV of a list is (the server mounts the export there).
pub const EXPORT_PATH: &str = "/desk/overview/export.csv";

/// A count that opens its list (a plain 0 has nothing to open).
fn count_link(count: usize, filter: CohortFilter) -> impl IntoView {
    if count == 0 {
        view! { <span class="zero">"0"</span> }.into_any()
    } else {
        let href = format!("/desk/overview/list?{}", filter.query());
        view! { <a href=href>{count}</a> }.into_any()
    }
}

fn college_label(line: &OverviewLine) -> String {
    if line.college.is_empty() {
        "合计".to_owned()
    } else {
        line.college.clone()
    }
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="离校总览" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <OverviewView overview /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OverviewView(overview: Overview) -> impl IntoView {
    let lines: Vec<OverviewLine> = overview
        .colleges
        .iter()
        .cloned()
        .chain([overview.total.clone()])
        .collect();
    let group_row = |line: &OverviewLine| {
        let filter = |group: Group| CohortFilter {
            college: line.college.clone(),
            group: group.code().to_owned(),
            ..CohortFilter::default()
        };
        let is_total = line.college.is_empty();
        view! {
            <tr class:total=is_total>
                <th scope="row">{college_label(line)}</th>
                <td class="num" data-label="学生">{count_link(line.students, filter(Group::All))}</td>
                <td class="num" data-label="已提交">{count_link(line.submitted, filter(Group::Submitted))}</td>
                <td class="num" data-label="四项通过、未提交">{count_link(line.ready, filter(Group::Ready))}</td>
                <td class="num" data-label="未提交、有事项未通过">{count_link(line.blocked, filter(Group::Blocked))}</td>
            </tr>
        }
        .into_any()
    };
    let office_table = |index: usize, office: Office| {
        let title_id = format!("overview-{}", office.code());
        let rows = lines
            .iter()
            .map(|line| {
                let cells = RowStatus::ALL
                    .iter()
                    .enumerate()
                    .map(|(state_index, state)| {
                        let filter = CohortFilter {
                            college: line.college.clone(),
                            office: office.code().to_owned(),
                            state: state.code().to_owned(),
                            ..CohortFilter::default()
                        };
                        view! {
                            <td class="num" data-label=state.label()>{count_link(line.offices[index][state_index], filter)}</td>
                        }
                    })
                    .collect_view();
                let is_total = line.college.is_empty();
                view! {
                    <tr class:total=is_total>
                        <th scope="row">{college_label(line)}</th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        view! {
            <h2 id=title_id.clone()>{office.name()}</h2>
                            <table class="grid-table overview-table">
                    <thead>
                        <tr>
                            <th scope="col">"学院"</th>
                            {RowStatus::ALL.iter().map(|state| view! { <th scope="col">{state.label()}</th> }).collect_view()}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
        }
        .into_any()
    };
    let most = overview
        .days
        .iter()
        .map(|day| day.submitted)
        .max()
        .unwrap_or(1)
        .max(1);
    view! {
        <section class="card desk" aria-labelledby="overview-title">
            <h1 id="overview-title">"研究生院 · 离校总览"</h1>
            <SchoolTabs current="/desk/overview" />
            <p class="muted">
                {format!("统计于 {}，按各部门当前数据实时计算（已停用的学生不计）。点击数字查看名单。", overview.counted_at)}
            </p>
            <p class="desk-tools">
                <a href=EXPORT_PATH>"导出全部学生（CSV）"</a>
            </p>
            <h2 id="overview-colleges">"各学院"</h2>
                            <table class="grid-table overview-table">
                    <thead>
                        <tr>
                            <th scope="col">"学院"</th>
                            <th scope="col">"学生"</th>
                            <th scope="col">"已提交"</th>
                            <th scope="col">"四项通过、未提交"</th>
                            <th scope="col">"未提交、有事项未通过"</th>
                        </tr>
                    </thead>
                    <tbody>{lines.iter().map(group_row).collect_view()}</tbody>
                </table>
            {Office::ALL.into_iter().enumerate().map(|(index, office)| office_table(index, office)).collect_view()}
            <h2 id="overview-days">"每日提交"</h2>
            {if overview.days.is_empty() {
                view! { <p class="muted">"还没有学生提交离校流程。"</p> }.into_any()
            } else {
                view! {
                                            <table class="grid-table overview-table days">
                            <thead>
                                <tr>
                                    <th scope="col">"日期"</th>
                                    <th scope="col">"当日提交"</th>
                                    <th scope="col">"其中已撤销"</th>
                                    <th scope="col">"累计有效"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {overview.days.iter().map(|day| {
                                    let label = format!("{} 当日提交 {}", day.date, day.submitted);
                                    view! {
                                        <tr>
                                            <th scope="row">{day.date.clone()}</th>
                                            <td class="num" data-label="当日提交">
                                                <meter class="bar" min="0" max=most.to_string() value=day.submitted.to_string() aria-label=label></meter>
                                                {day.submitted}
                                            </td>
                                            <td class="num" data-label="其中已撤销">{day.revoked}</td>
                                            <td class="num" data-label="累计有效">{day.cumulative}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                }
                .into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
pub fn CohortListPage() -> impl IntoView {
    let query = use_query_map();
    let filter = move || {
        let query = query.read();
        let get = |key: &str| query.get(key).unwrap_or_default();
        CohortFilter {
            college: get("college"),
            office: get("office"),
            state: get("state"),
            group: get("group"),
            page: get("page").parse().unwrap_or(1),
        }
    };
    let page = Resource::new(filter, get_cohort_page);
    view! {
        <Title text="离校总览 · 名单" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <CohortListView page /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CohortListView(page: CohortPage) -> impl IntoView {
    let query = page.filter.query();
    let export = if query.is_empty() {
        EXPORT_PATH.to_owned()
    } else {
        format!("{EXPORT_PATH}?{query}")
    };
    let link = {
        let query = query.clone();
        move |number: u32| format!("/desk/overview/list?{query}&page={number}")
    };
    view! {
        <section class="card desk" aria-labelledby="cohort-title">
            <h1>"研究生院 · 离校总览"</h1>
            <SchoolTabs current="/desk/overview" />
            <p><a href="/desk/overview">"← 返回总览"</a></p>
            <h2 id="cohort-title">{format!("{}：共 {} 名", page.description, page.total)}</h2>
            <p class="desk-tools"><a href=export>"导出此名单（CSV，Excel 可直接打开）"</a></p>
            {if page.rows.is_empty() {
                view! { <p class="muted">"没有符合条件的学生。"</p> }.into_any()
            } else {
                view! {
                                            <table class="grid-table desk-list cohort-table">
                            <thead>
                                <tr>
                                    <th scope="col">"学号"</th>
                                    <th scope="col">"姓名"</th>
                                    <th scope="col">"学院"</th>
                                    <th scope="col">"离校流程"</th>
                                    <th scope="col">"未通过的事项"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {page.rows.into_iter().map(|row| {
                                    let state = match (&row.slip_number, row.ready()) {
                                        (Some(slip), _) => format!("已提交（{slip}）"),
                                        (None, true) => "四项通过，未提交".to_owned(),
                                        (None, false) => "未提交".to_owned(),
                                    };
                                    let blockers = row.blockers();
                                    view! {
                                        <tr>
                                            <td data-label="学号">{row.student_number}</td>
                                            <td data-label="姓名">{row.name}</td>
                                            <td data-label="学院">{row.college}</td>
                                            <td data-label="离校流程">{state}</td>
                                            <td data-label="未通过的事项">{if blockers.is_empty() { "—".to_owned() } else { blockers }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                }
                .into_any()
            }}
            {(page.pages > 1).then(|| view! {
                <nav class="pager" aria-label="分页">
                    {(page.page > 1).then(|| view! { <a class="button secondary" href=link(page.page - 1) rel="prev">"上一页"</a> })}
                    <span>{format!("第 {} / {} 页", page.page, page.pages)}</span>
                    {(page.page < page.pages).then(|| view! { <a class="button secondary" href=link(page.page + 1) rel="next">"下一页"</a> })}
                </nav>
            })}
        </section>
    }
    .into_any()
}
