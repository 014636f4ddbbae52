//! The graduate school's roster file (学生名单): one row per graduating student with the
//! eight 基本信息 fields of the source guide, the application date, and the national ID
//! number. The ID number is read only to derive the initial password (its last six
//! characters, letters upper-cased; none: the student number) and is never kept: the
//! parsed row carries the initial password, which the import hashes at once.
//!
//! Like the desks' CSV files, a roster may come from Excel as UTF-8 (with or without a
//! BOM) or GBK, with the template's Chinese headers or the field names.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::{
    clearance::model::{BasicInfo, Gender},
    desk::input,
    sync::csv::{self as office_csv, BadRow},
};

/// The most rows in one roster (a cohort of 20,000 with room to spare).
pub const MAX_ROWS: usize = 50_000;

/// The roster's columns: field name, the template's header, required.
pub const COLUMNS: [(&str, &str, bool); 10] = [
    ("student_number", "学号", true),
    ("name", "姓名", true),
    ("gender", "性别", true),
    ("grade", "现在年级", true),
    ("college", "学院", true),
    ("major", "专业", true),
    ("enrolled_on", "入学日期", true),
    ("departure_category", "离校类别", true),
    ("applied_on", "申请时间", true),
    ("id_number", "身份证号", false),
];

/// What each column takes, for the import page.
pub fn column_help() -> Vec<(&'static str, &'static str)> {
    COLUMNS
        .iter()
        .map(|(field, label, _)| {
            let help = match *field {
                "student_number" => "必填；1 至 20 位字母或数字，即学生的登录名",
                "gender" => "男 / 女",
                "enrolled_on" | "applied_on" => "日期，如 2017-09-01（Excel 的 2017/9/1 也可）",
                "departure_category" => "如 毕业离校",
                "id_number" => "18 位身份证号，用于生成初始密码（后 6 位，字母大写），不会保存；无身份证的留空（初始密码为学号）。请将此列设为“文本”格式，以免 Excel 改成科学计数法",
                _ => "必填",
            };
            (*label, help)
        })
        .collect()
}

/// The template: a UTF-8 BOM (so Excel opens it as UTF-8) and the header.
pub fn template() -> String {
    let header: Vec<&str> = COLUMNS.iter().map(|(_, label, _)| *label).collect();
    format!("\u{feff}{}\r\n", header.join(","))
}

/// One student of the roster, as the import writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRow {
    /// The row's line in the file (the header is line 1).
    pub line: usize,
    pub basic: BasicInfo,
}

/// A parsed row and the initial password its ID number gives (in memory only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    pub row: RosterRow,
    pub initial_password: String,
}

/// The rows of a decoded roster file, and every row that cannot be read.
pub fn parse(text: &str) -> (Vec<ParsedRow>, Vec<BadRow>) {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let whole_file = |reason: String| BadRow {
        row: 1,
        column: "表头".to_owned(),
        reason,
    };
    let header = match records.next() {
        Some(Ok(header)) => header,
        Some(Err(_)) => {
            return (
                vec![],
                vec![whole_file("无法读取表头：请使用模板填写。".to_owned())],
            );
        }
        None => {
            return (
                vec![],
                vec![whole_file("文件是空的：请使用模板填写后上传。".to_owned())],
            );
        }
    };
    // Where each column is in this file.
    let mut positions = [None::<usize>; COLUMNS.len()];
    for (position, title) in header.iter().enumerate() {
        let title = title.trim_start_matches('\u{feff}').trim();
        if title.is_empty() {
            continue;
        }
        let Some(column) = COLUMNS
            .iter()
            .position(|(field, label, _)| *label == title || field.eq_ignore_ascii_case(title))
        else {
            return (
                vec![],
                vec![whole_file(format!(
                    "不认识的列“{title}”：表头须为 {}。",
                    COLUMNS.map(|(_, label, _)| label).join("、")
                ))],
            );
        };
        if positions[column].replace(position).is_some() {
            return (vec![], vec![whole_file(format!("列“{title}”出现了两次。"))]);
        }
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .zip(positions)
        .filter(|((_, _, required), position)| *required && position.is_none())
        .map(|((_, label, _), _)| *label)
        .collect();
    if !missing.is_empty() {
        return (
            vec![],
            vec![whole_file(format!("缺少列：{}。", missing.join("、")))],
        );
    }

    let mut rows = Vec::new();
    let mut bad = Vec::new();
    let mut seen = HashSet::new();
    let mut lines = office_csv::Lines::new(text);
    for (index, record) in records.enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|record| record.position())
            .map_or(index + 2, |position| lines.at(position.byte()));
        let record = match record {
            Ok(record) => record,
            Err(_) => {
                bad.push(BadRow {
                    row: index + 2,
                    column: "整行".to_owned(),
                    reason: "这一行无法读取（引号不成对？）。".to_owned(),
                });
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue; // Excel leaves empty lines at the end
        }
        if rows.len() + bad.len() >= MAX_ROWS {
            bad.push(BadRow {
                row: line,
                column: "整行".to_owned(),
                reason: format!("一份名单最多 {MAX_ROWS} 行：请分成几个文件导入。"),
            });
            break;
        }
        let cell = |column: usize| {
            positions[column]
                .and_then(|position| record.get(position))
                .unwrap_or("")
        };
        match read_row(line, cell) {
            Ok(parsed) => {
                if seen.insert(parsed.row.basic.student_number.clone()) {
                    rows.push(parsed);
                } else {
                    bad.push(BadRow {
                        row: line,
                        column: "学号".to_owned(),
                        reason: format!(
                            "学号 {} 在文件中出现了不止一次。",
                            parsed.row.basic.student_number
                        ),
                    });
                }
            }
            Err((column, reason)) => bad.push(BadRow {
                row: line,
                column: column.to_owned(),
                reason,
            }),
        }
    }
    if rows.is_empty() && bad.is_empty() {
        bad.push(whole_file(
            "文件中没有学生：请在表头下逐行填写。".to_owned(),
        ));
    }
    (rows, bad)
}

