//! 批量导入 at an office's desk: a CSV file with the sync API's fields (a template to
//! download), a preview of what it would do — rows to create, update or leave as they
//! are, and every bad row with its line, column and reason — then the import, all rows
//! or none, with one reason for the history.
//!
//! The upload is a plain multipart form to an axum handler (`upload`, mounted by the
//! server at [`UPLOAD_PATH`]); the file is kept (decoded) and the browser is sent to the
//! preview, `/desk/import?id=…`, which works the preview out again each time it is shown
//! (it always says what importing would do now). Everything works without JavaScript.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{AppError, clearance::rules::Office, layout::ActionError};

/// Where the file is posted (the server mounts [`upload`] there, with a larger body
/// limit than other forms).
pub const UPLOAD_PATH: &str = "/desk/import/upload";
/// The template's address (the server mounts [`template`] there).
pub const TEMPLATE_PATH: &str = "/desk/import/template.csv";

/// One refused row, as the preview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadRow {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

/// What importing the file would do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPreview {
    pub id: String,
    pub file_name: String,
    pub uploaded_at: String,
    /// Records read from the file (finance: students, each with their charges).
    pub records: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub bad: Vec<BadRow>,
    /// Rows that change nothing because the system holds newer data for the student.
    #[serde(default)]
    pub older: Vec<BadRow>,
}

/// The import page's data: the office, what each column takes, and a preview if a file
/// is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportPage {
    pub office: Office,
    pub columns: Vec<(String, String)>,
    pub preview: Option<ImportPreview>,
}

