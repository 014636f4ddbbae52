//! One record per student, per office: the wire shape, its checks, and the way back
//! from what Lixiao holds to the same shape (the read endpoint).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use utoipa::ToSchema;

use crate::{
    clearance::{
        model::{ArchivesThesisStatus, ClearanceFacts, HousingRecord, LibraryThesisStatus},
        rules::Office,
    },
    db::offices::{Charge, OfficeFacts},
    desk::input,
};

/// The most records one request may carry.
pub const MAX_RECORDS: usize = 5_000;
/// How far in the future an `as_of` may lie (clocks differ a little; a record from the
/// future would block every correction until then).
pub const AS_OF_SLACK: time::Duration = time::Duration::minutes(10);

/// What an office reports about one student, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// 不涉及.
    NotApplicable,
    Facts(OfficeFacts),
}

/// A record that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    pub student_number: String,
    /// Whole seconds, as stored.
    pub as_of: OffsetDateTime,
    pub report: Report,
}

/// Reads one record of a push from its JSON, with a reason in Chinese that names the
/// field when it cannot be read.
pub fn read_record<R: SyncRecord>(value: serde_json::Value) -> Result<R, String> {
    if !value.is_object() {
        return Err("每条记录须为 JSON 对象（{\"student_number\": …, \"as_of\": …}）。".to_owned());
    }
    serde_path_to_error::deserialize::<_, R>(value).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.inner().to_string();
        if let Some(rest) = inner.strip_prefix("unknown field `") {
            let field = rest.split('`').next().unwrap_or(rest);
            return format!("不认识的字段 {field}：请对照接口文档检查字段名。");
        }
        let expected = if inner.contains("u32") {
            "0 至 10000 的整数"
        } else if inner.contains("a boolean") {
            "true 或 false"
        } else if inner.contains("unknown variant") {
            "文档列出的取值之一"
        } else if inner.contains("a sequence") {
            "数组"
        } else if inner.contains("a string") {
            "字符串"
        } else if inner.contains("struct") {
            "对象"
        } else {
            "文档规定的类型"
        };
        let space = if expected.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            " "
        } else {
            ""
        };
        format!("字段 {path} 的类型或取值不对：应为{space}{expected}。")
    })
}

/// An office's record type: its office, its checks, and how held facts look in it.
pub trait SyncRecord: Sized + Serialize + for<'de> Deserialize<'de> {
    const OFFICE: Office;
    /// Checks the record; the refusal says which field and why, in Chinese.
    fn check(self, now: OffsetDateTime) -> Result<Incoming, String>;
    /// The held facts in this shape (`None`: the office has reported nothing).
    fn held(student_number: &str, as_of: String, report: &Report) -> Self;
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// 论文提交状态 at the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LibraryThesis {
    /// 未提交
    NotSubmitted,
    /// 已提交
    Submitted,
    /// 审核通过
    Approved,
    /// 审核未通过
    Rejected,
}

impl LibraryThesis {
    fn to_status(self) -> LibraryThesisStatus {
        match self {
            Self::NotSubmitted => LibraryThesisStatus::NotSubmitted,
            Self::Submitted => LibraryThesisStatus::Submitted,
            Self::Approved => LibraryThesisStatus::Approved,
            Self::Rejected => LibraryThesisStatus::Rejected,
        }
    }

    fn from_status(status: LibraryThesisStatus) -> Self {
        match status {
            LibraryThesisStatus::NotSubmitted => Self::NotSubmitted,
            LibraryThesisStatus::Submitted => Self::Submitted,
            LibraryThesisStatus::Approved => Self::Approved,
            LibraryThesisStatus::Rejected => Self::Rejected,
        }
    }
}

/// 论文提交状态 at the archives (absent or null: 空, the thesis has not arrived).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchivesThesis {
    /// 已提交
    Submitted,
    /// 已审核
    Reviewed,
}

impl ArchivesThesis {
    fn to_status(self) -> ArchivesThesisStatus {
        match self {
            Self::Submitted => ArchivesThesisStatus::Submitted,
            Self::Reviewed => ArchivesThesisStatus::Reviewed,
        }
    }

    fn from_status(status: ArchivesThesisStatus) -> Self {
        match status {
            ArchivesThesisStatus::Submitted => Self::Submitted,
            ArchivesThesisStatus::Reviewed => Self::Reviewed,
        }
    }
}

