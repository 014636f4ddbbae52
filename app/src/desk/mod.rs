//! The offices' desk (部门工作台): staff of the library, the archives, housing and finance
//! find students, see and change only their own office's facts and standing, and read
//! that office's history. Every server function checks the role on the server.

pub mod input;
mod page;

pub use page::{DeskPage, DeskStudentPage};

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

/// What a staff account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StaffRole {
    Office(Office),
    GraduateSchool,
}

impl StaffRole {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "graduate_school" => Some(StaffRole::GraduateSchool),
            code => Office::from_code(code).map(StaffRole::Office),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            StaffRole::Office(office) => office.code(),
            StaffRole::GraduateSchool => "graduate_school",
        }
    }

    /// The office whose facts this role keeps, if any.
    pub fn office(self) -> Option<Office> {
        match self {
            StaffRole::Office(office) => Some(office),
            StaffRole::GraduateSchool => None,
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
            let (facts, submitted) = clearance::load(&state.db, student_number.trim())
                .await?
                .ok_or(AppError::NotFound)?;
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
