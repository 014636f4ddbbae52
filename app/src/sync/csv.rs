//! CSV files from an office's desk: the same fields as the sync API, one row per student
//! (finance: one row per outstanding charge). Chinese office PCs export from Excel, so a
//! file may be UTF-8 with or without a BOM, or GB18030/GBK; headers may be the Chinese
//! labels of the template or the API's field names; dates may be written as Excel shows
//! them (2026/6/18).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::records::{
    ArchivesRecord, FinanceRecord, HousingSyncRecord, Incoming, LibraryRecord, SyncRecord,
};
use crate::clearance::{
    model::{ArchivesThesisStatus, LibraryThesisStatus},
    rules::Office,
};

/// The largest file accepted (20,000 students with room to spare).
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// The most data rows in one file.
pub const MAX_ROWS: usize = 50_000;

/// What a column holds, for reading a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    AsOf,
    Count,
    Money,
    Flag,
    Date,
    LibraryThesis,
    ArchivesThesis,
}

/// One column of an office's file: the API field, the template's header, its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub field: &'static str,
    pub label: &'static str,
    kind: Kind,
}

const fn column(field: &'static str, label: &'static str, kind: Kind) -> Column {
    Column { field, label, kind }
}

const STUDENT: Column = column("student_number", "学号", Kind::Text);
const AS_OF: Column = column("as_of", "数据时间", Kind::AsOf);
const NOT_APPLICABLE: Column = column("not_applicable", "不涉及", Kind::Flag);

const LIBRARY: [Column; 8] = [
    STUDENT,
    AS_OF,
    NOT_APPLICABLE,
    column("books_out", "未还册数", Kind::Count),
    column("fines", "欠款金额", Kind::Money),
    column("violations", "违章条数", Kind::Count),
    column("card_cancelled", "借书证已注销", Kind::Flag),
    column("thesis_status", "论文提交状态", Kind::LibraryThesis),
];
const ARCHIVES: [Column; 4] = [
    STUDENT,
    AS_OF,
    NOT_APPLICABLE,
    column("thesis_status", "论文提交状态", Kind::ArchivesThesis),
];
const HOUSING: [Column; 8] = [
    STUDENT,
    AS_OF,
    NOT_APPLICABLE,
    column("campus", "校区", Kind::Text),
    column("building", "楼宇", Kind::Text),
    column("room", "房间号", Kind::Text),
    column("checked_out_on", "退宿日期", Kind::Date),
    column("checked_out_by", "退宿办理人", Kind::Text),
];
const FINANCE: [Column; 7] = [
    STUDENT,
    AS_OF,
    NOT_APPLICABLE,
    column("charge_id", "收费编号", Kind::Text),
    column("academic_year", "收费学年", Kind::Text),
    column("item", "收费项目名称", Kind::Text),
    column("amount", "欠费金额", Kind::Money),
];

/// The office's columns, in the template's order.
pub fn columns(office: Office) -> &'static [Column] {
    match office {
        Office::Library => &LIBRARY,
        Office::Archives => &ARCHIVES,
        Office::Housing => &HOUSING,
        Office::Finance => &FINANCE,
    }
}

/// The template: a UTF-8 BOM (so Excel opens it as UTF-8), the header, and one line
/// explaining each column's values in a header comment row is left out on purpose: a
/// clerk would import it. The page says what each column takes.
pub fn template(office: Office) -> String {
    let header: Vec<&str> = columns(office).iter().map(|column| column.label).collect();
    format!("\u{feff}{}\r\n", header.join(","))
}

/// What each column takes, for the import page.
pub fn column_help(office: Office) -> Vec<(&'static str, &'static str)> {
    columns(office)
        .iter()
        .map(|column| {
            let help = match (column.field, column.kind) {
                ("student_number", _) => "必填",
                ("not_applicable", _) => {
                    "填“是”表示该学生与本部门无关（不涉及），其余列留空；否则留空"
                }
                (_, Kind::AsOf) => "可留空（即导入时刻）；或写 2026-06-20 08:00（北京时间）",
                (_, Kind::Count) => "0 至 10000 的整数",
                (_, Kind::Money) => "金额（元），最多两位小数，如 3.50",
                (_, Kind::Flag) => "是 / 否",
                (_, Kind::Date) => "日期，如 2026-06-18；未退宿则与退宿办理人都留空",
                (_, Kind::LibraryThesis) => "未提交、已提交、审核通过、审核未通过",
                (_, Kind::ArchivesThesis) => "空、已提交、已审核",
                ("charge_id", _) => "财务系统的收费编号；无欠费的学生写一行，此列及以后留空",
                _ => "必填",
            };
            (column.label, help)
        })
        .collect()
}

