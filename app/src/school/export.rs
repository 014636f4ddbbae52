//! Lists as CSV files that open correctly in Excel: UTF-8 with a BOM (without it, Excel on
//! a Chinese PC reads the file as GBK and shows mojibake), CRLF line ends, and no cell
//! that Excel would run as a formula. Plain axum handlers (a file, not a page), mounted by
//! the server; each checks the caller's role like a server function.

use axum::{
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tower_sessions::Session;

use super::{CohortFilter, DepartureQuery, DepartureState, GRADUATE_SCHOOL};
use crate::{
    AppError,
    auth::session,
    clearance::rules::Office,
    db,
    desk::{DeskQuery, RowStatus},
    state::AppState,
};

/// A cell as Excel should show it: text that begins like a formula (= + - @, a tab or
/// a carriage return) is prefixed with an apostrophe, so a name like "=HYPERLINK(…)"
/// from an uploaded roster is shown, never run.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// The whole file: BOM, header, rows.
pub fn csv_file(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(vec![0xef, 0xbb, 0xbf]);
    // Writing into memory cannot fail.
    let _ = writer.write_record(header);
    for row in rows {
        let _ = writer.write_record(row.iter().map(|text| cell(text)));
    }
    writer.into_inner().unwrap_or_default()
}

/// An export address that cannot be read (typed by hand, say).
fn bad_address(_: QueryRejection) -> AppError {
    AppError::BadRequest("导出地址中的条件无效：请从页面上的“导出”链接下载。".to_owned())
}

fn attachment(name: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /desk/overview/export.csv?college=…&office=…&state=…&group=…`: the students of a
/// count of the overview, with each office's state and what blocks them.
pub async fn cohort(
    State(state): State<AppState>,
    session: Session,
    filter: Result<Query<CohortFilter>, QueryRejection>,
) -> Response {
    let result = async {
        session::require_role_with(&state, session, &GRADUATE_SCHOOL).await?;
        let Query(filter) = filter.map_err(bad_address)?;
        let rows = db::desk::cohort(&state.db).await?;
        let mut header = vec!["学号", "姓名", "学院", "年级"];
        header.extend(Office::ALL.map(Office::name));
        header.extend(["离校流程单号", "未通过的事项"]);
        let lines = rows
            .into_iter()
            .filter(|row| filter.matches(row))
            .map(|row| {
                let mut line = vec![
                    row.student_number.clone(),
                    row.name.clone(),
                    row.college.clone(),
                    row.grade.clone(),
                ];
                line.extend(
                    row.offices
                        .iter()
                        .map(|office| office.status.label().to_owned()),
                );
                line.push(row.slip_number.clone().unwrap_or_default());
                line.push(row.blockers());
                line
            });
        Ok::<_, AppError>(csv_file(&header, lines))
    }
    .await;
    match result {
        Ok(body) => attachment("lixiao-cohort.csv", body),
        Err(error) => error.plain_response(),
    }
}

/// `GET /desk/departures/export.csv?q=…&state=…`: the departures list.
pub async fn departures(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DepartureQuery>, QueryRejection>,
) -> Response {
    let result = async {
        session::require_role_with(&state, session, &GRADUATE_SCHOOL).await?;
        let Query(query) = query.map_err(bad_address)?;
        let (rows, _) = db::departures::list(&state.db, &query, None).await?;
        let header = [
            "流程单号",
            "防伪编号",
            "学号",
            "姓名",
            "学院",
            "专业",
            "提交时间",
            "状态",
            "撤销时间",
            "撤销人",
            "撤销原因",
        ];
        let lines = rows.into_iter().map(|row| {
            let (label, at, by, reason) = match row.state {
                DepartureState::Active => ("有效", String::new(), String::new(), String::new()),
                DepartureState::Revoked(revoked) => (
                    "已撤销",
                    revoked.at,
                    revoked.by.unwrap_or_default(),
                    revoked.reason,
                ),
            };
            vec![
                row.slip_number,
                row.serial,
                row.student_number,
                row.name,
                row.college,
                row.major,
                row.submitted_at,
                label.to_owned(),
                at,
                by,
                reason,
            ]
        });
        Ok::<_, AppError>(csv_file(&header, lines))
    }
    .await;
    match result {
        Ok(body) => attachment("lixiao-departures.csv", body),
        Err(error) => error.plain_response(),
    }
}

/// `GET /desk/export.csv?q=…&college=…&grade=…&status=…`: an office's list as its desk
/// filters it (every page).
pub async fn office_list(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<DeskQuery>, QueryRejection>,
) -> Response {
    let result = async {
        let (_, office) = session::require_office_with(&state, session).await?;
        let Query(query) = query.map_err(bad_address)?;
        let status = RowStatus::from_code(&query.status);
        let rows = db::desk::matching(&state.db, office, &query, status).await?;
        let header = ["学号", "姓名", "学院", "年级", "状态", "数据", "离校流程"];
        let lines = rows.into_iter().map(|(row, _)| {
            vec![
                row.student_number,
                row.name,
                row.college,
                row.grade,
                row.status.label().to_owned(),
                row.summary,
                if row.submitted {
                    "已提交"
                } else {
                    "未提交"
                }
                .to_owned(),
            ]
        });
        Ok::<_, AppError>(csv_file(&header, lines))
    }
    .await;
    match result {
        Ok(body) => attachment("lixiao-desk.csv", body),
        Err(error) => error.plain_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_opens_in_excel_as_utf8_and_never_runs_a_formula() {
        let file = csv_file(
            &["学号", "姓名"],
            [
                vec!["2020100001".to_owned(), "王小明".to_owned()],
                vec![
                    "2020100002".to_owned(),
                    "=HYPERLINK(\"http://x\",\"李娜\")".to_owned(),
                ],
                vec!["2020100003".to_owned(), "张, 伟".to_owned()],
            ],
        );
        assert!(file.starts_with(&[0xef, 0xbb, 0xbf]), "a UTF-8 BOM first");
        let text = String::from_utf8(file[3..].to_vec()).expect("UTF-8");
        assert_eq!(
            text,
            "学号,姓名\r\n2020100001,王小明\r\n2020100002,\"'=HYPERLINK(\"\"http://x\"\",\"\"李娜\"\")\"\r\n2020100003,\"张, 伟\"\r\n"
        );
    }
}
