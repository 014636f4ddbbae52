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
    pub academic_year: String,
    pub item: String,
    pub amount: Decimal,
}

/// Everything the clearance page shows for one student.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearanceFacts {
    pub basic: BasicInfo,
    /// `None`: the library has no record of the student yet.
    pub library: Option<LibraryFacts>,
    pub archives: Option<ArchivesThesisStatus>,
    /// `None`: the student never lived on campus.
    pub housing: Option<HousingRecord>,
    pub arrears: Vec<Arrear>,
}

/// The sum of the arrears, exact to the fen.
pub fn total_arrears(arrears: &[Arrear]) -> Decimal {
    arrears.iter().map(|arrear| arrear.amount).sum()
}

/// Money as the offices print it: yuan with two decimals (682.40).
pub fn yuan(amount: Decimal) -> String {
    format!("{:.2}", amount)
}