/// The library's record of one student (图书馆: 未还书、欠款、违章、借书证、论文提交).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryRecord {
    /// 学号
    #[schema(example = "2020100004")]
    pub student_number: String,
    /// The library system's own time of these facts (RFC 3339 with an offset; kept to
    /// the second).
    #[schema(format = DateTime, example = "2026-06-20T08:00:00+08:00")]
    pub as_of: String,
    /// 不涉及: the student has nothing with the library; leave the facts out.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_applicable: bool,
    /// 未还册数 (0–10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub books_out: Option<u32>,
    /// 欠款金额 in yuan, a decimal string with at most two decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = r"^[0-9]+(\.[0-9]{1,2})?$", example = "3.50")]
    pub fines: Option<String>,
    /// 违章条数 (0–10000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 10000)]
    pub violations: Option<u32>,
    /// 借书证是否已注销. A cancellation the student made in Lixiao after `as_of` is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_cancelled: Option<bool>,
    /// 论文提交状态
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thesis_status: Option<LibraryThesis>,
}

/// The archives' record of one student (档案馆: 论文提交状态).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchivesRecord {
    /// 学号
    #[schema(example = "2020100004")]
    pub student_number: String,
    /// The archives system's own time of these facts (RFC 3339 with an offset).
    #[schema(format = DateTime, example = "2026-06-20T08:00:00+08:00")]
    pub as_of: String,
    /// 不涉及: the student has nothing with the archives.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_applicable: bool,
    /// 论文提交状态; absent or null: 空 (the thesis has not reached the archives).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thesis_status: Option<ArchivesThesis>,
}

/// The housing office's record of one student (总务部公寓与物业中心: 住宿与退宿).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
// `HousingRecord` in the document; the model already has a `HousingRecord`.
#[schema(as = HousingRecord)]
pub struct HousingSyncRecord {
    /// 学号
    #[schema(example = "2020100004")]
    pub student_number: String,
    /// The housing system's own time of these facts (RFC 3339 with an offset).
    #[schema(format = DateTime, example = "2026-06-20T08:00:00+08:00")]
    pub as_of: String,
    /// 不涉及: the student does not live in university housing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_applicable: bool,
    /// 校区
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "南湖校区")]
    pub campus: Option<String>,
    /// 楼宇
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "松苑 2 号楼")]
    pub building: Option<String>,
    /// 房间号
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "B-512")]
    pub room: Option<String>,
    /// 退宿日期 (YYYY-MM-DD); with `checked_out_by`, or neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Date, example = "2026-06-18")]
    pub checked_out_on: Option<String>,
    /// 退宿办理人
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_out_by: Option<String>,
}

/// One outstanding charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeRecord {
    /// The finance system's own id of the charge, unique per student: required in a
    /// push; null in a read for a charge entered at the desk.
    #[schema(example = "F2019-000123")]
    pub charge_id: Option<String>,
    /// 收费学年
    #[schema(example = "2019")]
    pub academic_year: String,
    /// 收费项目名称
    #[schema(example = "学分学费")]
    pub item: String,
    /// 欠费金额 in yuan, more than 0, at most two decimals.
    #[schema(pattern = r"^[0-9]+(\.[0-9]{1,2})?$", example = "550.00")]
    pub amount: String,
}

/// The finance office's record of one student: every outstanding charge (财务资产部收费
/// 管理办公室). A charge that was listed before and is missing now has been paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FinanceRecord {
    /// 学号
    #[schema(example = "2020100004")]
    pub student_number: String,
    /// The finance system's own time of these facts (RFC 3339 with an offset).
    #[schema(format = DateTime, example = "2026-06-20T08:00:00+08:00")]
    pub as_of: String,
    /// 不涉及: the student has nothing with the finance office.
    #[serde(default, skip_serializing_if = "is_false")]
    pub not_applicable: bool,
    /// Every outstanding charge; an empty list: nothing owed. Required unless
    /// `not_applicable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charges: Option<Vec<ChargeRecord>>,
}

