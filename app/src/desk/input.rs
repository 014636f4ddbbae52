//! What staff type into a desk form, checked and turned into an office's facts. Pure
//! functions: every refusal is a Chinese message that says what to fix.

// The checks run on the server; the browser build only needs the form's shape.
#![cfg_attr(not(feature = "ssr"), allow(dead_code))]

use rust_decimal::Decimal;

use crate::clearance::model::{ArchivesThesisStatus, HousingRecord, LibraryThesisStatus};

#[cfg(feature = "ssr")]
use crate::{clearance::rules::Office, db::offices::OfficeFacts};

/// The longest reason kept; a reason is a sentence or two, not a document.
pub const MAX_REASON_CHARS: usize = 200;

/// The form fields of every office's facts (each office's form sends its own).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FactsForm {
    pub books_out: Option<String>,
    pub fines: Option<String>,
    pub violations: Option<String>,
    pub card_cancelled: Option<String>,
    pub library_thesis: Option<String>,
    pub archives_thesis: Option<String>,
    pub campus: Option<String>,
    pub building: Option<String>,
    pub room: Option<String>,
    pub checked_out_on: Option<String>,
    pub checked_out_by: Option<String>,
    /// One charge per line: 收费学年 收费项目名称 金额.
    pub arrears: Option<String>,
}

/// What a 学号 may be, wherever one comes in (the roster, the sync API, the desks'
/// files): 1 to 20 letters or digits.
pub fn is_student_number(number: &str) -> bool {
    (1..=20).contains(&number.len()) && number.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A reason is required, and kept short.
pub fn reason(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("请填写原因：每次修改都须说明原因。".to_owned());
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(format!("原因最多 {MAX_REASON_CHARS} 个字。"));
    }
    Ok(text.to_owned())
}

/// The "确认保存" box must be ticked.
pub fn confirmed(confirm: Option<&str>) -> Result<(), String> {
    match confirm {
        Some("on" | "yes" | "true" | "1") => Ok(()),
        _ => Err("请勾选“确认保存”后再提交。".to_owned()),
    }
}

pub(crate) fn count(label: &str, text: Option<&str>) -> Result<u32, String> {
    let text = text.unwrap_or("").trim();
    if text.is_empty() {
        return Err(format!("请填写{label}。"));
    }
    text.parse::<u32>()
        .ok()
        .filter(|value| *value <= 10_000)
        .ok_or_else(|| format!("{label}须为 0 至 10000 的整数。"))
}

/// Money in yuan with at most two decimals (fen), not negative.
pub fn money(label: &str, text: &str) -> Result<Decimal, String> {
    let text = text.trim();
    let refused = || format!("{label}须为不小于 0 的金额（元），最多两位小数，如 3.50。");
    // Digits and one decimal point only: no signs, exponents or separators.
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(refused());
    }
    let amount: Decimal = text.parse().map_err(|_| refused())?;
    if amount.is_sign_negative() || amount.scale() > 2 || amount > Decimal::from(10_000_000) {
        return Err(refused());
    }
    Ok(amount)
}

pub(crate) fn text(label: &str, value: Option<&str>, max: usize) -> Result<String, String> {
    let value = value.unwrap_or("").trim();
    if value.is_empty() {
        return Err(format!("请填写{label}。"));
    }
    if value.chars().count() > max {
        return Err(format!("{label}最多 {max} 个字。"));
    }
    Ok(value.to_owned())
}

pub(crate) fn optional_text(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// A date as the offices write it: YYYY-MM-DD, a real day of the calendar.
pub(crate) fn date(label: &str, value: &str) -> Result<String, String> {
    let refused = || format!("{label}须为日期，格式如 2020-06-05。");
    let parts: Vec<&str> = value.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(refused());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(refused());
    }
    let number = |text: &str| text.parse::<u32>().map_err(|_| refused());
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(refused()),
    };
    if !(1900..=2200).contains(&year) || day == 0 || day > days {
        return Err(refused());
    }
    Ok(value.to_owned())
}

#[cfg(feature = "ssr")]
/// The office's facts from its form.
pub fn facts(office: Office, form: &FactsForm) -> Result<OfficeFacts, String> {
    match office {
        Office::Library => Ok(OfficeFacts::Library {
            books_out: count("未还册数", form.books_out.as_deref())?,
            fines: money("欠款金额", form.fines.as_deref().unwrap_or(""))?,
            violations: count("违章条数", form.violations.as_deref())?,
            card_cancelled: form.card_cancelled.as_deref() == Some("on"),
            thesis: library_thesis(form.library_thesis.as_deref())?,
        }),
        Office::Archives => Ok(OfficeFacts::Archives {
            thesis: archives_thesis(form.archives_thesis.as_deref())?,
        }),
        Office::Housing => Ok(OfficeFacts::Housing(housing(form)?)),
        Office::Finance => Ok(OfficeFacts::Finance {
            arrears: arrears(form.arrears.as_deref().unwrap_or(""))?
                .into_iter()
                .map(|(academic_year, item, amount)| crate::db::offices::Charge {
                    charge_id: None,
                    academic_year,
                    item,
                    amount,
                })
                .collect(),
        }),
    }
}

fn library_thesis(code: Option<&str>) -> Result<LibraryThesisStatus, String> {
    code.and_then(LibraryThesisStatus::from_code)
        .ok_or_else(|| "请选择论文提交状态（未提交、已提交、审核通过、审核未通过）。".to_owned())
}

