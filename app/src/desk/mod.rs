//! The offices' desk (部门工作台): staff of the library, the archives, housing and finance
//! find students, see and change only their own office's facts and standing, and read
//! that office's history. Every server function checks the role on the server.

pub mod accounts;
pub mod import;
pub mod input;
mod page;

pub use page::{DeskBatchPage, DeskPage, DeskStudentPage};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    clearance::{
        SubmittedRef,
        model::{BasicInfo, ClearanceFacts, HistoryEntry, OfficeState},
        rules::{Office, Verdict},
    },
};
use input::FactsForm;

/// Percent-encodes a query value (the filters may hold Chinese names).
pub fn encode(value: &str) -> String {
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

/// What a staff account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffRole {
    Office(Office),
    GraduateSchool,
    /// Creates staff accounts; may reset students' passwords too.
    Admin,
}

impl StaffRole {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "graduate_school" => Some(StaffRole::GraduateSchool),
            "admin" => Some(StaffRole::Admin),
            code => Office::from_code(code).map(StaffRole::Office),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Office(office) => office.code(),
            StaffRole::GraduateSchool => "graduate_school",
            StaffRole::Admin => "admin",
        }
    }

    /// Where this role works after signing in.
    pub fn home(self) -> &'static str {
        match self {
            StaffRole::Office(_) => "/desk",
            StaffRole::GraduateSchool => "/desk/overview",
            StaffRole::Admin => "/admin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaffRole::Office(office) => office.name(),
            StaffRole::GraduateSchool => "研究生院",
            StaffRole::Admin => "系统管理员",
        }
    }

    /// The office whose facts this role keeps, if any.
    pub fn office(self) -> Option<Office> {
        match self {
            StaffRole::Office(office) => Some(office),
            StaffRole::GraduateSchool | StaffRole::Admin => None,
        }
    }
}

/// How the list filters by an office's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowStatus {
    Pending,
    Pass,
    Fail,
    NotApplicable,
    Overridden,
}

impl RowStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Fail,
        Self::Pass,
        Self::NotApplicable,
        Self::Overridden,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::NotApplicable => "not_applicable",
            Self::Overridden => "overridden",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待核验",
            Self::Pass => "通过",
            Self::Fail => "未通过",
            Self::NotApplicable => "不涉及",
            Self::Overridden => "人工核定",
        }
    }

    pub fn of(verdict: &Verdict) -> Self {
        use crate::clearance::rules::Basis;
        match verdict.basis {
            Basis::Pending => Self::Pending,
            Basis::NotApplicable => Self::NotApplicable,
            Basis::Overridden => Self::Overridden,
            Basis::Facts if verdict.passed() => Self::Pass,
            Basis::Facts => Self::Fail,
        }
    }
}

/// The list's filters, as the page's address carries them (any may be left out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeskQuery {
    /// 学号 or part of a name.
    pub q: String,
    pub college: String,
    pub grade: String,
    /// A [`RowStatus`] code, or empty for all.
    pub status: String,
    /// From 1.
    pub page: u32,
}

pub const PAGE_SIZE: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskRow {
    pub student_number: String,
    pub name: String,
    pub college: String,
    pub grade: String,
    pub status: RowStatus,
    /// This office's facts in a few words.
    pub summary: String,
    pub submitted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskList {
    pub office: Office,
    pub rows: Vec<DeskRow>,
    /// Students matching the filters (all pages).
    pub total: usize,
    pub page: u32,
    pub pages: u32,
    pub colleges: Vec<String>,
    pub grades: Vec<String>,
}

/// One student as an office's staff see them: basic information, and of the offices'
/// facts only their own (the others are blanked before they leave the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskStudent {
    pub office: Office,
    pub basic: BasicInfo,
    pub facts: ClearanceFacts,
    pub state: OfficeState,
    pub verdict: Verdict,
    pub history: Vec<HistoryEntry>,
    pub submitted: Option<SubmittedRef>,
    /// Removed from the cohort by the graduate school's roster.
    pub deactivated: bool,
}