/// One row; `Err`: the column and the reason.
fn read_row<'a>(
    line: usize,
    cell: impl Fn(usize) -> &'a str,
) -> Result<ParsedRow, (&'static str, String)> {
    let text = |column: usize, max: usize| {
        let (_, label, _) = COLUMNS[column];
        let value =
            input::text(label, Some(cell(column)), max).map_err(|reason| (label, reason))?;
        if value.chars().any(char::is_control) {
            return Err((label, format!("{label}含有控制字符或换行，请删除。")));
        }
        Ok(value)
    };
    let date = |column: usize| {
        let (_, label, _) = COLUMNS[column];
        let value = cell(column);
        if value.is_empty() {
            return Err((label, format!("请填写{label}。")));
        }
        let normalised = office_csv::excel_date(value).unwrap_or_else(|| value.to_owned());
        input::date(label, &normalised).map_err(|reason| (label, reason))
    };
    let student_number = text(0, 20)?;
    if !input::is_student_number(&student_number) {
        return Err(("学号", "学号须为 1 至 20 位字母或数字。".to_owned()));
    }
    let gender = match cell(2) {
        "男" | "male" | "Male" | "M" => Gender::Male,
        "女" | "female" | "Female" | "F" => Gender::Female,
        "" => return Err(("性别", "请填写性别（男 / 女）。".to_owned())),
        other => return Err(("性别", format!("性别“{other}”无法识别：请填写男或女。"))),
    };
    let basic = BasicInfo {
        name: text(1, 50)?,
        gender,
        grade: text(3, 20)?,
        college: text(4, 50)?,
        major: text(5, 50)?,
        enrolled_on: date(6)?,
        departure_category: text(7, 20)?,
        applied_on: date(8)?,
        student_number,
    };
    let id_number = id_number(cell(9)).map_err(|reason| ("身份证号", reason))?;
    let initial_password =
        crate::auth::password::initial_password(id_number.as_deref(), &basic.student_number);
    Ok(ParsedRow {
        row: RosterRow { line, basic },
        initial_password,
    })
}

/// A national ID number as Excel may have saved it; `None` if left empty (no ID card).
fn id_number(cell: &str) -> Result<Option<String>, String> {
    let id = cell.trim().trim_start_matches('\'').to_uppercase();
    if id.is_empty() {
        return Ok(None);
    }
    if id.contains('E') && id.contains('+') {
        return Err(
            "身份证号被 Excel 改成了科学计数法（如 3.20102E+17）：请将该列设为“文本”格式，重新填写后导出。"
                .to_owned(),
        );
    }
    let chars: Vec<char> = id.chars().collect();
    let valid = match chars.len() {
        15 => chars.iter().all(char::is_ascii_digit),
        18 => chars[..17].iter().all(char::is_ascii_digit) && checksum(&chars[..17]) == chars[17],
        _ => false,
    };
    if !valid {
        return Err(
            "身份证号须为 18 位（最后一位可为 X，校验位须正确）或 15 位数字；无身份证的请留空。"
                .to_owned(),
        );
    }
    Ok(Some(id))
}

