//! The desk's pages: the student list (/desk) and one student (/desk/student/:number).
//! Plain forms throughout: the list filters by a GET form, every change is a POST form
//! with a reason and a 确认保存 box, so all of it works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};

use super::{
    DeskList, DeskQuery, DeskSaveFacts, DeskSetStanding, DeskStudent, RowStatus, get_desk_list,
    get_desk_student,
};
use crate::{
    clearance::{
        BasicInfoSection, HistorySection, VerdictBadge,
        model::{ArchivesThesisStatus, LibraryThesisStatus, yuan},
        rules::Office,
    },
    layout::{ActionError, ErrorPanel},
};

fn desk_title(office: Office) -> String {
    format!("{}工作台", office.name())
}

#[component]
pub fn DeskPage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        let query = query.read();
        let get = |key: &str| query.get(key).unwrap_or_default();
        DeskQuery {
            q: get("q"),
            college: get("college"),
            grade: get("grade"),
            status: get("status"),
            page: get("page").parse().unwrap_or(1),
        }
    };
    let list = Resource::new(filters, get_desk_list);
    view! {
        <Title text="部门工作台" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <DeskListView list filters=filters() /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn DeskListView(list: DeskList, filters: DeskQuery) -> impl IntoView {
    let page_link = {
        let filters = filters.clone();
        move |page: u32| {
            let mut link = String::from("/desk?");
            for (key, value) in [
                ("q", &filters.q),
                ("college", &filters.college),
                ("grade", &filters.grade),
                ("status", &filters.status),
            ] {
                if !value.is_empty() {
                    link.push_str(&format!("{key}={}&", encode(value)));
                }
            }
            link.push_str(&format!("page={page}"));
            link
        }
    };
    let option = |value: String, selected: &str| {
        let is = value == selected;
        view! { <option value=value.clone() selected=is>{value.clone()}</option> }
    };
    let colleges = list
        .colleges
        .iter()
        .map(|college| option(college.clone(), &filters.college))
        .collect_view();
    let grades = list
        .grades
        .iter()
        .map(|grade| option(grade.clone(), &filters.grade))
        .collect_view();
    let statuses = RowStatus::ALL
        .into_iter()
        .map(|status| {
            let is = status.code() == filters.status;
            view! { <option value=status.code() selected=is>{status.label()}</option> }
        })
        .collect_view();
    let (page, pages) = (list.page, list.pages);
    let previous = (page > 1).then(|| page_link(page - 1));
    let next = (page < pages).then(|| page_link(page + 1));
    view! {
        <section class="card desk" aria-labelledby="desk-title">
            <h1 id="desk-title">{desk_title(list.office)}</h1>
            <Form method="GET" action="/desk" attr:class="desk-filters">
                <div class="field">
                    <label for="q">"学号或姓名"</label>
                    <input id="q" name="q" value=filters.q.clone() maxlength="32" />
                </div>
                <div class="field">
                    <label for="college">"学院"</label>
                    <select id="college" name="college">
                        <option value="">"全部"</option>
                        {colleges}
                    </select>
                </div>
                <div class="field">
                    <label for="grade">"年级"</label>
                    <select id="grade" name="grade">
                        <option value="">"全部"</option>
                        {grades}
                    </select>
                </div>
                <div class="field">
                    <label for="status">"状态"</label>
                    <select id="status" name="status">
                        <option value="">"全部"</option>
                        {statuses}
                    </select>
                </div>
                <button type="submit" class="primary">"查询"</button>
            </Form>
            <p class="muted" role="status">
                {format!("共 {} 名学生，第 {page} / {pages} 页", list.total)}
            </p>
            <table class="grid-table desk-list">
                <thead>
                    <tr>
                        <th scope="col">"学号"</th>
                        <th scope="col">"姓名"</th>
                        <th scope="col">"学院"</th>
                        <th scope="col">"年级"</th>
                        <th scope="col">"状态"</th>
                        <th scope="col">"数据"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.rows.is_empty().then(|| view! {
                        <tr class="empty"><td colspan="6">"没有符合条件的学生"</td></tr>
                    })}
                    {list
                        .rows
                        .into_iter()
                        .map(|row| {
                            let href = format!("/desk/student/{}", row.student_number);
                            view! {
                                <tr data-status=row.status.code()>
                                    <td data-label="学号"><a href=href>{row.student_number}</a></td>
                                    <td data-label="姓名">{row.name}</td>
                                    <td data-label="学院">{row.college}</td>
                                    <td data-label="年级">{row.grade}</td>
                                    <td data-label="状态">
                                        <span class=format!("badge status-{}", row.status.code())>{row.status.label()}</span>
                                        {row.submitted.then(|| view! { <span class="muted">" 已提交"</span> })}
                                    </td>
                                    <td data-label="数据">{row.summary}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <nav class="pager" aria-label="分页">
                {previous.map(|href| view! { <a class="button secondary" href=href rel="prev">"上一页"</a> })}
                {next.map(|href| view! { <a class="button secondary" href=href rel="next">"下一页"</a> })}
            </nav>
        </section>
    }
}

/// Percent-encodes a query value (the filters may hold Chinese names).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[component]
pub fn DeskStudentPage() -> impl IntoView {
    let params = use_params_map();
    let save = ServerAction::<DeskSaveFacts>::new();
    let standing = ServerAction::<DeskSetStanding>::new();
    let number = move || params.read().get("number").unwrap_or_default();
    let student = Resource::new(
        move || (number(), save.version().get(), standing.version().get()),
        |(number, _, _)| get_desk_student(number),
    );
    view! {
        <Title text="学生离校数据" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match student.await {
                    Ok(student) => view! { <StudentDesk student save standing /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StudentDesk(
    student: DeskStudent,
    save: ServerAction<DeskSaveFacts>,
    standing: ServerAction<DeskSetStanding>,
) -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.read().get("saved").is_some_and(|flag| flag == "1");
    let office = student.office;
    let number = student.basic.student_number.clone();
    let version = student.state.version;
    let passed = student.verdict.passed();
    let pending = student.verdict.pending();
    let overridden = student.state.overridden.clone();
    view! {
        <article class="card desk-student" aria-labelledby="desk-student-title">
            <p><a href="/desk">"← 返回" {desk_title(office)}</a></p>
            <h1 id="desk-student-title">{format!("{} · {}", student.basic.name, office.name())}</h1>
            <Show when=saved>
                <p class="notice success" role="status">"已保存。"</p>
            </Show>
            {student.submitted.clone().map(|submitted| view! {
                <p class="notice warning" role="status">
                    "该生已于 " {submitted.submitted_at} " 提交离校流程（流程单号 " {submitted.slip_number}
                    "）。此后修改数据不会改变已提交的离校流程单。"
                </p>
            })}
            <BasicInfoSection basic=student.basic.clone() />
            <section class="office" aria-labelledby="desk-state-title">
                <h2 id="desk-state-title" class="band">"本部门核验状态"</h2>
                <p>
                    <VerdictBadge passed pending />
                    " " {student.state.standing.label()}
                    {student.state.reported_at.clone().map(|at| view! { " · 数据更新于 " <time>{at}</time> })}
                    {format!(" · 第 {version} 版")}
                </p>
                {overridden.clone().map(|decision| view! {
                    <p class="notice decision">
                        {format!(
                            "人工核定{}：{}（{}{}）",
                            if decision.pass { "通过" } else { "未通过" },
                            decision.reason,
                            decision.decided_at,
                            if decision.ends_with_new_facts { "，有新数据时自动失效" } else { "，撤销前一直有效" },
                        )}
                    </p>
                })}
                {(!passed).then(|| view! {
                    <ul class="todo">{student.verdict.todo.iter().map(|item| view! { <li>{item.clone()}</li> }).collect_view()}</ul>
                })}
            </section>
            <FactsForm student=student.clone() save />
            <StandingForms number=number.clone() version overridden=overridden.is_some() standing />
            <HistorySection history=student.history.clone() />
        </article>
    }
}

/// The reason, the confirmation box and the version every change carries.
#[component]
fn ChangeFooter(version: i64, id: &'static str, button: &'static str) -> impl IntoView {
    let reason_id = format!("{id}-reason");
    let confirm_id = format!("{id}-confirm");
    view! {
        <input type="hidden" name="version" value=version />
        <div class="field">
            <label for=reason_id.clone()>"原因（必填）"</label>
            <textarea id=reason_id name="reason" rows="2" maxlength="200" required></textarea>
        </div>
        <div class="field check">
            <input type="checkbox" id=confirm_id.clone() name="confirm" required />
            <label for=confirm_id>"我已核对以上内容，确认保存"</label>
        </div>
        <button type="submit" class="primary">{button}</button>
    }
}

#[component]
fn FactsForm(student: DeskStudent, save: ServerAction<DeskSaveFacts>) -> impl IntoView {
    let office = student.office;
    let facts = student.facts;
    let fields = match office {
        Office::Library => {
            let library = facts.library.clone();
            let books = library.as_ref().map(|l| l.books_out).unwrap_or(0);
            let fines = library
                .as_ref()
                .map(|l| yuan(l.fines))
                .unwrap_or("0.00".to_owned());
            let violations = library.as_ref().map(|l| l.violations).unwrap_or(0);
            let cancelled = library.as_ref().is_some_and(|l| l.card_cancelled);
            let thesis = library
                .as_ref()
                .map(|l| l.thesis)
                .unwrap_or(LibraryThesisStatus::NotSubmitted);
            view! {
                <div class="field">
                    <label for="books_out">"图书状态 · 未还册数"</label>
                    <input id="books_out" name="form[books_out]" inputmode="numeric" value=books required />
                </div>
                <div class="field">
                    <label for="fines">"欠费情况 · 欠款金额(元)"</label>
                    <input id="fines" name="form[fines]" inputmode="decimal" value=fines required />
                </div>
                <div class="field">
                    <label for="violations">"违章状态 · 违章条数"</label>
                    <input id="violations" name="form[violations]" inputmode="numeric" value=violations required />
                </div>
                <div class="field check">
                    <input type="checkbox" id="card_cancelled" name="form[card_cancelled]" checked=cancelled />
                    <label for="card_cancelled">"证件状态：已注销"</label>
                </div>
                <div class="field">
                    <label for="library_thesis">"论文提交状态"</label>
                    <select id="library_thesis" name="form[library_thesis]">
                        {LibraryThesisStatus::ALL.into_iter().map(|status| view! {
                            <option value=status.code() selected=status == thesis>{status.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
            }
            .into_any()
        }
        Office::Archives => {
            let current = facts.archives;
            view! {
                <div class="field">
                    <label for="archives_thesis">"论文提交状态"</label>
                    <select id="archives_thesis" name="form[archives_thesis]">
                        <option value="" selected=current.is_none()>"（空）"</option>
                        {[ArchivesThesisStatus::Submitted, ArchivesThesisStatus::Reviewed].into_iter().map(|status| view! {
                            <option value=status.code() selected=current == Some(status)>{status.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
            }
            .into_any()
        }
        Office::Housing => {
            let record = facts.housing.clone();
            let get = |pick: fn(&crate::clearance::model::HousingRecord) -> Option<String>| {
                record.as_ref().and_then(pick).unwrap_or_default()
            };
            view! {
                <div class="field">
                    <label for="campus">"校区"</label>
                    <input id="campus" name="form[campus]" value=get(|r| Some(r.campus.clone())) required />
                </div>
                <div class="field">
                    <label for="building">"楼宇"</label>
                    <input id="building" name="form[building]" value=get(|r| Some(r.building.clone())) required />
                </div>
                <div class="field">
                    <label for="room">"房间号"</label>
                    <input id="room" name="form[room]" value=get(|r| Some(r.room.clone())) required />
                </div>
                <div class="field">
                    <label for="checked_out_on">"退宿日期（如 2020-06-05，未退宿留空）"</label>
                    <input id="checked_out_on" name="form[checked_out_on]" type="date" value=get(|r| r.checked_out_on.clone()) />
                </div>
                <div class="field">
                    <label for="checked_out_by">"退宿办理人"</label>
                    <input id="checked_out_by" name="form[checked_out_by]" value=get(|r| r.checked_out_by.clone()) />
                </div>
            }
            .into_any()
        }
        Office::Finance => {
            let lines: Vec<String> = facts
                .arrears
                .iter()
                .map(|arrear| {
                    format!(
                        "{} {} {}",
                        arrear.academic_year,
                        arrear.item,
                        yuan(arrear.amount)
                    )
                })
                .collect();
            view! {
                <div class="field">
                    <label for="arrears">"欠费项目（每行一项：收费学年 收费项目名称 金额；已缴清的项目删除该行；无欠费则留空）"</label>
                    <textarea id="arrears" name="form[arrears]" rows="5">{lines.join("\n")}</textarea>
                </div>
            }
            .into_any()
        }
    };
    view! {
        <section class="desk-form" aria-labelledby="facts-title">
            <h2 id="facts-title" class="band">"更新本部门数据"</h2>
            <ActionForm action=save>
                <input type="hidden" name="student_number" value=student.basic.student_number.clone() />
                {fields}
                <ChangeFooter version=student.state.version id="facts" button="保存数据" />
            </ActionForm>
            <ActionError action=save />
        </section>
    }
}

#[component]
fn StandingForms(
    number: String,
    version: i64,
    overridden: bool,
    standing: ServerAction<DeskSetStanding>,
) -> impl IntoView {
    let (number_na, number_override, number_remove) = (number.clone(), number.clone(), number);
    view! {
        <section class="desk-form" aria-labelledby="standing-title">
            <h2 id="standing-title" class="band">"不涉及 / 人工核定"</h2>
            <ActionError action=standing />
            <details>
                <summary>"设为不涉及"</summary>
                <p class="hint">"该生在本部门没有需要办理的事项（例如从未在校住宿）。不涉及即视为通过。"</p>
                <ActionForm action=standing>
                    <input type="hidden" name="student_number" value=number_na />
                    <input type="hidden" name="action" value="not_applicable" />
                    <ChangeFooter version id="na" button="设为不涉及" />
                </ActionForm>
            </details>
            <details>
                <summary>"人工核定通过或未通过"</summary>
                <p class="hint">"人工核定优先于数据（例如领导批准减免欠款），学生可看到核定结果和原因。"</p>
                <ActionForm action=standing>
                    <input type="hidden" name="student_number" value=number_override />
                    <div class="field">
                        <label for="override-action">"核定结果"</label>
                        <select id="override-action" name="action">
                            <option value="override_pass">"通过"</option>
                            <option value="override_fail">"未通过"</option>
                        </select>
                    </div>
                    <div class="field check">
                        <input type="checkbox" id="ends" name="ends_with_new_facts" />
                        <label for="ends">"本部门有新数据时自动失效（不勾选则撤销前一直有效）"</label>
                    </div>
                    <ChangeFooter version id="override" button="保存核定" />
                </ActionForm>
            </details>
            {overridden.then(move || view! {
                <details>
                    <summary>"撤销人工核定"</summary>
                    <ActionForm action=standing>
                        <input type="hidden" name="student_number" value=number_remove />
                        <input type="hidden" name="action" value="remove_override" />
                        <ChangeFooter version id="remove" button="撤销核定" />
                    </ActionForm>
                </details>
            })}
        </section>
    }
}