/// Checks what every record carries: the student number and the `as_of` time.
fn common(
    student_number: &str,
    as_of: &str,
    now: OffsetDateTime,
) -> Result<(String, OffsetDateTime), String> {
    let student_number = student_number.trim();
    if !input::is_student_number(student_number) {
        return Err("student_number（学号）须为 1 至 20 位字母或数字。".to_owned());
    }
    let as_of = OffsetDateTime::parse(as_of.trim(), &Rfc3339).map_err(|_| {
        "as_of 须为带时区的 RFC 3339 时间，如 2026-06-20T08:00:00+08:00。".to_owned()
    })?;
    if as_of > now + AS_OF_SLACK {
        return Err("as_of 晚于当前时间：请检查贵系统的时钟。".to_owned());
    }
    if as_of.year() < 2000 {
        return Err("as_of 早于 2000 年：请检查贵系统的时钟。".to_owned());
    }
    let as_of = as_of
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .map_err(|_| "as_of 无法识别。".to_owned())?;
    Ok((student_number.to_owned(), as_of))
}

/// `not_applicable` and facts are exclusive: the facts fields must then be absent.
fn not_applicable_alone(any_fact: bool) -> Result<(), String> {
    if any_fact {
        Err("not_applicable 为 true 时不能同时报送数据字段。".to_owned())
    } else {
        Ok(())
    }
}

fn required<T>(field: &str, label: &str, value: Option<T>) -> Result<T, String> {
    value.ok_or_else(|| format!("缺少 {field}（{label}）。"))
}

fn limit(field: &str, label: &str, value: u32) -> Result<u32, String> {
    if value > 10_000 {
        return Err(format!("{field}（{label}）须为 0 至 10000 的整数。"));
    }
    Ok(value)
}

fn amount(field: &str, label: &str, text: &str) -> Result<Decimal, String> {
    input::money(label, text).map_err(|message| format!("{field}：{message}"))
}

/// Text as it will show on students' pages and the slip: no control characters, and no
/// characters that reverse the direction of what follows.
fn short_text(field: &str, label: &str, value: Option<&str>, max: usize) -> Result<String, String> {
    let text = input::text(label, value, max).map_err(|message| format!("{field}：{message}"))?;
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if text.chars().any(hidden) {
        return Err(format!("{field}（{label}）含有控制字符或换行，请删除。"));
    }
    Ok(text)
}

impl SyncRecord for LibraryRecord {
    const OFFICE: Office = Office::Library;

    fn check(self, now: OffsetDateTime) -> Result<Incoming, String> {
        let (student_number, as_of) = common(&self.student_number, &self.as_of, now)?;
        let report = if self.not_applicable {
            not_applicable_alone(
                self.books_out.is_some()
                    || self.fines.is_some()
                    || self.violations.is_some()
                    || self.card_cancelled.is_some()
                    || self.thesis_status.is_some(),
            )?;
            Report::NotApplicable
        } else {
            let fines = required("fines", "欠款金额", self.fines)?;
            Report::Facts(OfficeFacts::Library {
                books_out: limit(
                    "books_out",
                    "未还册数",
                    required("books_out", "未还册数", self.books_out)?,
                )?,
                fines: amount("fines", "欠款金额", &fines)?,
                violations: limit(
                    "violations",
                    "违章条数",
                    required("violations", "违章条数", self.violations)?,
                )?,
                card_cancelled: required(
                    "card_cancelled",
                    "借书证是否已注销",
                    self.card_cancelled,
                )?,
                thesis: required("thesis_status", "论文提交状态", self.thesis_status)?.to_status(),
            })
        };
        Ok(Incoming {
            student_number,
            as_of,
            report,
        })
    }

    fn held(student_number: &str, as_of: String, report: &Report) -> Self {
        let mut record = LibraryRecord {
            student_number: student_number.to_owned(),
            as_of,
            not_applicable: matches!(report, Report::NotApplicable),
            books_out: None,
            fines: None,
            violations: None,
            card_cancelled: None,
            thesis_status: None,
        };
        if let Report::Facts(OfficeFacts::Library {
            books_out,
            fines,
            violations,
            card_cancelled,
            thesis,
        }) = report
        {
            record.books_out = Some(*books_out);
            record.fines = Some(money_text(*fines));
            record.violations = Some(*violations);
            record.card_cancelled = Some(*card_cancelled);
            record.thesis_status = Some(LibraryThesis::from_status(*thesis));
        }
        record
    }
}

