//! 导入学生名单: the graduate school uploads the graduating cohort (a CSV file from
//! Excel), sees what importing it would do, and imports it in one transaction.
//!
//! Hashing is the slow part: every new student's account needs an argon2id hash of the
//! initial password (tens of milliseconds of CPU and 19 MiB each). So the upload starts
//! the hashing at once, in the background, a few hashes at a time (never all of the
//! sign-in hashing slots: students can still sign in meanwhile), and the page shows its
//! progress; the ID numbers exist only in that task's memory. The preview comes when
//! every hash is ready, and the import itself is then quick. An account, once created,
//! is never changed by an import: a password the student has changed stays.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use super::SchoolTabs;
use crate::{
    AppError,
    desk::import::BadRow,
    layout::{ActionError, ErrorPanel},
};

/// Where the file is posted (the server mounts [`upload`] there).
pub const UPLOAD_PATH: &str = "/desk/roster/upload";
/// The template's address (the server mounts [`template`] there).
pub const TEMPLATE_PATH: &str = "/desk/roster/template.csv";

/// What importing a roster would do, or did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterCounts {
    pub created: usize,
    /// Changed 基本信息, or back in the cohort (reactivated counts here too).
    pub updated: usize,
    pub reactivated: usize,
    pub unchanged: usize,
    pub accounts_created: usize,
    /// Students in the cohort whom the file does not list (deactivated by a full roster).
    pub not_listed: usize,
    /// Deactivated by this import.
    pub deactivated: usize,
}

