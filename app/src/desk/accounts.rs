//! Accounts at the desk: the graduate school (or an admin) resets a student's password,
//! following the source guide (the student writes to the information centre with a
//! photo of the campus card and the student number); an admin creates staff accounts.
//! A new password is a one-time one, shown once to the staff member (kept in their
//! session until the result page has read it, never in an address), and must be changed
//! at the next sign-in.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use super::StaffRole;
use crate::{
    AppError,
    layout::{ActionError, ErrorPanel},
};

/// Who may reset students' passwords.
pub const RESETTERS: [StaffRole; 2] = [StaffRole::GraduateSchool, StaffRole::Admin];

/// A one-time password to hand over, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    /// The account: a 学号 or a staff login.
    pub login: String,
    pub password: String,
}

#[cfg(feature = "ssr")]
const ISSUED_KEY: &str = "issued_password";

#[cfg(feature = "ssr")]
async fn keep_for_display(issued: &Issued) -> Result<(), AppError> {
    crate::auth::session::current_session()
        .await?
        .insert(ISSUED_KEY, issued)
        .await
        .map_err(AppError::internal)
}

/// Resets a student's password to a one-time one; every session of the student ends.
#[server(prefix = "/api", endpoint = "reset_student_password")]
pub async fn reset_student_password(
    student_number: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{auth::session, db::accounts, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let staff = session::require_role(&state, &RESETTERS).await?;
            let number = student_number.trim();
            if number.is_empty() || number.chars().count() > 32 {
                return Err(AppError::BadRequest("请输入学号。".to_owned()));
            }
            if confirm.as_deref() != Some("on") {
                return Err(AppError::BadRequest(
                    "请先核实学生身份并勾选确认。".to_owned(),
                ));
            }
            if crate::db::roster::deactivated(&state.db, number).await? {
                return Err(AppError::BadRequest(format!(
                    "学号 {number} 已不在本届离校学生名单中（已停用），无法登录，无需重置密码。如需恢复，请在“导入学生名单”中重新导入该生。"
                )));
            }
            let password = crate::auth::password::one_time_password();
            let hash = crate::auth::password::hash(password.clone())
                .await
                .map_err(AppError::internal)?;
            let mut who = session::acting(&staff.login);
            who.subject = Some(number.to_owned());
            if !accounts::reset_student_password(
                &state.db,
                number,
                &hash,
                crate::clock::now(),
                &who,
            )
            .await?
            {
                return Err(AppError::BadRequest(format!(
                    "没有学号为 {number} 的学生账号。"
                )));
            }
            keep_for_display(&Issued {
                login: number.to_owned(),
                password,
            })
            .await?;
            leptos_axum::redirect("/desk/reset?done=1");
            Ok(())
        }
        .await,
    )
}

/// Creates a staff account with a one-time password (admins only).
#[server(prefix = "/api", endpoint = "create_staff_account")]
pub async fn create_staff_account(
    login: String,
    role: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::session,
        db::{accounts, audit},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let staff = session::require_role(&state, &[StaffRole::Admin]).await?;
            let login = login.trim();
            let valid_login = (3..=32).contains(&login.len())
                && login
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
                && !login.chars().all(|c| c.is_ascii_digit());
            if !valid_login {
                return Err(AppError::BadRequest(
                    "工作账号为 3 至 32 位字母、数字或 _ . -，且不能全为数字（全数字为学号）。"
                        .to_owned(),
                ));
            }
            let role = StaffRole::from_code(&role)
                .ok_or_else(|| AppError::BadRequest("请选择角色。".to_owned()))?;
            if confirm.as_deref() != Some("on") {
                return Err(AppError::BadRequest("请勾选确认后再创建。".to_owned()));
            }
            let password = crate::auth::password::one_time_password();
            let hash = crate::auth::password::hash(password.clone())
                .await
                .map_err(AppError::internal)?;
            if !accounts::create_staff(&state.db, login, role.code(), &hash).await? {
                return Err(AppError::Conflict(format!("工作账号 {login} 已存在。")));
            }
            let mut who = session::acting(&staff.login);
            who.subject = Some(login.to_owned());
            audit::record(
                &state.db,
                crate::clock::now(),
                audit::Event::StaffAccountCreated,
                &who,
            )
            .await?;
            keep_for_display(&Issued {
                login: login.to_owned(),
                password,
            })
            .await?;
            leptos_axum::redirect("/admin?done=1");
            Ok(())
        }
        .await,
    )
}