impl SyncRecord for ArchivesRecord {
    const OFFICE: Office = Office::Archives;

    fn check(self, now: OffsetDateTime) -> Result<Incoming, String> {
        let (student_number, as_of) = common(&self.student_number, &self.as_of, now)?;
        let report = if self.not_applicable {
            not_applicable_alone(self.thesis_status.is_some())?;
            Report::NotApplicable
        } else {
            Report::Facts(OfficeFacts::Archives {
                thesis: self.thesis_status.map(ArchivesThesis::to_status),
            })
        };
        Ok(Incoming {
            student_number,
            as_of,
            report,
        })
    }

    fn held(student_number: &str, as_of: String, report: &Report) -> Self {
        ArchivesRecord {
            student_number: student_number.to_owned(),
            as_of,
            not_applicable: matches!(report, Report::NotApplicable),
            thesis_status: match report {
                Report::Facts(OfficeFacts::Archives { thesis }) => {
                    thesis.map(ArchivesThesis::from_status)
                }
                _ => None,
            },
        }
    }
}

impl SyncRecord for HousingSyncRecord {
    const OFFICE: Office = Office::Housing;

    fn check(self, now: OffsetDateTime) -> Result<Incoming, String> {
        let (student_number, as_of) = common(&self.student_number, &self.as_of, now)?;
        let report = if self.not_applicable {
            not_applicable_alone(
                self.campus.is_some()
                    || self.building.is_some()
                    || self.room.is_some()
                    || self.checked_out_on.is_some()
                    || self.checked_out_by.is_some(),
            )?;
            Report::NotApplicable
        } else {
            let on = input::optional_text(self.checked_out_on.as_deref());
            let by = input::optional_text(self.checked_out_by.as_deref());
            if on.is_some() != by.is_some() {
                return Err(
                    "checked_out_on（退宿日期）和 checked_out_by（退宿办理人）须同时报送，未退宿则都不报送。"
                        .to_owned(),
                );
            }
            Report::Facts(OfficeFacts::Housing(HousingRecord {
                campus: short_text("campus", "校区", self.campus.as_deref(), 40)?,
                building: short_text("building", "楼宇", self.building.as_deref(), 40)?,
                room: short_text("room", "房间号", self.room.as_deref(), 20)?,
                checked_out_on: on
                    .map(|on| {
                        let on = input::date("退宿日期", &on)
                            .map_err(|message| format!("checked_out_on：{message}"))?;
                        // A check-out is a fact once it has happened, not before.
                        let today = crate::clock::beijing(now).date().to_string();
                        if on > today {
                            return Err(format!(
                                "checked_out_on（退宿日期）{on} 晚于今天：尚未退宿的请不报送退宿日期。"
                            ));
                        }
                        Ok(on)
                    })
                    .transpose()?,
                checked_out_by: by
                    .map(|by| short_text("checked_out_by", "退宿办理人", Some(&by), 40))
                    .transpose()?,
            }))
        };
        Ok(Incoming {
            student_number,
            as_of,
            report,
        })
    }

    fn held(student_number: &str, as_of: String, report: &Report) -> Self {
        let room = match report {
            Report::Facts(OfficeFacts::Housing(room)) => Some(room.clone()),
            _ => None,
        };
        HousingSyncRecord {
            student_number: student_number.to_owned(),
            as_of,
            not_applicable: matches!(report, Report::NotApplicable),
            campus: room.as_ref().map(|room| room.campus.clone()),
            building: room.as_ref().map(|room| room.building.clone()),
            room: room.as_ref().map(|room| room.room.clone()),
            checked_out_on: room.as_ref().and_then(|room| room.checked_out_on.clone()),
            checked_out_by: room.and_then(|room| room.checked_out_by),
        }
    }
}

impl SyncRecord for FinanceRecord {
    const OFFICE: Office = Office::Finance;

