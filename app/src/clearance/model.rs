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
    pub gender: String,
    pub grade: String,
    pub college: String,
    pub major: String,
    pub enrolled_on: String,
    pub departure_category: String,
    /// 申请时间.
    pub applied_on: String,
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

    /// The label the library uses, also the value stored in the database.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotSubmitted => "未提交",
            Self::Submitted => "已提交",
            Self::Approved => "审核通过",
            Self::Rejected => "审核未通过",
        }
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