/// An uploaded roster, as its page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RosterUpload {
    /// Hashing the new students' initial passwords.
    Preparing { done: usize, total: usize },
    /// The preparation stopped (its server was restarted, say).
    Failed,
    Ready {
        rows: usize,
        /// As a full roster (students not listed are deactivated).
        counts: RosterCounts,
        bad: Vec<BadRow>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterImport {
    pub id: String,
    pub file_name: String,
    pub uploaded_at: String,
    pub state: RosterUpload,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterPageData {
    pub columns: Vec<(String, String)>,
    pub import: Option<RosterImport>,
    /// The upload asked for is not there (imported, expired, someone else's).
    pub gone: Option<String>,
}

#[server(prefix = "/api", endpoint = "school_roster")]
pub async fn get_roster_page(id: Option<String>) -> Result<RosterPageData, AppError> {
    use crate::{auth::session, error::respond, school::GRADUATE_SCHOOL, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let staff = session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let columns = super::roster_file::column_help()
                .into_iter()
                .map(|(label, help)| (label.to_owned(), help.to_owned()))
                .collect();
            let (import, gone) = match id.as_deref().filter(|id| !id.is_empty()) {
                None => (None, None),
                Some(id) => match server::view(&state, &staff.login, id).await {
                    Ok(import) => (Some(import), None),
                    Err(AppError::BadRequest(message)) => (None, Some(message)),
                    Err(error) => return Err(error),
                },
            };
            Ok(RosterPageData {
                columns,
                import,
                gone,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "school_roster_apply")]
pub async fn roster_apply(
    id: String,
    mode: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{auth::session, error::respond, school::GRADUATE_SCHOOL, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let staff = session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let full = match mode.as_str() {
                "full" => true,
                "partial" => false,
                _ => {
                    return Err(AppError::BadRequest(
                        "请选择导入方式：完整名单或补充名单。".to_owned(),
                    ));
                }
            };
            if confirm.as_deref() != Some("on") {
                return Err(AppError::BadRequest(
                    "请勾选“确认导入”后再提交。".to_owned(),
                ));
            }
            let counts = server::apply(&state, &staff.login, &id, full).await?;
            leptos_axum::redirect(&format!(
                "/desk/roster?created={}&updated={}&unchanged={}&accounts={}&deactivated={}",
                counts.created,
                counts.updated,
                counts.unchanged,
                counts.accounts_created,
                counts.deactivated
            ));
            Ok(())
        }
        .await,
    )
}

/// The server's side: the upload, the background hashing, the preview and the import.
#[cfg(feature = "ssr")]
pub mod server {
    use axum::{
        extract::{Multipart, State},
        http::{HeaderValue, header},
        response::{IntoResponse, Redirect, Response},
    };
    use tower_sessions::Session;

    use super::{RosterCounts, RosterImport, RosterUpload};
    use crate::{
        AppError,
        auth::{password, session},
        db::{
            self, Db,
            roster::{ApplyOutcome, PreparedRow, Status},
        },
        school::{GRADUATE_SCHOOL, roster_file},
        state::AppState,
        sync::csv::BadRow,
    };

    /// Hashes at once for an import: at most all but one of the sign-in hashing slots,
    /// and no more than the machine has cores.
    fn parallel_hashes() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        cores.clamp(1, password::CONCURRENT_HASHES - 1)
    }

    /// Reads `text` (a decoded roster file), keeps its rows without ID numbers and starts
    /// hashing the new students' initial passwords in the background. The upload's id.
    pub async fn start(
        db: &Db,
        uploaded_by: &str,
        file_name: &str,
        text: &str,
    ) -> Result<String, AppError> {
        let (parsed, mut bad) = roster_file::parse(text);
        let logins = db::roster::logins(db).await?;
        let mut rows = Vec::with_capacity(parsed.len());
        let mut to_hash = Vec::new();
        for parsed in parsed {
            let number = &parsed.row.basic.student_number;
            if logins.staff.contains(number) {
                bad.push(BadRow {
                    row: parsed.row.line,
                    column: "学号".to_owned(),
                    reason: format!("学号 {number} 与一个工作账号重名：请核对学号。"),
                });
                continue;
            }
            if !logins.students.contains(number) {
                to_hash.push((rows.len(), parsed.initial_password));
            }
            rows.push(PreparedRow {
                row: parsed.row,
                password_hash: None,
            });
        }
        bad.sort_by_key(|row| row.row);
        // A file with problems is not imported, so nothing is hashed for it.
        if !bad.is_empty() {
            to_hash.clear();
        }
        let id = db::sync::new_token().replacen("lxs_", "", 1);
        let status = if to_hash.is_empty() {
            Status::Ready
        } else {
            Status::Preparing
        };
        let now = crate::clock::now();
        db::roster::create(
            db,
            &id,
            uploaded_by,
            file_name,
            status,
            &rows,
            &bad,
            to_hash.len(),
            now,
        )
        .await?;
        if !to_hash.is_empty() {
            tokio::spawn(prepare(db.clone(), id.clone(), rows, to_hash));
        }
        Ok(id)
    }

    /// Hashes every new account's initial password, reporting progress, and stores the
    /// rows with their hashes. The passwords are dropped with this task.
    async fn prepare(
        db: Db,
        id: String,
        mut rows: Vec<PreparedRow>,
        to_hash: Vec<(usize, String)>,
    ) {
        let parallel = parallel_hashes();
        let mut pending = to_hash.into_iter();
        let mut running = tokio::task::JoinSet::new();
        let mut done = 0;
        let mut reported = std::time::Instant::now();
        let mut failed = false;
        loop {
            while running.len() < parallel {
                let Some((index, initial)) = pending.next() else {
                    break;
                };
                running.spawn(async move { (index, password::hash(initial).await) });
            }
            match running.join_next().await {
                None => break,
                Some(Ok((index, Ok(hash)))) => {
                    rows[index].password_hash = Some(hash);
                    done += 1;
                }
                Some(Ok((_, Err(error)))) => {
                    tracing::error!(%error, "roster import: hashing failed");
                    failed = true;
                    break;
                }
                Some(Err(error)) => {
                    tracing::error!(%error, "roster import: a hashing task failed");
                    failed = true;
                    break;
                }
            }
            if reported.elapsed() >= std::time::Duration::from_millis(500) {
                reported = std::time::Instant::now();
                if let Err(error) = db::roster::progress(&db, &id, done, crate::clock::now()).await
                {
                    tracing::warn!(%error, "roster import: progress not saved");
                }
            }
        }
        let rows = (!failed).then_some(rows.as_slice());
        if let Err(error) = db::roster::finish(&db, &id, rows, crate::clock::now()).await {
            tracing::error!(%error, "roster import: the prepared rows were not saved");
        }
    }

    /// The upload of `login`; anyone else's is "not found".
    async fn stored(
        state: &AppState,
        login: &str,
        id: &str,
    ) -> Result<db::roster::StoredRoster, AppError> {
        let gone = || {
            AppError::BadRequest(
                "找不到这份上传的名单（超过一天未导入的名单会被删除）：请重新上传。".to_owned(),
            )
        };
        if id.len() > 100 {
            return Err(gone());
        }
        let stored = db::roster::load(&state.db, id, crate::clock::now())
            .await?
            .ok_or_else(gone)?;
        if stored.uploaded_by != login {
            return Err(gone());
        }
        Ok(stored)
    }

    pub(super) async fn view(
        state: &AppState,
        login: &str,
        id: &str,
    ) -> Result<RosterImport, AppError> {
        let stored = stored(state, login, id).await?;
        let upload = match stored.status {
            Status::Preparing => RosterUpload::Preparing {
                done: stored.accounts_done,
                total: stored.accounts_total,
            },
            Status::Failed => RosterUpload::Failed,
            Status::Ready => RosterUpload::Ready {
                rows: stored.rows.len(),
                counts: db::roster::compare(&state.db, &stored.rows, true).await?,
                bad: stored
                    .bad
                    .into_iter()
                    .map(|row| super::BadRow {
                        row: row.row,
                        column: row.column,
                        reason: row.reason,
                    })
                    .collect(),
            },
        };
        Ok(RosterImport {
            id: id.to_owned(),
            file_name: stored.file_name,
            uploaded_at: stored.uploaded_at,
            state: upload,
        })
    }

    /// Imports a prepared upload: every row or none.
    pub async fn apply(
        state: &AppState,
        login: &str,
        id: &str,
        full: bool,
    ) -> Result<RosterCounts, AppError> {
        let stored = stored(state, login, id).await?;
        match stored.status {
            Status::Ready => {}
            Status::Preparing => {
                return Err(AppError::Conflict(
                    "初始密码还在生成中，请等进度完成后再导入。".to_owned(),
                ));
            }
            Status::Failed => {
                return Err(AppError::Conflict(
                    "这份名单的准备工作中断了，请重新上传。".to_owned(),
                ));
            }
        }
        if !stored.bad.is_empty() {
            return Err(AppError::BadRequest(format!(
                "名单中有 {} 行有问题，整份名单没有导入：请修改后重新上传。",
                stored.bad.len()
            )));
        }
        let who = session::acting(login);
        match db::roster::apply(&state.db, &stored.rows, full, crate::clock::now(), &who).await? {
            ApplyOutcome::Applied(counts) => {
                db::roster::delete(&state.db, id).await?;
                Ok(counts)
            }
            ApplyOutcome::Stale => Err(AppError::Conflict(
                "上传之后学生名单已发生变化，整份名单没有导入：请重新上传。".to_owned(),
            )),
        }
    }

    fn back(problem: &str) -> Response {
        Redirect::to(&format!("/desk/roster?problem={problem}")).into_response()
    }

    /// `POST /desk/roster/upload`: reads the file and shows its progress, then preview.
    pub async fn upload(
        State(state): State<AppState>,
        session: Session,
        multipart: Multipart,
    ) -> Response {
        let staff = match session::require_role_with(&state, session, &GRADUATE_SCHOOL).await {
            Ok(staff) => staff,
            Err(error) => return error.plain_response(),
        };
        let (name, text) = match crate::desk::import::read_upload(multipart).await {
            Ok(file) => file,
            Err(problem) => return back(problem),
        };
        let name = if name.is_empty() {
            "上传的名单".to_owned()
        } else {
            name
        };
        match start(&state.db, &staff.login, &name, &text).await {
            Ok(id) => Redirect::to(&format!("/desk/roster?id={id}")).into_response(),
            Err(_) => back("unavailable"),
        }
    }

    /// `GET /desk/roster/template.csv`: the roster's template (UTF-8 with BOM, for Excel).
    pub async fn template(State(state): State<AppState>, session: Session) -> Response {
        match session::require_role_with(&state, session, &GRADUATE_SCHOOL).await {
            Ok(_) => (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"roster-template.csv\""),
                    ),
                ],
                roster_file::template(),
            )
                .into_response(),
            Err(error) => error.plain_response(),
        }
    }
}