    fn check(self, now: OffsetDateTime) -> Result<Incoming, String> {
        let (student_number, as_of) = common(&self.student_number, &self.as_of, now)?;
        let report = if self.not_applicable {
            not_applicable_alone(self.charges.is_some())?;
            Report::NotApplicable
        } else {
            let charges = required("charges", "欠费项目", self.charges)?;
            if charges.len() > 100 {
                return Err("charges 最多 100 项。".to_owned());
            }
            let mut arrears = Vec::with_capacity(charges.len());
            for (index, charge) in charges.into_iter().enumerate() {
                let at = |field: &str| format!("charges[{index}].{field}");
                let charge_id = short_text(
                    &at("charge_id"),
                    "收费编号",
                    charge.charge_id.as_deref(),
                    64,
                )?;
                if arrears
                    .iter()
                    .any(|held: &Charge| held.charge_id.as_deref() == Some(charge_id.as_str()))
                {
                    return Err(format!(
                        "{}：收费编号 {charge_id} 在同一学生的记录中出现了两次。",
                        at("charge_id")
                    ));
                }
                let amount = amount(&at("amount"), "欠费金额", &charge.amount)?;
                if amount.is_zero() {
                    return Err(format!(
                        "{}：欠费金额须大于 0（已缴清的项目请不再报送）。",
                        at("amount")
                    ));
                }
                arrears.push(Charge {
                    charge_id: Some(charge_id),
                    academic_year: short_text(
                        &at("academic_year"),
                        "收费学年",
                        Some(&charge.academic_year),
                        20,
                    )?,
                    item: short_text(&at("item"), "收费项目名称", Some(&charge.item), 40)?,
                    amount,
                });
            }
            arrears.sort();
            Report::Facts(OfficeFacts::Finance { arrears })
        };
        Ok(Incoming {
            student_number,
            as_of,
            report,
        })
    }

    fn held(student_number: &str, as_of: String, report: &Report) -> Self {
        FinanceRecord {
            student_number: student_number.to_owned(),
            as_of,
            not_applicable: matches!(report, Report::NotApplicable),
            charges: match report {
                Report::Facts(OfficeFacts::Finance { arrears }) => Some(
                    arrears
                        .iter()
                        .map(|charge| ChargeRecord {
                            charge_id: charge.charge_id.clone(),
                            academic_year: charge.academic_year.clone(),
                            item: charge.item.clone(),
                            amount: money_text(charge.amount),
                        })
                        .collect(),
                ),
                _ => None,
            },
        }
    }
}

/// Yuan with two decimals, as the API writes money.
fn money_text(amount: Decimal) -> String {
    format!("{:.2}", amount)
}

/// The office's facts as Lixiao holds them, in the shape an office reports them
/// (`None`: nothing reported).
pub fn held_facts(office: Office, facts: &ClearanceFacts) -> Option<OfficeFacts> {
    match office {
        Office::Library => facts.library.as_ref().map(|library| OfficeFacts::Library {
            books_out: library.books_out,
            fines: library.fines,
            violations: library.violations,
            card_cancelled: library.card_cancelled,
            thesis: library.thesis,
        }),
        Office::Archives => Some(OfficeFacts::Archives {
            thesis: facts.archives,
        }),
        Office::Housing => facts.housing.clone().map(OfficeFacts::Housing),
        Office::Finance => {
            let mut arrears: Vec<Charge> = facts
                .arrears
                .iter()
                .map(|arrear| Charge {
                    charge_id: arrear.charge_id.clone(),
                    academic_year: arrear.academic_year.clone(),
                    item: arrear.item.clone(),
                    amount: arrear.amount,
                })
                .collect();
            arrears.sort();
            Some(OfficeFacts::Finance { arrears })
        }
    }
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// The office had reported nothing on the student before.
    Created,
    /// The facts or standing changed (history written).
    Updated,
    /// Nothing changed: the same facts, or a record older than the one held.
    Unchanged,
    /// Not applied; `reason` says why.
    Rejected,
}

/// The outcome of one record of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RecordResult {
    /// The record's position in `records`, from 0.
    pub index: usize,
    /// The record's 学号, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_number: Option<String>,
    pub status: RecordStatus,
    /// Why a record was rejected, or why it changed nothing (in Chinese).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The `as_of` Lixiao holds for the student after this request (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub held_as_of: Option<String>,
}

/// The answer to a push: counts and one result per record, in the request's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushAnswer {
    /// The office written to: library, archives, housing or finance.
    pub office: String,
    pub received: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub results: Vec<RecordResult>,
}