/// The check character of an 18-digit ID number (GB 11643, ISO 7064 MOD 11-2).
fn checksum(digits: &[char]) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| digit.to_digit(10).unwrap_or(0) * weight)
        .sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "学号,姓名,性别,现在年级,学院,专业,入学日期,离校类别,申请时间,身份证号";

    /// An ID number ending in `tail` (the first 17 digits fixed, the check digit right).
    fn id_with_check(first17: &str) -> String {
        let digits: Vec<char> = first17.chars().collect();
        format!("{first17}{}", checksum(&digits))
    }

    #[test]
    fn the_check_digit_follows_the_national_standard() {
        // The standard's own example: 11010519491231002X.
        let digits: Vec<char> = "11010519491231002".chars().collect();
        assert_eq!(checksum(&digits), 'X');
    }

    #[test]
    fn rows_become_students_with_their_initial_passwords() {
        let li = "11010519491231002x"; // lower-case x, as typed
        let wang = id_with_check("32010219980612123");
        let text = format!(
            "{HEADER}\r\n\
             2020100002,李娜,女,2017级,矿业工程学院,采矿工程,2017/9/1,毕业离校,2020-06-08,{li}\r\n\
             2020100003,张伟,男,2017级,安全工程学院,安全工程,2017-09-01,毕业离校,2020-06-08,\r\n\
             2020100001,王小明,男,2017级,计算机科学与技术学院,软件工程,2017-09-01,毕业离校,2020-06-08,{wang}\r\n\
             ,,,,,,,,,\r\n"
        );
        let (rows, bad) = parse(&text);
        assert!(bad.is_empty(), "{bad:?}");
        let passwords: Vec<(&str, &str)> = rows
            .iter()
            .map(|row| {
                (
                    row.row.basic.student_number.as_str(),
                    row.initial_password.as_str(),
                )
            })
            .collect();
        assert_eq!(
            passwords,
            [
                ("2020100002", "31002X"),
                ("2020100003", "2020100003"),
                ("2020100001", &wang[12..]),
            ]
        );
        assert_eq!(rows[0].row.basic.enrolled_on, "2017-09-01");
        assert_eq!(rows[0].row.basic.gender, Gender::Female);
        assert_eq!(rows[2].row.line, 4);
    }

    #[test]
    fn every_bad_row_is_named_with_its_line_column_and_reason() {
        let good = id_with_check("32010219980612123");
        let text = format!(
            "{HEADER}\n\
             2020100001,王小明,男,2017级,计算机学院,软件工程,2017-09-01,毕业离校,2020-06-08,{good}\n\
             2020100002,李娜,妇,2017级,矿业学院,采矿工程,2017-09-01,毕业离校,2020-06-08,\n\
             2020100003,张伟,男,2017级,安全学院,安全工程,2017-02-30,毕业离校,2020-06-08,\n\
             2020100004,刘洋,女,2017级,计算机学院,计算机技术,2017-09-01,毕业离校,2020-06-08,3.20102E+17\n\
             2020100005,赵六,男,2017级,计算机学院,计算机技术,2017-09-01,毕业离校,2020-06-08,320102199806121230\n\
             2020100001,王小明,男,2017级,计算机学院,软件工程,2017-09-01,毕业离校,2020-06-08,\n\
             20-1,钱七,男,2017级,计算机学院,软件工程,2017-09-01,毕业离校,2020-06-08,\n\
             2020100008,,男,2017级,计算机学院,软件工程,2017-09-01,毕业离校,2020-06-08,\n"
        );
        let (rows, bad) = parse(&text);
        assert_eq!(rows.len(), 1);
        let named: Vec<(usize, &str)> = bad
            .iter()
            .map(|row| (row.row, row.column.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                (3, "性别"),
                (4, "入学日期"),
                (5, "身份证号"),
                (6, "身份证号"),
                (7, "学号"),
                (8, "学号"),
                (9, "姓名"),
            ]
        );
        assert!(bad[2].reason.contains("科学计数法"), "{}", bad[2].reason);
        assert!(bad[3].reason.contains("校验位"), "{}", bad[3].reason);
        assert!(bad[4].reason.contains("不止一次"), "{}", bad[4].reason);
    }

    #[test]
    fn a_file_with_unknown_or_missing_columns_is_refused_whole() {
        let (rows, bad) = parse("学号,姓名,电话\n2020100001,王小明,123\n");
        assert!(rows.is_empty());
        assert_eq!(bad.len(), 1);
        assert!(bad[0].reason.contains("电话"), "{}", bad[0].reason);
        let (_, bad) = parse("学号,姓名\n2020100001,王小明\n");
        assert!(bad[0].reason.contains("缺少列：性别"), "{}", bad[0].reason);
        // The field names work as headers too, and the ID column may be left out.
        let (rows, bad) = parse(
            "student_number,name,gender,grade,college,major,enrolled_on,departure_category,applied_on\n\
             2020100001,王小明,男,2017级,计算机学院,软件工程,2017-09-01,毕业离校,2020-06-08\n",
        );
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(rows[0].initial_password, "2020100001");
    }
}