/// Empty is the source's empty status (the thesis has not reached the archives).
fn archives_thesis(code: Option<&str>) -> Result<Option<ArchivesThesisStatus>, String> {
    match code.unwrap_or("").trim() {
        "" => Ok(None),
        code => ArchivesThesisStatus::from_code(code)
            .map(Some)
            .ok_or_else(|| "请选择论文提交状态（空、已提交、已审核）。".to_owned()),
    }
}

fn housing(form: &FactsForm) -> Result<HousingRecord, String> {
    let on = optional_text(form.checked_out_on.as_deref());
    let by = optional_text(form.checked_out_by.as_deref());
    if on.is_some() != by.is_some() {
        return Err("退宿日期和退宿办理人须同时填写（未退宿则都不填）。".to_owned());
    }
    Ok(HousingRecord {
        campus: text("校区", form.campus.as_deref(), 40)?,
        building: text("楼宇", form.building.as_deref(), 40)?,
        room: text("房间号", form.room.as_deref(), 20)?,
        checked_out_on: on.map(|on| date("退宿日期", &on)).transpose()?,
        checked_out_by: by.map(|by| text("退宿办理人", Some(&by), 40)).transpose()?,
    })
}

/// One outstanding charge per line: 收费学年 收费项目名称 金额 (spaces, tabs or commas
/// between them). No lines: no arrears.
pub fn arrears(text: &str) -> Result<Vec<(String, String, Decimal)>, String> {
    let mut charges = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parts: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
            .filter(|part| !part.is_empty())
            .collect();
        let row = index + 1;
        let [year, item, amount] = parts.as_slice() else {
            return Err(format!(
                "欠费第 {row} 行应为“收费学年 收费项目名称 金额”三项，如：2019 学分学费 550.00。"
            ));
        };
        let amount = money(&format!("欠费第 {row} 行的金额"), amount)?;
        if amount.is_zero() {
            return Err(format!(
                "欠费第 {row} 行的金额须大于 0（已缴清的项目请删除该行）。"
            ));
        }
        if year.chars().count() > 20 || item.chars().count() > 40 {
            return Err(format!("欠费第 {row} 行过长。"));
        }
        charges.push(((*year).to_owned(), (*item).to_owned(), amount));
    }
    if charges.len() > 100 {
        return Err("欠费最多 100 项。".to_owned());
    }
    Ok(charges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_required_and_short() {
        assert!(reason("  ").expect_err("refused").contains("请填写原因"));
        assert_eq!(reason(" 已还书 ").expect("accepted"), "已还书");
        assert!(reason(&"长".repeat(201)).is_err());
    }

    #[test]
    fn money_is_never_negative_and_exact_to_the_fen() {
        assert_eq!(
            money("欠款金额", "3.50").expect("accepted"),
            Decimal::new(350, 2)
        );
        assert_eq!(money("欠款金额", "0").expect("accepted"), Decimal::ZERO);
        for bad in ["-1", "-0.01", "3.505", "abc", "", "1e3", "+3"] {
            let error = money("欠款金额", bad).expect_err("refused");
            assert!(error.contains("不小于 0"), "{bad}: {error}");
        }
    }

    #[test]
    fn arrears_lines_are_read_or_refused_by_line() {
        let charges = arrears("2018 代收取暖费 60.00\n\n2019，学分学费，550").expect("accepted");
        assert_eq!(charges.len(), 2);
        assert_eq!(charges[1].2, Decimal::new(550, 0));
        assert!(
            arrears("2019 学分学费")
                .expect_err("refused")
                .contains("第 1 行")
        );
        assert!(
            arrears("x\n2019 学分学费 -5")
                .expect_err("refused")
                .contains("第 1 行")
        );
        assert!(
            arrears("2019 学分学费 -5")
                .expect_err("refused")
                .contains("不小于 0")
        );
        assert!(
            arrears("2019 学分学费 0")
                .expect_err("refused")
                .contains("大于 0")
        );
        assert_eq!(arrears("").expect("accepted"), vec![]);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn each_office_form_is_checked() {
        let library = FactsForm {
            books_out: Some("0".into()),
            fines: Some("0".into()),
            violations: Some("0".into()),
            card_cancelled: None,
            library_thesis: Some("approved".into()),
            ..FactsForm::default()
        };
        assert!(facts(Office::Library, &library).is_ok());
        let unknown = FactsForm {
            library_thesis: Some("审核通过".into()),
            ..library.clone()
        };
        assert!(
            facts(Office::Library, &unknown)
                .expect_err("refused")
                .contains("论文提交状态")
        );
        let negative = FactsForm {
            books_out: Some("-2".into()),
            ..library
        };
        assert!(
            facts(Office::Library, &negative)
                .expect_err("refused")
                .contains("未还册数")
        );
        let half = FactsForm {
            campus: Some("南湖校区".into()),
            building: Some("梅苑1号楼".into()),
            room: Some("A3071".into()),
            checked_out_on: Some("2020-06-05".into()),
            ..FactsForm::default()
        };
        assert!(
            facts(Office::Housing, &half)
                .expect_err("refused")
                .contains("同时填写")
        );
        let bad_date = FactsForm {
            checked_out_by: Some("丁二君".into()),
            checked_out_on: Some("2020/06/05".into()),
            ..half
        };
        assert!(
            facts(Office::Housing, &bad_date)
                .expect_err("refused")
                .contains("日期")
        );
        assert!(
            facts(
                Office::Archives,
                &FactsForm {
                    archives_thesis: Some("lost".into()),
                    ..FactsForm::default()
                }
            )
            .is_err()
        );
    }
}