impl PushAnswer {
    pub fn new(office: Office, results: Vec<RecordResult>) -> Self {
        let count = |status| results.iter().filter(|r| r.status == status).count();
        PushAnswer {
            office: office.code().to_owned(),
            received: results.len(),
            created: count(RecordStatus::Created),
            updated: count(RecordStatus::Updated),
            unchanged: count(RecordStatus::Unchanged),
            rejected: count(RecordStatus::Rejected),
            results,
        }
    }
}

/// An office's standing on a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StandingCode {
    /// 待核验: the office has reported nothing.
    Pending,
    /// The office's facts are held.
    Reported,
    /// 不涉及
    NotApplicable,
}

/// The result of Lixiao's rules for the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictCode {
    Pass,
    Fail,
    /// 待核验
    Pending,
}

/// A pass or fail set by the office's staff by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeldOverride {
    pub verdict: VerdictCode,
    pub reason: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub decided_at: String,
    /// Whether the office's next facts end it.
    pub ends_with_new_facts: bool,
}

/// What Lixiao holds about the office's side of one student, besides the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HeldState {
    pub standing: StandingCode,
    /// The verdict the student, the gate and the slip see for this office.
    pub verdict: VerdictCode,
    /// What the student still has to do at the office (empty on a pass).
    pub todo: Vec<String>,
    /// The time the held facts are as of (RFC 3339, UTC): the last pushed record's
    /// `as_of`, or when a clerk saved them or they were reported before the API; a
    /// pushed record must be newer to change them. Null while 待核验.
    #[schema(format = DateTime)]
    pub as_of: Option<String>,
    /// When Lixiao last received facts or 不涉及 (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub reported_at: Option<String>,
    /// Moves on every change (desk saves, pushes, the student's 注销).
    pub version: i64,
    #[serde(rename = "override")]
    pub overridden: Option<HeldOverride>,
}

macro_rules! held_answer {
    ($(#[$meta:meta])* $name:ident, $record:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        pub struct $name {
            pub student_number: String,
            pub state: HeldState,
            /// The held facts in the push shape; null while 待核验.
            pub record: Option<$record>,
        }
    };
}

held_answer!(
    /// What Lixiao holds from the library about one student.
    LibraryHeld,
    LibraryRecord
);
held_answer!(
    /// What Lixiao holds from the archives about one student.
    ArchivesHeld,
    ArchivesRecord
);
held_answer!(
    /// What Lixiao holds from the housing office about one student.
    HousingHeld,
    HousingSyncRecord
);
held_answer!(
    /// What Lixiao holds from the finance office about one student.
    FinanceHeld,
    FinanceRecord
);

/// One change in an office's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangeEntry {
    /// The history row's id; pages are in id order.
    pub id: i64,
    pub student_number: String,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub at: String,
    /// facts, not_applicable, override, override_removed or card_cancelled.
    pub change: String,
    /// staff, student, system or migration.
    pub actor_kind: String,
    /// The staff login or sync token name (null for the student and the migration).
    pub actor: Option<String>,
    /// The office's facts and standing before and after, in words (Chinese).
    pub before: String,
    pub after: String,
    pub reason: String,
}

/// One page of changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChangesPage {
    pub changes: Vec<ChangeEntry>,
    /// Pass as `cursor` for the next page; null when this page is the last.
    pub next_cursor: Option<String>,
}

/// Every error answer of the sync API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorAnswer {
    /// A stable code: unauthorized, forbidden, payload_too_large, malformed_json,
    /// too_many_records, bad_request, not_found, rate_limited, unavailable.
    pub error: String,
    /// What happened and what to do, in Chinese.
    pub message: String,
    /// For malformed JSON: the index of the record where reading stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_index: Option<usize>,
}

macro_rules! push_body {
    ($(#[$meta:meta])* $name:ident, $record:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// At most 5,000 records; a student may appear more than once (applied in
            /// `as_of` order).
            #[schema(max_items = 5000)]
            pub records: Vec<$record>,
        }
    };
}

push_body!(
    /// A push of library records.
    LibraryPush,
    LibraryRecord
);
push_body!(
    /// A push of archives records.
    ArchivesPush,
    ArchivesRecord
);
push_body!(
    /// A push of housing records.
    HousingPush,
    HousingSyncRecord
);
push_body!(
    /// A push of finance records.
    FinancePush,
    FinanceRecord
);
