//! 离校名单 (/desk/departures): every submitted departure with its slip number, found by
//! 学号, name, slip number or 防伪编号 (the serial a checker reads off a printout); one departure's page (/desk/departures/revoke?n=…) shows it
//! and lets the graduate school revoke it with a reason (撤销).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Form, hooks::use_query_map};

use super::{
    DepartureList, DepartureQuery, DepartureRow, DepartureState, RevokeDeparture, SchoolTabs,
    get_departure_row, get_departures_list,
};
use crate::{
    desk::encode,
    layout::{ActionError, ErrorPanel},
};

/// Where the CSV of the list is (the server mounts the export there).
pub const EXPORT_PATH: &str = "/desk/departures/export.csv";

fn state_label(state: &DepartureState) -> String {
    match state {
        DepartureState::Active => "有效".to_owned(),
        DepartureState::Revoked(revoked) => format!("已撤销（{}）", revoked.at),
    }
}

#[component]
pub fn DeparturesPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let query = query.read();
        let get = |key: &str| query.get(key).unwrap_or_default();
        DepartureQuery {
            q: get("q"),
            state: get("state"),
            college: get("college"),
            page: get("page").parse().unwrap_or(1),
            ..DepartureQuery::default()
        }
    };
    let list = Resource::new(filters, get_departures_list);
    view! {
        <Title text="离校名单" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <DepartureListView list /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DepartureListView(list: DepartureList) -> impl IntoView {
    let query = list.query.query();
    let export = if query.is_empty() {
        EXPORT_PATH.to_owned()
    } else {
        format!("{EXPORT_PATH}?{query}")
    };
    let link = {
        let query = query.clone();
        move |number: u32| format!("/desk/departures?{query}&page={number}")
    };
    let state = list.query.state.clone();
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=state == value>{label}</option> }
    };
    view! {
        <section class="card desk" aria-labelledby="departures-title">
            <h1 id="departures-title">"研究生院 · 离校名单"</h1>
            <SchoolTabs current="/desk/departures" />
            <Form method="GET" action="/desk/departures" attr:class="desk-filters">
                <div class="field">
                    <label for="departures-q">"学号、姓名、流程单号或防伪编号"</label>
                    <input id="departures-q" name="q" value=list.query.q.clone() maxlength="64" />
                </div>
                <div class="field">
                    <label for="departures-state">"状态"</label>
                    <select id="departures-state" name="state">
                        {option("", "全部")}
                        {option("active", "有效")}
                        {option("revoked", "已撤销")}
                    </select>
                </div>
                <button type="submit" class="button secondary">"查询"</button>
            </Form>
            <p class="muted" role="status">
                {format!("共 {} 份离校流程，第 {} / {} 页", list.total, list.page, list.pages)}
            </p>
            <p class="desk-tools"><a href=export>"导出此名单（CSV，Excel 可直接打开）"</a></p>
            <table class="grid-table desk-list">
                <thead>
                    <tr>
                        <th scope="col">"流程单号"</th>
                        <th scope="col">"学号"</th>
                        <th scope="col">"姓名"</th>
                        <th scope="col">"学院"</th>
                        <th scope="col">"提交时间"</th>
                        <th scope="col">"状态"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.is_empty().then(|| view! {
                        <tr class="empty"><td colspan="6">"没有符合条件的离校流程"</td></tr>
                    })}
                    {list.rows.into_iter().map(|row| {
                        let href = format!("/desk/departures/revoke?n={}", encode(&row.slip_number));
                        let revoked = matches!(row.state, DepartureState::Revoked(_));
                        view! {
                            <tr class:revoked=revoked>
                                <td data-label="流程单号"><a href=href>{row.slip_number.clone()}</a></td>
                                <td data-label="学号">{row.student_number}</td>
                                <td data-label="姓名">{row.name}</td>
                                <td data-label="学院">{row.college}</td>
                                <td data-label="提交时间">{row.submitted_at}</td>
                                <td data-label="状态">{state_label(&row.state)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            {(list.pages > 1).then(|| view! {
                <nav class="pager" aria-label="分页">
                    {(list.page > 1).then(|| view! { <a class="button secondary" href=link(list.page - 1) rel="prev">"上一页"</a> })}
                    {(list.page < list.pages).then(|| view! { <a class="button secondary" href=link(list.page + 1) rel="next">"下一页"</a> })}
                </nav>
            })}
        </section>
    }
    .into_any()
}

#[component]
pub fn DepartureRevokePage() -> impl IntoView {
    let query = use_query_map();
    let slip = move || query.read().get("n").unwrap_or_default();
    let done = move || query.read().get("done").is_some();
    let revoke = ServerAction::<RevokeDeparture>::new();
    // Read again after a revocation (with JavaScript the address stays the same).
    let row = Resource::new(
        move || (slip(), revoke.version().get()),
        |(slip, _)| get_departure_row(slip),
    );
    view! {
        <Title text="离校流程" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match row.await {
                    Ok(row) => view! { <DepartureView row done=done() revoke /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DepartureView(
    row: DepartureRow,
    done: bool,
    revoke: ServerAction<RevokeDeparture>,
) -> impl IntoView {
    let slip_number = row.slip_number.clone();
    let state = match row.state.clone() {
        DepartureState::Active => view! {
            <h2 id="revoke-title">"撤销离校流程"</h2>
            <p>"撤销后，原离校流程单作废；学生在离校信息查询页看到撤销及原因，四个事项全部通过后可以重新提交（新的流程单号）。"</p>
            <ActionForm action=revoke attr:class="desk-form" attr:aria-labelledby="revoke-title">
                <input type="hidden" name="slip_number" value=slip_number />
                <div class="field">
                    <label for="revoke-reason">"撤销原因（学生可见）"</label>
                    <textarea id="revoke-reason" name="reason" required maxlength="200" rows="3"></textarea>
                </div>
                <div class="field check">
                    <input type="checkbox" id="revoke-confirm" name="confirm" required />
                    <label for="revoke-confirm">"确认撤销：原离校流程单作废"</label>
                </div>
                <button type="submit" class="primary">"撤销离校流程"</button>
            </ActionForm>
            <ActionError action=revoke />
        }
        .into_any(),
        DepartureState::Revoked(revoked) => view! {
            <p class="notice error" role="status">
                {format!(
                    "已于 {} 由 {} 撤销。原因：{}",
                    revoked.at,
                    revoked.by.unwrap_or_default(),
                    revoked.reason
                )}
            </p>
        }
        .into_any(),
    };
    view! {
        <section class="card desk" aria-labelledby="departure-title">
            <h1 id="departure-title">{format!("离校流程 {}", row.slip_number)}</h1>
            <SchoolTabs current="/desk/departures" />
            <p><a href="/desk/departures">"← 返回离校名单"</a></p>
            {done.then(|| view! {
                <p class="notice success" role="status">"已撤销。学生可在离校信息查询页看到撤销及原因。"</p>
            })}
            <dl class="pairs">
                <div class="pair"><dt>"流程单号"</dt><dd>{row.slip_number.clone()}</dd></div>
                <div class="pair"><dt>"防伪编号"</dt><dd class="serial">{row.serial}</dd></div>
                <div class="pair"><dt>"学号"</dt><dd>{row.student_number}</dd></div>
                <div class="pair"><dt>"姓名"</dt><dd>{row.name}</dd></div>
                <div class="pair"><dt>"学院"</dt><dd>{row.college}</dd></div>
                <div class="pair"><dt>"专业"</dt><dd>{row.major}</dd></div>
                <div class="pair"><dt>"离校类别"</dt><dd>{row.departure_category}</dd></div>
                <div class="pair"><dt>"提交时间"</dt><dd>{row.submitted_at}</dd></div>
                <div class="pair"><dt>"状态"</dt><dd>{state_label(&row.state)}</dd></div>
            </dl>
            {state}
        </section>
    }
    .into_any()
}