#[cfg(feature = "ssr")]
pub use server::{template, upload};

/// What went wrong with an upload, in words.
fn problem_text(code: &str) -> &'static str {
    match code {
        "too_large" => "文件超过 8 MB：请分成几个文件导入（选“补充名单”）。",
        "unavailable" => "系统繁忙，名单没有保存：请稍后重新上传。",
        code => crate::desk::import::problem_text(code),
    }
}

/// /desk/roster: the template, the upload form, an upload's progress and preview.
#[component]
pub fn RosterPage() -> impl IntoView {
    let query = use_query_map();
    let id = move || query.read().get("id").filter(|id| !id.is_empty());
    let page = Resource::new(id, get_roster_page);
    let apply = ServerAction::<RosterApply>::new();
    let problem = move || query.read().get("problem").map(|code| problem_text(&code));
    let done = move || {
        let query = query.read();
        let count = |key: &str| query.get(key).and_then(|n| n.parse::<usize>().ok());
        Some((
            count("created")?,
            count("updated")?,
            count("unchanged")?,
            count("accounts")?,
            count("deactivated")?,
        ))
    };
    view! {
        <Title text="导入学生名单" />
        <Transition fallback=|| view! { <p class="loading">"加载中…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(data) => {
                        let notices = view! {
                            {done().map(|(created, updated, unchanged, accounts, deactivated)| view! {
                                <p class="notice success" role="status">
                                    {format!("导入完成：新增 {created} 名学生（创建账号 {accounts} 个），更新 {updated} 名，未变 {unchanged} 名，停用 {deactivated} 名。")}
                                </p>
                            })}
                            {problem().map(|text| view! { <p class="notice error" role="alert">{text}</p> })}
                            {data.gone.map(|text| view! { <p class="notice error" role="alert">{text}</p> })}
                        }
                        .into_any();
                        let import = data
                            .import
                            .map(|import| view! { <ImportCard import apply /> }.into_any());
                        let upload = crate::desk::import::upload_section(
                            UPLOAD_PATH,
                            TEMPLATE_PATH,
                            "roster-template.csv",
                            "名单模板",
                            "，“另存为” CSV（UTF-8 或 GBK 均可）后上传。身份证号只用于生成初始密码（后 6 位，字母大写；无身份证的为学号），不会保存。先显示预览，确认后才导入。",
                            data.columns,
                        );
                        view! {
                            <section class="card desk" aria-labelledby="roster-title">
                                <h1 id="roster-title">"研究生院 · 导入学生名单"</h1>
                                <SchoolTabs current="/desk/roster" />
                                {notices}
                                {import}
                                {upload}
                            </section>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Reloads the page a second after it was shown: the progress of the hashing, with
/// JavaScript (without, the page's link does it).
#[island]
fn ReloadSoon() -> impl IntoView {
    Effect::new(move |_| {
        set_timeout(
            || {
                #[cfg(feature = "hydrate")]
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            },
            std::time::Duration::from_millis(1000),
        );
    });
}

/// An upload: its progress while hashing, or its preview and the import form.
#[component]
fn ImportCard(import: RosterImport, apply: ServerAction<RosterApply>) -> impl IntoView {
    let heading = format!(
        "名单：{}（上传于 {}）",
        import.file_name, import.uploaded_at
    );
    let body = match import.state {
        RosterUpload::Preparing { done, total } => {
            // With JavaScript the progress updates itself; without, the link reloads.
            let link = format!("/desk/roster?id={}", import.id);
            view! {
                <ReloadSoon />
                <p role="status">
                    {format!("正在为 {total} 名新学生生成初始密码（已完成 {done} 名）。完成后显示预览；可以离开此页，稍后再回来查看。")}
                </p>
                <progress max=total.to_string() value=done.to_string() aria-label="生成初始密码的进度"></progress>
                <p><a href=link>"刷新查看进度"</a></p>
            }
            .into_any()
        }
        RosterUpload::Failed => view! {
            <p class="notice error" role="alert">"这份名单的准备工作中断了（服务器可能重启过），名单没有导入：请重新上传。"</p>
        }
        .into_any(),
        RosterUpload::Ready { rows, counts, bad } => {
            let bad_count = bad.len();
            let table = (bad_count > 0).then(|| view! {
                <p class="notice error" role="alert">
                    {format!("有 {bad_count} 处问题，整份名单不会导入。请在 Excel 中修改后重新上传。")}
                </p>
                <table class="import-problems">
                    <caption>"有问题的行"</caption>
                    <thead><tr><th scope="col">"行"</th><th scope="col">"列"</th><th scope="col">"原因"</th></tr></thead>
                    <tbody>
                        {bad.into_iter().take(500).map(|row| view! {
                            <tr><td>{row.row}</td><td>{row.column}</td><td>{row.reason}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            });
            let form = (bad_count == 0).then(|| view! {
                <ActionForm action=apply>
                    <input type="hidden" name="id" value=import.id.clone() />
                    <fieldset class="field">
                        <legend>"导入方式"</legend>
                        <div class="check">
                            <input type="radio" id="mode-partial" name="mode" value="partial" checked />
                            <label for="mode-partial">"补充名单：只新增和更新，不停用任何学生"</label>
                        </div>
                        <div class="check">
                            <input type="radio" id="mode-full" name="mode" value="full" />
                            <label for="mode-full">
                                {format!("完整名单：停用名单外的 {} 名学生（不删除，其记录保留，可再次导入恢复）", counts.not_listed)}
                            </label>
                        </div>
                    </fieldset>
                    <div class="field check">
                        <input type="checkbox" id="roster-confirm" name="confirm" required />
                        <label for="roster-confirm">"我已核对，确认导入"</label>
                    </div>
                    <button type="submit" class="primary">"确认导入"</button>
                </ActionForm>
                <ActionError action=apply />
            });
            view! {
                <p class="muted">{format!("共 {rows} 名学生。")}</p>
                <ul class="import-counts">
                    <li>{format!("新增 {} 名（创建账号 {} 个）", counts.created, counts.accounts_created)}</li>
                    <li>{format!("更新 {} 名（其中重新启用 {} 名）", counts.updated, counts.reactivated)}</li>
                    <li>{format!("未变 {} 名", counts.unchanged)}</li>
                    <li>{format!("名单外 {} 名", counts.not_listed)}</li>
                    <li>{format!("有问题 {bad_count} 处")}</li>
                </ul>
                {table}
                {form}
            }
            .into_any()
        }
    };
    view! {
        <section class="import-preview" aria-labelledby="roster-preview-title">
            <h2 id="roster-preview-title">{heading}</h2>
            {body}
        </section>
    }
    .into_any()
}
