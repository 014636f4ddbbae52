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
    BatchRequest, DeskBatchApply, DeskList, DeskQuery, DeskSaveFacts, DeskSetStanding, DeskStudent,
    RowStatus, encode, get_batch_preview, get_desk_list, get_desk_student,
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
    let export_link = page_link(1).replacen("/desk?", "/desk/export.csv?", 1);
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
    let query = use_query_map();
    let done = move || query.read().get("done").filter(|count| !count.is_empty());
    let office = list.office;
    let total = list.total;
    let hidden = |name: &'static str, value: &String| {
        view! { <input type="hidden" name=name value=value.clone() /> }
    };
    let filter_fields = view! {
        {hidden("q", &filters.q)}
        {hidden("college", &filters.college)}
        {hidden("grade", &filters.grade)}
        {hidden("status", &filters.status)}
    };
    view! {
        <section class="card desk" aria-labelledby="desk-title">
            <h1 id="desk-title">{desk_title(list.office)}</h1>
            <p class="desk-tools">
                <a href="/desk/import">"批量导入（CSV）"</a>
                " · "
                <a href=export_link>"导出当前名单（CSV）"</a>
            </p>
            {move || done().map(|count| view! {
                <p class="notice success" role="status">{format!("批量操作已完成：共 {count} 名学生。")}</p>
            })}
            {view! {
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
            }.into_any()}
            <p class="muted" role="status">
                {format!("共 {} 名学生，第 {page} / {pages} 页", list.total)}
            </p>
            <form method="get" action="/desk/batch" class="batch-form">
            {filter_fields}
            <table class="grid-table desk-list">
                <thead>
                    <tr>
                        <th scope="col" class="pick">"选择"</th>
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
                        <tr class="empty"><td colspan="7">"没有符合条件的学生"</td></tr>
                    })}
                    {list
                        .rows
                        .into_iter()
                        .map(|row| {
                            let href = format!("/desk/student/{}", row.student_number);
                            let pick = format!("选择 {} {}", row.student_number, row.name);
                            view! {
                                <tr data-status=row.status.code()>
                                    <td class="pick">
                                        <input type="checkbox" name="numbers" value=row.student_number.clone() aria-label=pick />
                                    </td>
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
                            // Erased: the page's full view type is too deep for rustc otherwise.
                            .into_any()
                        })
                        .collect_view()}
                </tbody>
            </table>
            {view! { <BatchFields office total /> }.into_any()}
            </form>
            <nav class="pager" aria-label="分页">
                {previous.map(|href| view! { <a class="button secondary" href=href rel="prev">"上一页"</a> })}
                {next.map(|href| view! { <a class="button secondary" href=href rel="next">"下一页"</a> })}
            </nav>
        </section>
    }
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
            {student.deactivated.then(|| view! {
                <p class="notice warning" role="status">
                    "该生已不在本届离校学生名单中（研究生院已停用）：学生无法登录；本部门的数据仍可查看和修改，记录保留。"
                </p>
            })}
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
            <StandingForms office number=number.clone() version overridden=overridden.is_some() standing />
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
    office: Office,
    number: String,
    version: i64,
    overridden: bool,
    standing: ServerAction<DeskSetStanding>,
) -> impl IntoView {
    let (number_na, number_override, number_remove) = (number.clone(), number.clone(), number);
    let na_hint = match office {
        Office::Housing => "该生从未在校住宿，无需办理退宿。不涉及即视为通过。",
        _ => "该生在本部门没有需要办理的事项。不涉及即视为通过。",
    };
    view! {
        <section class="desk-form" aria-labelledby="standing-title">
            <h2 id="standing-title" class="band">"不涉及 / 人工核定"</h2>
            <ActionError action=standing />
            <details>
                <summary>"设为不涉及"</summary>
                <p class="hint">{na_hint}</p>
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

/// Under the list: one change for the ticked students or the whole filtered list,
/// previewed (with the count) before it runs.
#[component]
fn BatchFields(office: Office, total: usize) -> impl IntoView {
    view! {
        <fieldset class="batch" aria-labelledby="batch-title">
            <legend id="batch-title">"批量操作"</legend>
            <div class="field">
                <span class="label">"范围"</span>
                <label class="choice">
                    <input type="radio" name="scope" value="selected" checked />
                    "本页勾选的学生"
                </label>
                <label class="choice">
                    <input type="radio" name="scope" value="filtered" />
                    {format!("当前筛选的全部 {total} 名学生")}
                </label>
            </div>
            <div class="field">
                <label for="batch-action">"操作"</label>
                <select id="batch-action" name="action">
                    {(office == Office::Housing).then(|| view! { <option value="checked_out">"办理退宿"</option> })}
                    <option value="not_applicable">"设为不涉及"</option>
                    <option value="override_pass">"人工核定通过"</option>
                    <option value="override_fail">"人工核定未通过"</option>
                    <option value="remove_override">"撤销人工核定"</option>
                </select>
            </div>
            {(office == Office::Housing).then(|| view! {
                <div class="field">
                    <label for="batch-on">"退宿日期（办理退宿时填写）"</label>
                    <input id="batch-on" name="checked_out_on" type="date" />
                </div>
                <div class="field">
                    <label for="batch-by">"退宿办理人（办理退宿时填写）"</label>
                    <input id="batch-by" name="checked_out_by" maxlength="40" />
                </div>
            })}
            <div class="field check">
                <input type="checkbox" id="batch-ends" name="ends_with_new_facts" />
                <label for="batch-ends">"人工核定在本部门有新数据时自动失效"</label>
            </div>
            <div class="field">
                <label for="batch-reason">"原因（必填）"</label>
                <textarea id="batch-reason" name="reason" rows="2" maxlength="200" required></textarea>
            </div>
            <button type="submit" class="primary">"预览"</button>
        </fieldset>
    }
}

/// /desk/batch: what a batch would do, with the count, and the button that runs it.
#[component]
pub fn DeskBatchPage() -> impl IntoView {
    let query = use_query_map();
    let apply = ServerAction::<DeskBatchApply>::new();
    let request = move || {
        let query = query.read();
        let get = |key: &str| query.get(key).unwrap_or_default();
        BatchRequest {
            scope: get("scope"),
            numbers: query.get_all("numbers").unwrap_or_default(),
            q: get("q"),
            college: get("college"),
            grade: get("grade"),
            status: get("status"),
            action: get("action"),
            reason: get("reason"),
            checked_out_on: get("checked_out_on"),
            checked_out_by: get("checked_out_by"),
            ends_with_new_facts: get("ends_with_new_facts"),
        }
    };
    let preview = Resource::new(request, get_batch_preview);
    view! {
        <Title text="批量操作预览" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                let request = request();
                match preview.await {
                    Ok(preview) => view! {
                        <section class="card desk" aria-labelledby="batch-preview-title">
                            <p><a href="/desk">"← 返回" {desk_title(preview.office)}</a></p>
                            <h1 id="batch-preview-title">"批量操作预览"</h1>
                            <p class="notice warning" role="status">
                                {format!("将对 {} 名学生执行：{}。", preview.count, preview.action)}
                            </p>
                            <p>"原因：" {preview.reason.clone()}</p>
                            <p class="muted">
                                {format!("前 {} 名：", preview.sample.len())}
                                {preview.sample.iter().map(|(number, name)| format!("{number} {name}")).collect::<Vec<_>>().join("、")}
                            </p>
                            <ActionForm action=apply>
                                <BatchHidden request=request.clone() />
                                <input type="hidden" name="token" value=preview.token.clone() />
                                <div class="field check">
                                    <input type="checkbox" id="batch-confirm" name="confirm" required />
                                    <label for="batch-confirm">{format!("我已核对，确认对这 {} 名学生执行", preview.count)}</label>
                                </div>
                                <button type="submit" class="primary">"确认执行"</button>
                            </ActionForm>
                            <ActionError action=apply />
                        </section>
                    }
                    .into_any(),
                    Err(error) => view! {
                        <section class="card desk">
                            <p><a href="/desk">"← 返回工作台"</a></p>
                            <h1>"批量操作预览"</h1>
                            <p class="notice error" role="alert">{error.to_string()}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The batch request again, as hidden fields of the confirmation.
#[component]
fn BatchHidden(request: BatchRequest) -> impl IntoView {
    let field = |name: &str, value: String| {
        view! { <input type="hidden" name=format!("request[{name}]") value=value /> }
    };
    view! {
        {field("scope", request.scope)}
        {field("q", request.q)}
        {field("college", request.college)}
        {field("grade", request.grade)}
        {field("status", request.status)}
        {field("action", request.action)}
        {field("reason", request.reason)}
        {field("checked_out_on", request.checked_out_on)}
        {field("checked_out_by", request.checked_out_by)}
        {field("ends_with_new_facts", request.ends_with_new_facts)}
        {request
            .numbers
            .into_iter()
            .enumerate()
            .map(|(index, number)| {
                view! { <input type="hidden" name=format!("request[numbers][{index}]") value=number /> }
            })
            .collect_view()}
    }
}