#[server(prefix = "/api", endpoint = "desk_import_preview")]
pub async fn get_import_page(id: Option<String>) -> Result<ImportPage, AppError> {
    use crate::{auth::session, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let (staff, office) = session::require_office(&state).await?;
            let columns = crate::sync::csv::column_help(office)
                .into_iter()
                .map(|(label, help)| (label.to_owned(), help.to_owned()))
                .collect();
            let preview = match id.as_deref().filter(|id| !id.is_empty()) {
                None => None,
                Some(id) => Some(server::preview(&state, &staff.login, office, id).await?),
            };
            Ok(ImportPage {
                office,
                columns,
                preview,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "desk_import_apply")]
pub async fn desk_import_apply(
    id: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{auth::session, desk::input, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let (staff, office) = session::require_office(&state).await?;
            let reason = input::reason(&reason).map_err(AppError::BadRequest)?;
            input::confirmed(confirm.as_deref()).map_err(AppError::BadRequest)?;
            let (created, updated, unchanged) =
                server::apply(&state, &staff.login, office, &id, &reason).await?;
            leptos_axum::redirect(&format!(
                "/desk/import?created={created}&updated={updated}&unchanged={unchanged}"
            ));
            Ok(())
        }
        .await,
    )
}

/// The server's side: reading the upload, the preview and the import.
#[cfg(feature = "ssr")]
mod server {
    use axum::{
        extract::{Multipart, State},
        http::{HeaderValue, header},
        response::{IntoResponse, Redirect, Response},
    };
    use tower_sessions::Session;

    use super::{BadRow, ImportPreview};
    use crate::{
        AppError,
        auth::session,
        clearance::rules::Office,
        db::{
            self,
            offices::Actor,
            sync::{Source, apply_all, preview as dry_run},
        },
        state::AppState,
        sync::{RecordStatus, csv},
    };

    /// The stored upload of `login` at `office`; anyone else's is "not found".
    async fn stored(
        state: &AppState,
        login: &str,
        office: Office,
        id: &str,
    ) -> Result<db::imports::StoredImport, AppError> {
        let gone = || {
            AppError::BadRequest(
                "找不到这份上传的文件（超过一天未导入的文件会被删除）：请重新上传。".to_owned(),
            )
        };
        let stored = db::imports::load(&state.db, id, crate::clock::now())
            .await?
            .ok_or_else(gone)?;
        if stored.office != office || stored.uploaded_by != login {
            return Err(gone());
        }
        Ok(stored)
    }

    fn source(login: &str, reason: &str) -> Source {
        Source {
            actor: Actor::Staff(login.to_owned()),
            reason: Some(reason.to_owned()),
        }
    }

    /// The file read again and tried against the database as it is now.
    pub(super) async fn preview(
        state: &AppState,
        login: &str,
        office: Office,
        id: &str,
    ) -> Result<ImportPreview, AppError> {
        let stored = stored(state, login, office, id).await?;
        let now = crate::clock::now();
        let (records, mut bad) = csv::parse(office, &stored.content, now);
        let count = records.len();
        let results = dry_run(&state.db, office, &source(login, "预览"), records, now).await?;
        let tally = |status| results.iter().filter(|r| r.status == status).count();
        bad.extend(
            results
                .iter()
                .filter(|r| r.status == RecordStatus::Rejected)
                .map(|r| {
                    let reason = r.reason.as_deref().unwrap_or_default();
                    csv::BadRow {
                        row: r.index,
                        column: if reason.contains("as_of") {
                            "数据时间"
                        } else {
                            "学号"
                        }
                        .to_owned(),
                        reason: csv::in_file_words(office, reason),
                    }
                }),
        );
        bad.sort_by_key(|row| row.row);
        // A row older than what is held changes nothing: said, not hidden in "未变".
        let older: Vec<BadRow> = results
            .iter()
            .filter(|r| r.status == RecordStatus::Unchanged && r.reason.is_some())
            .map(|r| BadRow {
                row: r.index,
                column: "数据时间".to_owned(),
                reason: format!(
                    "系统中已有该学生更新的数据（数据时间 {}），此行的数据时间较早，不会导入。",
                    r.held_as_of
                        .as_deref()
                        .map(crate::clock::beijing_display)
                        .unwrap_or_default()
                ),
            })
            .collect();
        Ok(ImportPreview {
            id: id.to_owned(),
            file_name: stored.file_name,
            uploaded_at: stored.uploaded_at,
            records: count,
            created: tally(RecordStatus::Created),
            updated: tally(RecordStatus::Updated),
            unchanged: tally(RecordStatus::Unchanged) - older.len(),
            older,
            bad: bad
                .into_iter()
                .map(|row| BadRow {
                    row: row.row,
                    column: row.column,
                    reason: row.reason,
                })
                .collect(),
        })
    }

    /// Imports every row or none; the counts of created, updated and unchanged.
    pub(super) async fn apply(
        state: &AppState,
        login: &str,
        office: Office,
        id: &str,
        reason: &str,
    ) -> Result<(usize, usize, usize), AppError> {
        let stored = stored(state, login, office, id).await?;
        let now = crate::clock::now();
        let (records, bad) = csv::parse(office, &stored.content, now);
        if !bad.is_empty() {
            return Err(AppError::BadRequest(format!(
                "文件中有 {} 行有问题，整份文件没有导入：请修改后重新上传。",
                bad.len()
            )));
        }
        let (results, written) =
            apply_all(&state.db, office, &source(login, reason), records, now).await?;
        if !written {
            let refused = results
                .iter()
                .filter(|r| r.status == RecordStatus::Rejected)
                .count();
            return Err(AppError::Conflict(format!(
                "预览之后数据已发生变化：有 {refused} 行不能导入，整份文件没有导入。请返回预览查看。"
            )));
        }
        db::imports::delete(&state.db, id).await?;
        let tally = |status| results.iter().filter(|r| r.status == status).count();
        Ok((
            tally(RecordStatus::Created),
            tally(RecordStatus::Updated),
            tally(RecordStatus::Unchanged),
        ))
    }

    /// The uploaded file of a CSV form (its field `file`): its name without control
    /// characters, and its text whatever Excel saved it as. `Err`: the problem's code
    /// for [`problem_text`](super::problem_text).
    pub async fn read_upload(mut multipart: Multipart) -> Result<(String, String), &'static str> {
        let mut file = None;
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) if field.name() == Some("file") => {
                    let name = field.file_name().unwrap_or("").to_owned();
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes)),
                        Err(_) => return Err("unreadable"),
                    }
                }
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => return Err("unreadable"),
            }
        }
        let Some((name, bytes)) = file.filter(|(_, bytes)| !bytes.is_empty()) else {
            return Err("no_file");
        };
        if bytes.len() > csv::MAX_FILE_BYTES {
            return Err("too_large");
        }
        let text = match csv::decode(&bytes) {
            Ok(text) => text,
            Err(message) if message.contains("UTF-16") => return Err("utf16"),
            Err(_) => return Err("encoding"),
        };
        Ok((
            name.chars().filter(|c| !c.is_control()).take(100).collect(),
            text,
        ))
    }

    /// Where the browser goes after an upload: the preview, or the form with a problem.
    fn back(problem: &str) -> Response {
        Redirect::to(&format!("/desk/import?problem={problem}")).into_response()
    }

    /// `POST /desk/import/upload`: keeps the file and shows its preview.
    pub async fn upload(
        State(state): State<AppState>,
        session: Session,
        multipart: Multipart,
    ) -> Response {
        let (staff, office) = match session::require_office_with(&state, session).await {
            Ok(found) => found,
            Err(error) => return error.plain_response(),
        };
        let (name, text) = match read_upload(multipart).await {
            Ok(file) => file,
            Err(problem) => return back(problem),
        };
        // A file this desk cannot read at all is not kept: a roster uploaded here by
        // mistake would otherwise keep its ID numbers for a day.
        let header = text.lines().next().unwrap_or("");
        if header.contains("身份证") || header.to_ascii_lowercase().contains("id_number") {
            return back("roster");
        }
        let (_, bad) = csv::parse(office, &text, crate::clock::now());
        if bad.iter().any(|row| row.row == 1 && row.column == "表头") {
            return back("header");
        }
        let id = db::sync::new_token().replacen("lxs_", "", 1);
        let stored = db::imports::store(
            &state.db,
            &id,
            office,
            &staff.login,
            if name.is_empty() {
                "上传的文件"
            } else {
                &name
            },
            &text,
            crate::clock::now(),
        )
        .await;
        match stored {
            Ok(()) => Redirect::to(&format!("/desk/import?id={id}")).into_response(),
            Err(error) => {
                tracing::error!("storing an upload: {error}");
                back("unavailable")
            }
        }
    }

    /// `GET /desk/import/template.csv`: the office's template (UTF-8 with BOM, for Excel).
    pub async fn template(State(state): State<AppState>, session: Session) -> Response {
        match session::require_office_with(&state, session).await {
            Ok((_, office)) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"template.csv\""),
                    ),
                ],
                csv::template(office),
            )
                .into_response(),
            Err(error) => error.plain_response(),
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::{read_upload, template, upload};