/// Keeps only `office`'s facts and standing.
pub fn only_office(facts: &ClearanceFacts, office: Office) -> ClearanceFacts {
    use crate::clearance::model::OfficeStates;
    let mut kept = ClearanceFacts {
        basic: facts.basic.clone(),
        library: None,
        archives: None,
        housing: None,
        arrears: vec![],
        states: OfficeStates::all_pending(),
    };
    match office {
        Office::Library => kept.library = facts.library.clone(),
        Office::Archives => kept.archives = facts.archives,
        Office::Housing => kept.housing = facts.housing.clone(),
        Office::Finance => kept.arrears = facts.arrears.clone(),
    }
    *kept.states.get_mut(office) = facts.states.get(office).clone();
    kept
}

#[server(prefix = "/api", endpoint = "desk_list")]
pub async fn get_desk_list(query: DeskQuery) -> Result<DeskList, AppError> {
    use crate::{auth::session, db::desk, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let (_, office) = session::require_office(&state).await?;
            let status = match query.status.as_str() {
                "" => None,
                code => Some(
                    RowStatus::from_code(code)
                        .ok_or_else(|| AppError::BadRequest("未知的状态筛选条件。".to_owned()))?,
                ),
            };
            Ok(desk::list(&state.db, office, &query, status).await?)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "desk_student")]
pub async fn get_desk_student(student_number: String) -> Result<DeskStudent, AppError> {
    use crate::{
        auth::session,
        db::{clearance, offices},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let (_, office) = session::require_office(&state).await?;
            let (facts, departures) = clearance::load(&state.db, student_number.trim())
                .await?
                .ok_or(AppError::NotFound)?;
            let submitted = departures.submitted;
            let deactivated =
                crate::db::roster::deactivated(&state.db, &facts.basic.student_number).await?;
            let facts = only_office(&facts, office);
            let verdict = crate::clearance::rules::verdict(office, &facts);
            let history =
                offices::history(&state.db, &facts.basic.student_number, Some(office), true)
                    .await?;
            Ok(DeskStudent {
                office,
                basic: facts.basic.clone(),
                state: facts.states.get(office).clone(),
                facts,
                verdict,
                history,
                submitted,
                deactivated,
            })
        }
        .await,
    )
}

/// Saves this office's facts of one student (the office has reported).
#[server(prefix = "/api", endpoint = "desk_save_facts")]
pub async fn desk_save_facts(
    student_number: String,
    version: i64,
    reason: String,
    confirm: Option<String>,
    form: FactsForm,
) -> Result<(), AppError> {
    use crate::{db::offices::Change, error::respond};
    respond(
        async {
            let (_, office) = office_staff().await?;
            let facts = input::facts(office, &form).map_err(AppError::BadRequest)?;
            change(
                &student_number,
                office,
                Change::Facts(facts),
                version,
                &reason,
                confirm,
            )
            .await
        }
        .await,
    )
}

