//! What the clearance page shows: the student's basic information and the facts
//! each office records. Plain data, the same on server and browser.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// 基本信息.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct BasicInfo {
    pub name: String,
    pub student_number: String,
    #[cfg_attr(feature = "ssr", sqlx(try_from = "String"))]
    pub gender: Gender,
    pub grade: String,
    pub college: String,
    pub major: String,
    pub enrolled_on: String,
    pub departure_category: String,
    /// 申请时间.
    pub applied_on: String,
}

/// 性别. Stored (in the database and in snapshots) as a language-neutral code; the page
/// shows the label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    pub fn label(self) -> &'static str {
        match self {
            Self::Male => "男",
            Self::Female => "女",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Male => "male",
            Self::Female => "female",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Male, Self::Female]
            .into_iter()
            .find(|gender| gender.code() == code)
    }

    pub fn from_label(label: &str) -> Option<Self> {
        [Self::Male, Self::Female]
            .into_iter()
            .find(|gender| gender.label() == label)
    }
}

/// How the database hands a gender over: its code (the schema's CHECK admits no other).
impl TryFrom<String> for Gender {
    type Error = String;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::from_code(&code).ok_or_else(|| format!("not a gender code: {code:?}"))
    }
}

/// 论文提交状态 as the library records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LibraryThesisStatus {
    NotSubmitted,
    Submitted,
    Approved,
    Rejected,
}

impl LibraryThesisStatus {
    pub const ALL: [Self; 4] = [
        Self::NotSubmitted,
        Self::Submitted,
        Self::Approved,
        Self::Rejected,
    ];

    /// The label the library uses, as the page shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotSubmitted => "未提交",
            Self::Submitted => "已提交",
            Self::Approved => "审核通过",
            Self::Rejected => "审核未通过",
        }
    }

    /// The value stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotSubmitted => "not_submitted",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.code() == code)
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.label() == label)
    }
}

/// 图书馆: 欠书, 欠费, 违章, 借书证, 论文.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryFacts {
    /// 图书状态 · 未还册数.
    pub books_out: u32,
    /// 欠费情况 · 欠款金额(元).
    pub fines: Decimal,
    /// 违章状态.
    pub violations: u32,
    /// 证件状态: 已注销 or not.
    pub card_cancelled: bool,
    /// 论文提交状态.
    pub thesis: LibraryThesisStatus,
}

/// 档案馆 · 论文提交状态. `None` is the source's empty status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArchivesThesisStatus {
    Submitted,
    Reviewed,
}

impl ArchivesThesisStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Submitted => "已提交",
            Self::Reviewed => "已审核",
        }
    }

    /// The value stored in the database.
    pub fn code(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Reviewed => "reviewed",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [Self::Submitted, Self::Reviewed]
            .into_iter()
            .find(|status| status.code() == code)
    }

    pub fn from_label(label: &str) -> Option<Self> {
        [Self::Submitted, Self::Reviewed]
            .into_iter()
            .find(|status| status.label() == label)
    }
}

/// 总务部公寓与物业中心: the student's room and its checkout (退宿).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct HousingRecord {
    pub campus: String,
    pub building: String,
    pub room: String,
    pub checked_out_on: Option<String>,
    pub checked_out_by: Option<String>,
}

/// One outstanding charge at 财务资产部收费管理办公室.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrear {
    pub student_number: String,
    /// The finance system's own id of the charge (pushed through the sync API); `None`
    /// for a charge entered at the desk. Older departure snapshots have none.
    #[serde(default)]
    pub charge_id: Option<String>,
    pub academic_year: String,
    pub item: String,
    pub amount: Decimal,
}

/// Everything the clearance page shows for one student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearanceFacts {
    pub basic: BasicInfo,
    /// `None`: the library has no record of the student.
    pub library: Option<LibraryFacts>,
    pub archives: Option<ArchivesThesisStatus>,
    /// `None`: no room on record (the housing office's standing says whether it reported
    /// or stated 不涉及).
    pub housing: Option<HousingRecord>,
    pub arrears: Vec<Arrear>,
    /// Each office's standing: the facts above count only where the office reported.
    /// Snapshots frozen before standings existed read as every office reported.
    #[serde(default = "OfficeStates::all_reported")]
    pub states: OfficeStates,
}