/// What went wrong with an upload, in words.
pub fn problem_text(code: &str) -> &'static str {
    match code {
        "no_file" => "请选择要上传的 CSV 文件。",
        "too_large" => "文件超过 8 MB：请分成几个文件导入。",
        "utf16" => {
            "这是 UTF-16（Unicode 文本）文件：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再上传。"
        }
        "encoding" => "无法识别文件的编码：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再上传。",
        "unavailable" => "系统繁忙，文件没有保存：请稍后重新上传。",
        "roster" => {
            "这是学生名单（含身份证号），不是本部门的数据：文件没有保存。学生名单由研究生院在“导入学生名单”上传。"
        }
        "header" => {
            "文件的表头与本部门的模板不符（或文件是空的），文件没有保存：请下载导入模板，按模板的列填写后上传。"
        }
        _ => "无法读取上传的文件：请重新上传。",
    }
}

/// /desk/import: the template, the upload form, and a file's preview.
#[component]
pub fn DeskImportPage() -> impl IntoView {
    let query = use_query_map();
    let id = move || query.read().get("id").filter(|id| !id.is_empty());
    let page = Resource::new(id, get_import_page);
    let apply = ServerAction::<DeskImportApply>::new();
    let problem = move || query.read().get("problem").map(|code| problem_text(&code));
    let done = move || {
        let query = query.read();
        let count = |key: &str| query.get(key).and_then(|n| n.parse::<usize>().ok());
        Some((count("created")?, count("updated")?, count("unchanged")?))
    };
    view! {
        <Title text="批量导入" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => {
                        let office = page.office;
                        let preview = page
                            .preview
                            .clone()
                            .map(|preview| view! { <PreviewCard preview apply /> }.into_any());
                        let notices = view! {
                            {done().map(|(created, updated, unchanged)| view! {
                                <p class="notice success" role="status">
                                    {format!("导入完成：新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条。")}
                                </p>
                            })}
                            {problem().map(|text| view! {
                                <p class="notice error" role="alert">{text}</p>
                            })}
                        }
                        .into_any();
                        let upload = upload_section(
                            UPLOAD_PATH,
                            TEMPLATE_PATH,
                            "template.csv",
                            "导入模板",
                            "，“另存为” CSV（UTF-8 或 GBK 均可）后上传。先显示预览，确认后才导入；有任何一行有问题，整份文件都不会导入。",
                            page.columns,
                        );
                        view! {
                            <section class="card desk" aria-labelledby="import-title">
                                <p><a href="/desk">{format!("← 返回{}工作台", office.name())}</a></p>
                                <h1 id="import-title">{format!("批量导入（{}）", office.name())}</h1>
                                {notices}
                                {preview}
                                {upload}
                            </section>
                        }
                        .into_any()
                    }
                    Err(error @ (AppError::Unauthenticated | AppError::Forbidden | AppError::PasswordChangeRequired)) => {
                        view! { <crate::layout::ErrorPanel error /> }.into_any()
                    }
                    Err(error) => view! {
                        <section class="card desk">
                            <p><a href="/desk">"← 返回工作台"</a></p>
                            <h1>"批量导入"</h1>
                            <p class="notice error" role="alert">{error.to_string()}</p>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The upload form, the template's link and what each column takes: the same on every
/// CSV page (the desks' import and the roster). Erased, so that the pages' view types
/// stay within what rustc lays out.
pub fn upload_section(
    upload: &'static str,
    template: &'static str,
    template_file: &'static str,
    template_label: &'static str,
    explanation: &'static str,
    columns: Vec<(String, String)>,
) -> AnyView {
    view! {
        <h2>"上传 CSV 文件"</h2>
        <p>
            "用 Excel 填写"
            <a href=template download=template_file>{template_label}</a>
            {explanation}
        </p>
        <form method="post" action=upload enctype="multipart/form-data" class="import-form">
            <div class="field">
                <label for="import-file">"CSV 文件"</label>
                <input id="import-file" type="file" name="file" accept=".csv,text/csv" required />
            </div>
            <button type="submit" class="primary">"上传并预览"</button>
        </form>
        <h2>"各列说明"</h2>
        <table class="import-columns">
            <thead><tr><th scope="col">"列"</th><th scope="col">"填写"</th></tr></thead>
            <tbody>
                {columns.into_iter().map(|(label, help)| view! {
                    <tr><td>{label}</td><td>{help}</td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// A file's preview, and the import button when the whole file can be imported.
#[component]
fn PreviewCard(preview: ImportPreview, apply: ServerAction<DeskImportApply>) -> impl IntoView {
    let changes = preview.created + preview.updated;
    let bad = preview.bad.len();
    let older = preview.older.len();
    let verdict = if bad > 0 {
        view! {
            <p class="notice error" role="alert">
                {format!("有 {bad} 处问题，整份文件不会导入。请在 Excel 中修改后重新上传。")}
            </p>
        }
        .into_any()
    } else if changes == 0 && older == 0 {
        view! { <p class="notice" role="status">"文件中的数据与系统中的一致，没有需要导入的变更。"</p> }
            .into_any()
    } else if changes == 0 {
        view! {
            <p class="notice warning" role="status">
                {format!("没有可导入的变更：{older} 行的数据时间早于系统中已有的数据，不会导入。")}
            </p>
        }
        .into_any()
    } else {
        view! {
            <ActionForm action=apply>
                <input type="hidden" name="id" value=preview.id.clone() />
                <div class="field">
                    <label for="import-reason">"原因（写入每名学生的变更记录）"</label>
                    <textarea id="import-reason" name="reason" required maxlength="200" rows="2"></textarea>
                </div>
                <div class="field check">
                    <input type="checkbox" id="import-confirm" name="confirm" required />
                    <label for="import-confirm">{format!("我已核对，确认导入（新增 {} 条，更新 {} 条）", preview.created, preview.updated)}</label>
                </div>
                <button type="submit" class="primary">"确认导入"</button>
            </ActionForm>
            <ActionError action=apply />
        }
        .into_any()
    };
    view! {
        <section class="import-preview" aria-labelledby="preview-title">
            <h2 id="preview-title">"预览：" {preview.file_name.clone()}</h2>
            <p class="muted">{format!("上传于 {}，共 {} 条记录。", preview.uploaded_at, preview.records)}</p>
            <ul class="import-counts">
                <li>{format!("新增 {} 条", preview.created)}</li>
                <li>{format!("更新 {} 条", preview.updated)}</li>
                <li>{format!("未变 {} 条", preview.unchanged)}</li>
                <li>{format!("较旧未导入 {older} 条")}</li>
                <li>{format!("有问题 {bad} 处")}</li>
            </ul>
            {(bad > 0).then(|| view! {
                <table class="import-problems">
                    <caption>"有问题的行"</caption>
                    <thead><tr><th scope="col">"行"</th><th scope="col">"列"</th><th scope="col">"原因"</th></tr></thead>
                    <tbody>
                        {preview.bad.iter().take(500).map(|row| view! {
                            <tr><td>{row.row}</td><td>{row.column.clone()}</td><td>{row.reason.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any())}
            {(older > 0).then(|| view! {
                <table class="import-problems">
                    <caption>"数据时间较早、不会导入的行"</caption>
                    <thead><tr><th scope="col">"行"</th><th scope="col">"列"</th><th scope="col">"原因"</th></tr></thead>
                    <tbody>
                        {preview.older.iter().take(500).map(|row| view! {
                            <tr><td>{row.row}</td><td>{row.column.clone()}</td><td>{row.reason.clone()}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any())}
            {verdict}
        </section>
    }
    .into_any()
}