/// 不涉及, an override (pass or fail), or removing one.
#[server(prefix = "/api", endpoint = "desk_set_standing")]
pub async fn desk_set_standing(
    student_number: String,
    version: i64,
    reason: String,
    confirm: Option<String>,
    action: String,
    ends_with_new_facts: Option<String>,
) -> Result<(), AppError> {
    use crate::{db::offices::Change, error::respond};
    respond(
        async {
            let (_, office) = office_staff().await?;
            let change_to = match action.as_str() {
                "not_applicable" => Change::NotApplicable,
                "override_pass" | "override_fail" => Change::Override {
                    pass: action == "override_pass",
                    ends_with_new_facts: ends_with_new_facts.as_deref() == Some("on"),
                },
                "remove_override" => Change::RemoveOverride,
                _ => return Err(AppError::BadRequest("未知的操作。".to_owned())),
            };
            change(
                &student_number,
                office,
                change_to,
                version,
                &reason,
                confirm,
            )
            .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
async fn office_staff() -> Result<(crate::auth::session::Staff, Office), AppError> {
    let state = crate::state::AppState::from_context()?;
    crate::auth::session::require_office(&state).await
}

/// Applies one change for the signed-in office's staff; a stale version is refused with
/// the record's current state, and success returns to the student's page.
#[cfg(feature = "ssr")]
async fn change(
    student_number: &str,
    office: Office,
    change: crate::db::offices::Change,
    version: i64,
    reason: &str,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::db::offices::{self, Actor, ChangeOutcome};
    let state = crate::state::AppState::from_context()?;
    let (staff, _) = crate::auth::session::require_office(&state).await?;
    let reason = input::reason(reason).map_err(AppError::BadRequest)?;
    input::confirmed(confirm.as_deref()).map_err(AppError::BadRequest)?;
    let number = student_number.trim();
    match offices::apply(
        &state.db,
        number,
        office,
        &change,
        version,
        &reason,
        &Actor::Staff(staff.login),
        crate::clock::now(),
    )
    .await
    .map_err(|error| match error {
        sqlx::Error::Protocol(message) => AppError::BadRequest(message),
        other => AppError::from(other),
    })? {
        ChangeOutcome::Saved(_) => {
            leptos_axum::redirect(&format!("/desk/student/{number}?saved=1"));
            Ok(())
        }
        ChangeOutcome::Stale(current, now) => {
            Err(AppError::Conflict(stale_message(&current, &now)))
        }
        ChangeOutcome::NoSuchStudent => Err(AppError::NotFound),
        ChangeOutcome::Refused(message) => Err(AppError::Conflict(message)),
    }
}

/// A save based on an older version: never a silent overwrite; says what is there now.
pub fn stale_message(current: &OfficeState, now: &str) -> String {
    let mut message = format!(
        "保存失败：该记录已被他人修改。当前数据：{now}（第 {} 版",
        current.version
    );
    if let Some(at) = &current.reported_at {
        message.push_str(&format!("，数据更新于 {at}"));
    }
    message.push_str("）。您的修改没有保存，请刷新页面查看当前数据后重新填写。");
    message
}

/// A batch: one change, one reason, for the students selected on the list or for the
/// whole filtered list. The list's form sends it to the preview page by GET; the
/// preview's confirmation posts it back with the preview's token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BatchRequest {
    /// "selected" (the ticked rows) or "filtered" (every student the filters match).
    pub scope: String,
    pub numbers: Vec<String>,
    pub q: String,
    pub college: String,
    pub grade: String,
    pub status: String,
    /// checked_out (housing), not_applicable, override_pass, override_fail, remove_override.
    pub action: String,
    pub reason: String,
    pub checked_out_on: String,
    pub checked_out_by: String,
    pub ends_with_new_facts: String,
}

/// The most students one batch may change.
pub const MAX_BATCH: usize = 5_000;

/// What a batch would do, shown before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchPreview {
    pub office: Office,
    pub count: usize,
    /// What will be done, in words.
    pub action: String,
    pub reason: String,
    /// The first students (学号, 姓名), to check the list is the intended one.
    pub sample: Vec<(String, String)>,
    /// Names the exact students and their records' versions: the confirmation is
    /// refused if anything changed in between.
    pub token: String,
}

/// The action of a batch in words, or why it cannot be done by this office.
pub fn batch_action_label(office: Office, request: &BatchRequest) -> Result<String, String> {
    let label = match request.action.as_str() {
        "checked_out" if office == Office::Housing => format!(
            "办理退宿（退宿日期 {}，办理人 {}）",
            request.checked_out_on.trim(),
            request.checked_out_by.trim()
        ),
        "not_applicable" => "设为不涉及".to_owned(),
        "override_pass" => "人工核定通过".to_owned(),
        "override_fail" => "人工核定未通过".to_owned(),
        "remove_override" => "撤销人工核定".to_owned(),
        _ => return Err("请选择批量操作。".to_owned()),
    };
    Ok(label)
}

#[cfg(feature = "ssr")]
mod batch {
    use super::*;
    use crate::db::{desk, offices::Change};

    /// The change a batch request asks for, checked.
    pub fn change(office: Office, request: &BatchRequest) -> Result<Change, AppError> {
        batch_action_label(office, request).map_err(AppError::BadRequest)?;
        Ok(match request.action.as_str() {
            "checked_out" => {
                let form = input::FactsForm {
                    campus: Some("-".into()),
                    building: Some("-".into()),
                    room: Some("-".into()),
                    checked_out_on: Some(request.checked_out_on.clone()),
                    checked_out_by: Some(request.checked_out_by.clone()),
                    ..input::FactsForm::default()
                };
                match input::facts(Office::Housing, &form).map_err(AppError::BadRequest)? {
                    crate::db::offices::OfficeFacts::Housing(record) => {
                        match (record.checked_out_on, record.checked_out_by) {
                            (Some(on), Some(by)) => Change::CheckOut { on, by },
                            _ => {
                                return Err(AppError::BadRequest(
                                    "办理退宿须填写退宿日期和退宿办理人。".to_owned(),
                                ));
                            }
                        }
                    }
                    _ => return Err(AppError::Internal),
                }
            }
            "not_applicable" => Change::NotApplicable,
            "override_pass" | "override_fail" => Change::Override {
                pass: request.action == "override_pass",
                ends_with_new_facts: request.ends_with_new_facts == "on",
            },
            _ => Change::RemoveOverride,
        })
    }

    /// The students a batch applies to, with their records' versions, in 学号 order.
    pub async fn targets(
        state: &crate::state::AppState,
        office: Office,
        request: &BatchRequest,
    ) -> Result<Vec<(DeskRow, i64)>, AppError> {
        let targets = match request.scope.as_str() {
            "selected" => {
                if request.numbers.is_empty() {
                    return Err(AppError::BadRequest("请先勾选学生。".to_owned()));
                }
                desk::selected(&state.db, office, &request.numbers).await?
            }
            "filtered" => {
                let status =
                    match request.status.as_str() {
                        "" => None,
                        code => Some(RowStatus::from_code(code).ok_or_else(|| {
                            AppError::BadRequest("未知的状态筛选条件。".to_owned())
                        })?),
                    };
                let query = DeskQuery {
                    q: request.q.clone(),
                    college: request.college.clone(),
                    grade: request.grade.clone(),
                    status: request.status.clone(),
                    page: 1,
                };
                desk::matching(&state.db, office, &query, status).await?
            }
            _ => return Err(AppError::BadRequest("请选择批量操作的范围。".to_owned())),
        };
        if targets.is_empty() {
            return Err(AppError::BadRequest("没有符合条件的学生。".to_owned()));
        }
        if targets.len() > MAX_BATCH {
            return Err(AppError::BadRequest(format!(
                "一次最多处理 {MAX_BATCH} 名学生，请缩小筛选范围。"
            )));
        }
        Ok(targets)
    }

    /// Names the exact students and versions a preview showed.
    pub fn token(office: Office, action: &str, targets: &[(DeskRow, i64)]) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        hash.update(office.code());
        hash.update(action);
        for (row, version) in targets {
            hash.update(format!("\n{}:{version}", row.student_number));
        }
        hash.finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

#[server(prefix = "/api", endpoint = "desk_batch_preview")]
pub async fn get_batch_preview(request: BatchRequest) -> Result<BatchPreview, AppError> {
    use crate::{auth::session, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let (_, office) = session::require_office(&state).await?;
            let action = batch_action_label(office, &request).map_err(AppError::BadRequest)?;
            batch::change(office, &request)?;
            let reason = input::reason(&request.reason).map_err(AppError::BadRequest)?;
            let targets = batch::targets(&state, office, &request).await?;
            Ok(BatchPreview {
                office,
                count: targets.len(),
                action,
                reason,
                sample: targets
                    .iter()
                    .take(20)
                    .map(|(row, _)| (row.student_number.clone(), row.name.clone()))
                    .collect(),
                token: batch::token(office, &request.action, &targets),
            })
        }
        .await,
    )
}

/// Runs a previewed batch: all or nothing, refused if the students or their records
/// changed since the preview.
#[server(prefix = "/api", endpoint = "desk_batch_apply")]
pub async fn desk_batch_apply(
    request: BatchRequest,
    token: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::session,
        db::offices::{self, Actor, BatchOutcome},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let (staff, office) = session::require_office(&state).await?;
            let change = batch::change(office, &request)?;
            let reason = input::reason(&request.reason).map_err(AppError::BadRequest)?;
            input::confirmed(confirm.as_deref()).map_err(AppError::BadRequest)?;
            let targets = batch::targets(&state, office, &request).await?;
            if batch::token(office, &request.action, &targets) != token {
                return Err(AppError::Conflict(
                    "预览之后名单或数据已发生变化，整批操作没有执行。请返回列表重新预览。"
                        .to_owned(),
                ));
            }
            let pairs: Vec<(String, i64)> = targets
                .into_iter()
                .map(|(row, version)| (row.student_number, version))
                .collect();
            match offices::apply_batch(
                &state.db,
                office,
                &pairs,
                &change,
                &reason,
                &Actor::Staff(staff.login),
                crate::clock::now(),
            )
            .await?
            {
                BatchOutcome::Applied(count) => {
                    leptos_axum::redirect(&format!("/desk?done={count}"));
                    Ok(())
                }
                BatchOutcome::Refused(message) => Err(AppError::Conflict(message)),
            }
        }
        .await,
    )
}