/// Where an office stands on a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// 待核验: the office has not reported on this student. Never a pass, never a fail.
    Pending,
    /// The office's facts are its word; the rules decide pass or fail from them.
    Reported,
    /// 不涉及: the office states the student has nothing with it. Passes.
    NotApplicable,
}

impl Standing {
    pub const ALL: [Self; 3] = [Self::Pending, Self::Reported, Self::NotApplicable];

    pub fn code(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reported => "reported",
            Self::NotApplicable => "not_applicable",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|standing| standing.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "待核验",
            Self::Reported => "已报送",
            Self::NotApplicable => "不涉及",
        }
    }
}

/// A pass or fail set by an office's staff by hand, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub pass: bool,
    pub reason: String,
    /// Beijing time, `YYYY-MM-DD HH:MM:SS`.
    pub decided_at: String,
    /// The override ends when the office's facts next change (otherwise only when removed).
    pub ends_with_new_facts: bool,
}

/// One office's standing on one student, with any override and the record's version
/// (0: nothing stored yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeState {
    pub standing: Standing,
    /// 数据更新于: Beijing time, `YYYY-MM-DD HH:MM:SS`; `None` while pending.
    pub reported_at: Option<String>,
    pub overridden: Option<Override>,
    pub version: i64,
}

impl OfficeState {
    pub fn pending() -> Self {
        OfficeState {
            standing: Standing::Pending,
            reported_at: None,
            overridden: None,
            version: 0,
        }
    }

    pub fn reported(reported_at: Option<String>) -> Self {
        OfficeState {
            standing: Standing::Reported,
            reported_at,
            overridden: None,
            version: 0,
        }
    }
}

/// The four offices' standings, in page order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeStates {
    pub library: OfficeState,
    pub archives: OfficeState,
    pub housing: OfficeState,
    pub finance: OfficeState,
}

impl OfficeStates {
    pub fn all_pending() -> Self {
        OfficeStates {
            library: OfficeState::pending(),
            archives: OfficeState::pending(),
            housing: OfficeState::pending(),
            finance: OfficeState::pending(),
        }
    }

    /// What a snapshot frozen before standings existed meant: every office reported.
    pub fn all_reported() -> Self {
        OfficeStates {
            library: OfficeState::reported(None),
            archives: OfficeState::reported(None),
            housing: OfficeState::reported(None),
            finance: OfficeState::reported(None),
        }
    }

    pub fn get(&self, office: super::rules::Office) -> &OfficeState {
        use super::rules::Office;
        match office {
            Office::Library => &self.library,
            Office::Archives => &self.archives,
            Office::Housing => &self.housing,
            Office::Finance => &self.finance,
        }
    }

    pub fn get_mut(&mut self, office: super::rules::Office) -> &mut OfficeState {
        use super::rules::Office;
        match office {
            Office::Library => &mut self.library,
            Office::Archives => &mut self.archives,
            Office::Housing => &mut self.housing,
            Office::Finance => &mut self.finance,
        }
    }
}

/// One line of 变更记录 as the student sees it: when, what, why; the office, not the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub office: super::rules::Office,
    /// Beijing time, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// Who acted as the student may see it: the office's name, 本人, or 系统.
    pub by: String,
    /// The staff account, for staff eyes only (`None` on pages a student sees).
    pub staff: Option<String>,
    pub change: String,
    pub before: String,
    pub after: String,
    pub reason: String,
}

/// The sum of the arrears, exact to the fen.
pub fn total_arrears(arrears: &[Arrear]) -> Decimal {
    arrears.iter().map(|arrear| arrear.amount).sum()
}

/// Money as the offices print it: yuan with two decimals (682.40).
pub fn yuan(amount: Decimal) -> String {
    format!("{:.2}", amount)
}