/// The one-time password just issued by this staff member, once: reading it removes it.
#[server(prefix = "/api", endpoint = "take_issued_password")]
pub async fn take_issued_password() -> Result<Option<Issued>, AppError> {
    use crate::{auth::session, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            session::require_role(&state, &RESETTERS).await?;
            session::current_session()
                .await?
                .remove::<Issued>(ISSUED_KEY)
                .await
                .map_err(AppError::internal)
        }
        .await,
    )
}

#[component]
fn IssuedNotice(issued: Issued, what: &'static str) -> impl IntoView {
    view! {
        <div class="notice success" role="status">
            <p>{format!("{what} {} 的一次性密码：", issued.login)} <strong class="one-time">{issued.password}</strong></p>
            <p>"此密码只显示这一次，请当面或通过安全渠道交给本人；首次登录后须修改。"</p>
        </div>
    }
}

/// 研究生院 · 重置学生密码.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = ServerAction::<ResetStudentPassword>::new();
    let issued = Resource::new(move || reset.version().get(), |_| take_issued_password());
    view! {
        <Title text="重置学生密码" />
        <section class="card narrow" aria-labelledby="reset-title">
            <h1 id="reset-title">"重置学生密码"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match issued.await {
                        Ok(Some(issued)) => view! { <IssuedNotice issued what="学号" /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            <p class="hint">
                "按学校规定：学生手持校园卡（或身份证）拍照，与学号一起发送到 auth@cumt.edu.cn 申请重置。"
                "核实身份后在此重置，学生的所有登录会话随即失效。"
            </p>
            <ActionForm action=reset>
                <div class="field">
                    <label for="reset-number">"学号"</label>
                    <input id="reset-number" name="student_number" maxlength="32" required />
                </div>
                <div class="field check">
                    <input type="checkbox" id="reset-confirm" name="confirm" required />
                    <label for="reset-confirm">"已核实学生身份（照片与学号一致）"</label>
                </div>
                <button type="submit" class="primary">"重置密码"</button>
            </ActionForm>
            <ActionError action=reset />
        </section>
    }
}

/// 系统管理 · 创建工作账号.
#[component]
pub fn AdminPage() -> impl IntoView {
    let create = ServerAction::<CreateStaffAccount>::new();
    let issued = Resource::new(move || create.version().get(), |_| take_issued_password());
    let roles = [
        StaffRole::Office(crate::clearance::rules::Office::Library),
        StaffRole::Office(crate::clearance::rules::Office::Archives),
        StaffRole::Office(crate::clearance::rules::Office::Housing),
        StaffRole::Office(crate::clearance::rules::Office::Finance),
        StaffRole::GraduateSchool,
        StaffRole::Admin,
    ];
    view! {
        <Title text="系统管理" />
        <section class="card narrow" aria-labelledby="admin-title">
            <h1 id="admin-title">"创建工作账号"</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match issued.await {
                        Ok(Some(issued)) => view! { <IssuedNotice issued what="工作账号" /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create>
                <div class="field">
                    <label for="staff-login">"工作账号"</label>
                    <input id="staff-login" name="login" maxlength="32" required />
                </div>
                <div class="field">
                    <label for="staff-role">"角色"</label>
                    <select id="staff-role" name="role">
                        {roles.into_iter().map(|role| view! { <option value=role.code()>{role.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field check">
                    <input type="checkbox" id="staff-confirm" name="confirm" required />
                    <label for="staff-confirm">"确认创建（一次性密码只显示一次）"</label>
                </div>
                <button type="submit" class="primary">"创建"</button>
            </ActionForm>
            <ActionError action=create />
            <p><a href="/desk/reset">"重置学生密码"</a></p>
        </section>
    }
}