/// One refused row: its line in the file (the header is line 1), the column, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BadRow {
    pub row: usize,
    pub column: String,
    pub reason: String,
}

/// The file's text, whatever Excel saved it as. `Err`: a message for the clerk.
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(
            "这是 UTF-16（Unicode 文本）文件：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”或“CSV（逗号分隔）”后再上传。"
                .to_owned(),
        );
    }
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    // Not UTF-8: Excel on Chinese Windows writes the system code page, GBK, of which
    // GB18030 is a superset.
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|text| text.into_owned())
        .ok_or_else(|| {
            "无法识别文件的编码：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再上传。".to_owned()
        })
}

/// The records of a decoded file, each with its first line; or the rows that cannot
/// be read. A file-level problem (no header, unknown columns) is one bad row on line 1.
pub fn parse(
    office: Office,
    text: &str,
    now: OffsetDateTime,
) -> (Vec<(usize, Incoming)>, Vec<BadRow>) {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = reader.records();
    let whole_file = |reason: String| BadRow {
        row: 1,
        column: "表头".to_owned(),
        reason,
    };
    let header = match rows.next() {
        Some(Ok(header)) => header,
        Some(Err(error)) => return (vec![], vec![whole_file(format!("无法读取表头：{error}"))]),
        None => {
            return (
                vec![],
                vec![whole_file("文件是空的：请使用模板填写后上传。".to_owned())],
            );
        }
    };
    let columns = columns(office);
    let mut positions: Vec<(usize, Column)> = Vec::new();
    let mut unknown = Vec::new();
    for (position, title) in header.iter().enumerate() {
        let title = title.trim_start_matches('\u{feff}').trim();
        if title.is_empty() {
            continue;
        }
        match columns
            .iter()
            .find(|column| column.label == title || column.field.eq_ignore_ascii_case(title))
        {
            Some(column) if positions.iter().any(|(_, seen)| seen == column) => {
                return (vec![], vec![whole_file(format!("列“{title}”出现了两次。"))]);
            }
            Some(column) => positions.push((position, *column)),
            None => unknown.push(title.to_owned()),
        }
    }
    if !unknown.is_empty() {
        let expected: Vec<&str> = columns.iter().map(|column| column.label).collect();
        return (
            vec![],
            vec![whole_file(format!(
                "不认识的列：{}。{}的文件应有这些列：{}（请使用模板）。",
                unknown.join("、"),
                office.name(),
                expected.join("、")
            ))],
        );
    }
    if !positions.iter().any(|(_, column)| *column == STUDENT) {
        return (
            vec![],
            vec![whole_file("缺少“学号”列（请使用模板）。".to_owned())],
        );
    }

    let mut bad = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut lines = Lines::new(text);
    // (line, cells by field) of every readable row.
    let mut cells_by_row: Vec<(usize, BTreeMap<&'static str, Value>)> = Vec::new();
    for (count, row) in rows.enumerate() {
        if count >= MAX_ROWS {
            bad.push(whole_file(format!(
                "文件超过 {MAX_ROWS} 行：请分成几个文件导入。"
            )));
            return (vec![], bad);
        }
        let row = match row {
            Ok(row) => row,
            Err(error) => {
                let line = error.position().map_or(count + 2, |p| lines.at(p.byte()));
                bad.push(BadRow {
                    row: line,
                    column: "—".to_owned(),
                    reason: format!("无法读取此行：{error}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(count + 2, |p| lines.at(p.byte()));
        if row.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let mut cells = BTreeMap::new();
        let mut row_ok = true;
        for (position, column) in &positions {
            let cell = row.get(*position).unwrap_or("").trim();
            match read_cell(*column, cell, now) {
                Ok(Some(value)) => {
                    cells.insert(column.field, value);
                }
                Ok(None) => {}
                Err(reason) => {
                    row_ok = false;
                    bad.push(BadRow {
                        row: line,
                        column: column.label.to_owned(),
                        reason,
                    });
                }
            }
        }
        if row_ok {
            cells_by_row.push((line, cells));
        }
    }

    let records = match office {
        Office::Finance => finance_records(cells_by_row, &mut bad),
        _ => cells_by_row
            .into_iter()
            .filter(|(line, cells)| {
                // One row per student (finance: one per charge, gathered below).
                let number = cells
                    .get("student_number")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if number.is_empty() || seen.insert(number.to_owned()) {
                    return true;
                }
                bad.push(BadRow {
                    row: *line,
                    column: "学号".to_owned(),
                    reason: format!("学号 {number} 在文件中出现了不止一次：每名学生只写一行。"),
                });
                false
            })
            .map(|(line, cells)| {
                (
                    line,
                    Value::Object(cells.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
                )
            })
            .collect(),
    };
    let mut checked = Vec::with_capacity(records.len());
    for (line, record) in records {
        let outcome = match office {
            Office::Library => check::<LibraryRecord>(record, now),
            Office::Archives => check::<ArchivesRecord>(record, now),
            Office::Housing => check::<HousingSyncRecord>(record, now),
            Office::Finance => check::<FinanceRecord>(record, now),
        };
        match outcome {
            Ok(incoming) => checked.push((line, incoming)),
            Err(reason) => bad.push(BadRow {
                row: line,
                column: column_named_in(columns, &reason),
                reason: in_file_words(office, &reason),
            }),
        }
    }
    bad.sort_by_key(|row| row.row);
    (checked, bad)
}

/// The line (from 1) at a byte offset: as Excel numbers rows, blank lines included.
/// The reader places a record after blank lines at the first blank line: skip them.
/// Offsets come in file order, so each call counts only the newlines since the last
/// one (a 50,000-row file is read once, not once per row).
pub(crate) struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Lines {
            bytes: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    pub(crate) fn at(&mut self, byte: u64) -> usize {
        let bytes = self.bytes;
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        if end < self.at {
            // Not in order after all: count from the start.
            self.at = 0;
            self.line = 1;
        }
        self.line += bytes[self.at..end].iter().filter(|b| **b == b'\n').count();
        self.at = end;
        self.line
    }
}

fn check<R: SyncRecord>(record: Value, now: OffsetDateTime) -> Result<Incoming, String> {
    super::records::read_record::<R>(record)?.check(now)
}

/// The column a refusal names (the API's messages start with the field), as its label.
/// A reason written for the sync API, in the words of the file: the columns' Chinese
/// headers instead of the API's field names ("fines：欠款金额须为…" → "欠款金额须为…").
pub fn in_file_words(office: Office, reason: &str) -> String {
    let mut text = reason.to_owned();
    // A finance charge is a row of the file: its place in the record says nothing.
    while let Some(start) = text.find("charges[") {
        match text[start..].find("].") {
            Some(end) => text.replace_range(start..start + end + 2, ""),
            None => break,
        }
    }
    let mut by_length: Vec<&Column> = columns(office).iter().collect();
    by_length.sort_by_key(|column| std::cmp::Reverse(column.field.len()));
    for column in by_length {
        text = text
            .replace(
                &format!("{}（{}）", column.field, column.label),
                column.label,
            )
            .replace(&format!("{}：{}", column.field, column.label), column.label)
            .replace(column.field, column.label);
    }
    text.replace("为 true", "为“是”")
        .replace("贵系统的时钟", "数据时间（可留空，即导入时刻）")
}

fn column_named_in(columns: &[Column], reason: &str) -> String {
    columns
        .iter()
        .filter(|column| column.field != "not_applicable" || reason.starts_with("not_applicable"))
        .find(|column| reason.contains(column.field))
        .map_or_else(|| "—".to_owned(), |column| column.label.to_owned())
}

/// Finance: one row per charge; a student's rows become one record (all their
/// outstanding charges). A row without a charge: the student owes nothing.
fn finance_records(
    rows: Vec<(usize, BTreeMap<&'static str, Value>)>,
    bad: &mut Vec<BadRow>,
) -> Vec<(usize, Value)> {
    // 学号 → (first line, as_of, not_applicable, charges)
    let mut students: BTreeMap<String, (usize, Value, Option<Value>, Vec<Value>)> = BTreeMap::new();
    for (line, mut cells) in rows {
        let Some(number) = cells
            .get("student_number")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            bad.push(BadRow {
                row: line,
                column: "学号".to_owned(),
                reason: "请填写学号。".to_owned(),
            });
            continue;
        };
        let as_of = cells.remove("as_of").unwrap_or(Value::Null);
        let not_applicable = cells.remove("not_applicable");
        let charge_fields = ["charge_id", "academic_year", "item", "amount"];
        let charge: Map<String, Value> = charge_fields
            .iter()
            .filter_map(|field| {
                cells
                    .remove(field)
                    .map(|value| ((*field).to_owned(), value))
            })
            .collect();
        let entry = students
            .entry(number)
            .or_insert_with(|| (line, as_of.clone(), not_applicable.clone(), Vec::new()));
        if entry.1 != as_of {
            bad.push(BadRow {
                row: line,
                column: "数据时间".to_owned(),
                reason: format!("同一学生的各行数据时间须相同（第 {} 行不同）。", entry.0),
            });
            continue;
        }
        if !charge.is_empty() {
            entry.3.push(Value::Object(charge));
        }
    }
    students
        .into_iter()
        .map(|(number, (line, as_of, not_applicable, charges))| {
            let mut record = Map::new();
            record.insert("student_number".to_owned(), Value::String(number));
            record.insert("as_of".to_owned(), as_of);
            let not_applicable = not_applicable.is_some_and(|value| value == Value::Bool(true));
            if not_applicable {
                record.insert("not_applicable".to_owned(), Value::Bool(true));
                if !charges.is_empty() {
                    record.insert("charges".to_owned(), Value::Array(charges));
                }
            } else {
                record.insert("charges".to_owned(), Value::Array(charges));
            }
            (line, Value::Object(record))
        })
        .collect()
}

/// One cell as the API's JSON value; `None`: empty (the field is absent).
fn read_cell(column: Column, cell: &str, now: OffsetDateTime) -> Result<Option<Value>, String> {
    if cell.is_empty() {
        return Ok(match column.kind {
            // Blank: the moment of the import, like a clerk's save.
            Kind::AsOf => Some(Value::String(now.format(&Rfc3339).unwrap_or_default())),
            _ => None,
        });
    }
    let value = match column.kind {
        Kind::Text | Kind::Money => Value::String(cell.to_owned()),
        Kind::Count => Value::from(
            cell.parse::<u32>()
                .map_err(|_| format!("“{cell}”不是 0 至 10000 的整数。"))?,
        ),
        Kind::Flag => Value::Bool(match cell {
            "是" | "Y" | "y" | "true" | "TRUE" | "True" | "1" | "已注销" => true,
            "否" | "N" | "n" | "false" | "FALSE" | "False" | "0" | "未注销" => false,
            _ => return Err(format!("“{cell}”应为“是”或“否”。")),
        }),
        Kind::AsOf => Value::String(as_of(cell).ok_or_else(|| {
            format!("“{cell}”不是时间：请写 2026-06-20 08:00（北京时间）或留空。")
        })?),
        Kind::Date => Value::String(
            excel_date(cell).ok_or_else(|| format!("“{cell}”不是日期：请写 2026-06-18。"))?,
        ),
        Kind::LibraryThesis => Value::String(
            LibraryThesisStatus::from_label(cell)
                .or_else(|| LibraryThesisStatus::from_code(cell))
                .map(|status| status.code().to_owned())
                .ok_or_else(|| format!("“{cell}”应为未提交、已提交、审核通过或审核未通过。"))?,
        ),
        Kind::ArchivesThesis => {
            if cell == "空" {
                return Ok(None);
            }
            Value::String(
                ArchivesThesisStatus::from_label(cell)
                    .or_else(|| ArchivesThesisStatus::from_code(cell))
                    .map(|status| status.code().to_owned())
                    .ok_or_else(|| format!("“{cell}”应为空、已提交或已审核。"))?,
            )
        }
    };
    Ok(Some(value))
}

/// 2026-06-18, 2026/6/18 or 2026.6.18 → 2026-06-18 (checked as a date later).
pub(crate) fn excel_date(cell: &str) -> Option<String> {
    let parts: Vec<&str> = cell.split(['-', '/', '.']).collect();
    let [year, month, day] = parts.as_slice() else {
        return None;
    };
    let number = |text: &str| text.parse::<u32>().ok();
    let (year, month, day) = (number(year)?, number(month)?, number(day)?);
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

/// A time as clerks write it: RFC 3339, or a date and an optional hh:mm[:ss] in Beijing
/// time (Excel's 2026/6/20 8:00 too). Returned as RFC 3339.
fn as_of(cell: &str) -> Option<String> {
    if OffsetDateTime::parse(cell, &Rfc3339).is_ok() {
        return Some(cell.to_owned());
    }
    let (date, clock) = match cell.split_once([' ', 'T']) {
        Some((date, clock)) => (date, clock.trim()),
        None => (cell, "00:00"),
    };
    let date = excel_date(date)?;
    let parts: Vec<u32> = clock
        .split(':')
        .map(|part| part.parse::<u32>().ok())
        .collect::<Option<_>>()?;
    let (hour, minute, second) = match parts.as_slice() {
        [hour, minute] => (*hour, *minute, 0),
        [hour, minute, second] => (*hour, *minute, *second),
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let text = format!("{date}T{hour:02}:{minute:02}:{second:02}+08:00");
    OffsetDateTime::parse(&text, &Rfc3339).ok().map(|_| text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::offices::OfficeFacts;
    use crate::sync::Report;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-06-20 02:00:00 UTC)
    }

    #[test]
    fn excel_files_are_read_in_utf8_with_or_without_bom_and_in_gbk() {
        let text = "学号,未还册数\r\n2020100003,2\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode(&gbk).expect("GBK"), text);
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).expect("BOM"), text);
        assert_eq!(decode(text.as_bytes()).expect("UTF-8"), text);
        assert!(
            decode(&[0xff, 0xfe, 0x66, 0x00])
                .expect_err("UTF-16")
                .contains("UTF-16")
        );
        assert!(
            decode(&[0x81, 0x20, 0xff]).is_err(),
            "neither UTF-8 nor GB18030"
        );
    }

    #[test]
    fn rows_become_records_with_chinese_headers_or_field_names() {
        let text = "学号,数据时间,不涉及,未还册数,欠款金额,违章条数,借书证已注销,论文提交状态\n\
                    2020100003,2026/6/20 10:00,,0,0,0,否,审核通过\n\
                    2020100001,,是,,,,,\n";
        let (records, bad) = parse(Office::Library, text, now());
        assert_eq!(bad, vec![]);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].0, 2);
        assert_eq!(records[0].1.as_of, now());
        assert!(matches!(
            records[0].1.report,
            Report::Facts(OfficeFacts::Library {
                books_out: 0,
                card_cancelled: false,
                ..
            })
        ));
        assert_eq!(records[1].1.report, Report::NotApplicable);
        assert_eq!(records[1].1.as_of, now(), "blank: the import's moment");

        let by_field =
            "student_number,as_of,thesis_status\n2020100003,2026-06-20T10:00:00+08:00,reviewed\n";
        let (records, bad) = parse(Office::Archives, by_field, now());
        assert_eq!((records.len(), bad.len()), (1, 0));
    }

    #[test]
    fn every_bad_row_is_named_with_its_line_column_and_a_chinese_reason() {
        let text = "学号,数据时间,不涉及,未还册数,欠款金额,违章条数,借书证已注销,论文提交状态\n\
                    2020100003,,,两本,0,0,否,审核通过\n\
                    2020100002,,,0,3.505,0,否,审核通过\n\
                    \n\
                    2020100001,,,0,0,0,也许,审核通过\n\
                    2020100004,,,0,0,0,否,\n";
        let (records, bad) = parse(Office::Library, text, now());
        assert!(records.is_empty(), "{records:?}");
        let named: Vec<(usize, &str)> = bad
            .iter()
            .map(|row| (row.row, row.column.as_str()))
            .collect();
        assert_eq!(
            named,
            [
                (2, "未还册数"),
                (3, "欠款金额"),
                (5, "借书证已注销"),
                (6, "论文提交状态")
            ],
            "{bad:#?}"
        );
        assert!(bad[0].reason.contains("整数"));
        assert!(bad[3].reason.contains("缺少"));

        let (_, unknown) = parse(Office::Library, "学号,书\n1,2\n", now());
        assert_eq!(unknown[0].row, 1);
        assert!(unknown[0].reason.contains("不认识的列：书"));
    }

    #[test]
    fn finance_rows_are_one_charge_each_and_a_bare_row_owes_nothing() {
        let text = "学号,数据时间,不涉及,收费编号,收费学年,收费项目名称,欠费金额\n\
                    2020100002,2026-06-20 08:00,,F-1,2019,学分学费,550\n\
                    2020100002,2026-06-20 08:00,,F-2,2018,代收取暖费,60.00\n\
                    2020100001,,,,,,\n";
        let (records, bad) = parse(Office::Finance, text, now());
        assert_eq!(bad, vec![]);
        let arrears = |number: &str| match &records
            .iter()
            .find(|(_, record)| record.student_number == number)
            .expect("record")
            .1
            .report
        {
            Report::Facts(OfficeFacts::Finance { arrears }) => arrears.len(),
            other => panic!("{other:?}"),
        };
        assert_eq!((arrears("2020100002"), arrears("2020100001")), (2, 0));
    }

    #[test]
    fn the_template_opens_in_excel_and_reads_back_as_an_empty_file() {
        let template = template(Office::Housing);
        assert!(template.starts_with('\u{feff}'));
        let (records, bad) = parse(Office::Housing, &template, now());
        assert!(records.is_empty() && bad.is_empty(), "{bad:?}");
    }
}
