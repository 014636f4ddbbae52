//! The desk's student list: one office's view of every student, filtered, sorted by 学号
//! and paged. Verdicts are computed by the shared rules from the office's facts, so the
//! list and the student's own page can never disagree.

use super::{Db, Instant};
use crate::{
    clearance::{
        model::{
            ArchivesThesisStatus, Arrear, BasicInfo, ClearanceFacts, Gender, HousingRecord,
            LibraryFacts, LibraryThesisStatus, OfficeState, OfficeStates, Override, Standing,
        },
        rules::{self, Office},
    },
    desk::{DeskList, DeskQuery, DeskRow, PAGE_SIZE, RowStatus},
    school::{CohortRow, OfficeStanding},
};

pub async fn list(
    db: &Db,
    office: Office,
    query: &DeskQuery,
    status: Option<RowStatus>,
) -> Result<DeskList, sqlx::Error> {
    on_backend!(db, list(office, query, status))
}

/// Every student in the cohort with all four offices' verdicts (in [`Office::ALL`]
/// order) and the active departure's slip number, read in one snapshot: the graduate
/// school's overview, judged by the same rules as every page.
pub async fn cohort(db: &Db) -> Result<Vec<CohortRow>, sqlx::Error> {
    on_backend!(db, cohort())
}

/// Every student the filters match (all pages), with the office record's version: the
/// set a batch over "the whole filtered list" applies to.
pub async fn matching(
    db: &Db,
    office: Office,
    query: &DeskQuery,
    status: Option<RowStatus>,
) -> Result<Vec<(DeskRow, i64)>, sqlx::Error> {
    on_backend!(db, matching(office, query, status))
}

/// The given students (those that exist), with the office record's version.
pub async fn selected(
    db: &Db,
    office: Office,
    numbers: &[String],
) -> Result<Vec<(DeskRow, i64)>, sqlx::Error> {
    let all = matching(db, office, &DeskQuery::default(), None).await?;
    let wanted: std::collections::HashSet<&str> = numbers.iter().map(String::as_str).collect();
    Ok(all
        .into_iter()
        .filter(|(row, _)| wanted.contains(row.student_number.as_str()))
        .collect())
}

/// One row as the list query returns it: the student, this office's standing and facts.
type Row = (
    String,          // student_number
    String,          // name
    String,          // college
    String,          // grade
    Option<String>,  // standing
    Option<Instant>, // reported_at
    Option<String>,  // override_verdict
    Option<String>,  // override_reason
    bool,            // submitted
    // This office's facts, in columns shared by all offices:
    Option<i64>,    // a: books_out | arrears count
    Option<i64>,    // b: fines_fen | arrears total fen
    Option<i64>,    // c: violations
    Option<bool>,   // d: card cancelled | checked out
    Option<String>, // e: thesis status | room
    bool,           // f: the office has a facts row
    Option<i64>,    // the office record's version (none: 0)
);

/// The search, college and grade filters, with their parameters at $1..$4 (students
/// removed from the cohort are never listed) …
const FILTERS: &str = "s.deactivated_at IS NULL
       AND ($1 = '' OR s.student_number LIKE $2 ESCAPE '\\' OR s.name LIKE $2 ESCAPE '\\')
       AND ($3 = '' OR s.college = $3)
       AND ($4 = '' OR s.grade = $4)";

/// … and at $2..$5 (after the office).
const FILTERS_FROM_2: &str = "s.deactivated_at IS NULL
       AND ($2 = '' OR s.student_number LIKE $3 ESCAPE '\\' OR s.name LIKE $3 ESCAPE '\\')
       AND ($4 = '' OR s.college = $4)
       AND ($5 = '' OR s.grade = $5)";

/// The LIKE pattern of a name search, its wildcards taken literally.
pub(crate) fn like(q: &str) -> String {
    format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}

fn facts_sql(office: Office) -> &'static str {
    match office {
        Office::Library => {
            "LEFT JOIN (SELECT student_number AS fs, books_out AS a, fines_fen AS b,
                               violations AS c, card_cancelled_at IS NOT NULL AS d,
                               thesis_status AS e
                        FROM library_records) AS f ON f.fs = s.student_number"
        }
        Office::Archives => {
            "LEFT JOIN (SELECT student_number AS fs, CAST(NULL AS BIGINT) AS a,
                               CAST(NULL AS BIGINT) AS b, CAST(NULL AS BIGINT) AS c,
                               CAST(NULL AS BOOLEAN) AS d, thesis_status AS e
                        FROM archives_records) AS f ON f.fs = s.student_number"
        }
        Office::Housing => {
            "LEFT JOIN (SELECT student_number AS fs, CAST(NULL AS BIGINT) AS a,
                               CAST(NULL AS BIGINT) AS b, CAST(NULL AS BIGINT) AS c,
                               checked_out_on IS NOT NULL AND checked_out_by IS NOT NULL AS d,
                               campus || ' ' || building || ' ' || room AS e
                        FROM housing_records) AS f ON f.fs = s.student_number"
        }
        Office::Finance => {
            "LEFT JOIN (SELECT student_number AS fs, COUNT(*) AS a, CAST(SUM(amount_fen) AS BIGINT) AS b,
                               CAST(NULL AS BIGINT) AS c, CAST(NULL AS BOOLEAN) AS d,
                               CAST(NULL AS TEXT) AS e
                        FROM finance_arrears GROUP BY student_number) AS f
                   ON f.fs = s.student_number"
        }
    }
}

/// The office's verdict (its state, its summary, whether it passes) of one row, by the
/// same rules as everywhere.
fn judge(office: Office, row: &Row) -> (RowStatus, String, bool) {
    let (number, name, _, _, standing, reported_at, verdict, reason, _, a, b, c, d, e, has, _) =
        row;
    let mut state = match standing.as_deref().and_then(Standing::from_code) {
        Some(standing) => OfficeState {
            standing,
            reported_at: reported_at.map(Instant::beijing_display),
            overridden: None,
            version: 1,
        },
        None => OfficeState::pending(),
    };
    if let (Some(verdict), Some(reason)) = (verdict, reason) {
        state.overridden = Some(Override {
            pass: verdict == "pass",
            reason: reason.clone(),
            decided_at: String::new(),
            ends_with_new_facts: false,
        });
    }
    let mut facts = ClearanceFacts {
        basic: BasicInfo {
            name: name.clone(),
            student_number: number.clone(),
            gender: Gender::Male,
            grade: String::new(),
            college: String::new(),
            major: String::new(),
            enrolled_on: String::new(),
            departure_category: String::new(),
            applied_on: String::new(),
        },
        library: None,
        archives: None,
        housing: None,
        arrears: vec![],
        states: OfficeStates::all_pending(),
    };
    let fen = |value: &Option<i64>| super::clearance::fen_to_yuan(value.unwrap_or(0));
    match office {
        Office::Library if *has => {
            facts.library = Some(LibraryFacts {
                books_out: u32::try_from(a.unwrap_or(0)).unwrap_or(u32::MAX),
                fines: fen(b),
                violations: u32::try_from(c.unwrap_or(0)).unwrap_or(u32::MAX),
                card_cancelled: d.unwrap_or(false),
                thesis: e
                    .as_deref()
                    .and_then(LibraryThesisStatus::from_code)
                    .unwrap_or(LibraryThesisStatus::NotSubmitted),
            })
        }
        Office::Archives => facts.archives = e.as_deref().and_then(ArchivesThesisStatus::from_code),
        Office::Housing if *has => {
            let checked_out = d.unwrap_or(false).then(String::new);
            facts.housing = Some(HousingRecord {
                campus: e.clone().unwrap_or_default(),
                building: String::new(),
                room: String::new(),
                checked_out_on: checked_out.clone(),
                checked_out_by: checked_out,
            })
        }
        Office::Finance if *has => {
            // Only whether anything is owed, and how much, matters to the verdict.
            facts.arrears = vec![Arrear {
                student_number: number.clone(),
                charge_id: None,
                academic_year: String::new(),
                item: String::new(),
                amount: fen(b),
            }]
        }
        _ => {}
    }
    *facts.states.get_mut(office) = state;
    let verdict = rules::verdict(office, &facts);
    let summary = match office {
        Office::Finance if *has && facts.states.get(office).standing == Standing::Reported => {
            format!(
                "欠费 {} 项，共 {} 元",
                a.unwrap_or(0),
                crate::clearance::model::yuan(fen(b))
            )
        }
        Office::Housing if *has && facts.states.get(office).standing == Standing::Reported => {
            format!(
                "{}，{}",
                e.as_deref().unwrap_or(""),
                if d.unwrap_or(false) {
                    "已退宿"
                } else {
                    "未退宿"
                }
            )
        }
        _ => super::offices::summary(office, &facts),
    };
    (RowStatus::of(&verdict), summary, verdict.passed())
}

for_each_backend! {
    pub(crate) async fn list(
        pool: &Pool,
        office: Office,
        query: &DeskQuery,
        status: Option<RowStatus>,
    ) -> Result<DeskList, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        // Without a state filter the database pages (a count and one page of rows); a
        // state is the shared rules' verdict, so filtering by it judges every match.
        let (rows, total, page, pages) = match status {
            None => {
                let total = usize::try_from(count(&mut tx, query).await?).unwrap_or(0);
                let pages = total.div_ceil(PAGE_SIZE).max(1) as u32;
                let page = query.page.clamp(1, pages);
                let offset = (page as usize - 1) * PAGE_SIZE;
                let rows = rows(&mut tx, office, query, None, Some((PAGE_SIZE, offset))).await?;
                (rows, total, page, pages)
            }
            Some(_) => {
                let matching = rows(&mut tx, office, query, status, None).await?;
                let total = matching.len();
                let pages = total.div_ceil(PAGE_SIZE).max(1) as u32;
                let page = query.page.clamp(1, pages);
                let rows = matching
                    .into_iter()
                    .skip((page as usize - 1) * PAGE_SIZE)
                    .take(PAGE_SIZE)
                    .collect();
                (rows, total, page, pages)
            }
        };
        let rows = rows.into_iter().map(|(row, _, _)| row).collect();
        let colleges: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT college FROM students WHERE deactivated_at IS NULL ORDER BY college")
                .fetch_all(&mut *tx)
                .await?;
        let grades: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT grade FROM students WHERE deactivated_at IS NULL ORDER BY grade")
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        Ok(DeskList { office, rows, total, page, pages, colleges, grades })
    }

    pub(crate) async fn matching(
        pool: &Pool,
        office: Office,
        query: &DeskQuery,
        status: Option<RowStatus>,
    ) -> Result<Vec<(DeskRow, i64)>, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        let rows = rows(&mut tx, office, query, status, None).await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(|(row, version, _)| (row, version)).collect())
    }

    /// How many students the search, college and grade filters match.
    async fn count(tx: &mut Conn, query: &DeskQuery) -> Result<i64, sqlx::Error> {
        let q = query.q.trim();
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM students s WHERE {FILTERS}"))
            .bind(q)
            .bind(like(q))
            .bind(query.college.trim())
            .bind(query.grade.trim())
            .fetch_one(&mut *tx)
            .await
    }

    /// The matching students with this office's verdict, in 学号 order; `page`: only
    /// (limit, offset) of them (no state filter then).
    async fn rows(
        tx: &mut Conn,
        office: Office,
        query: &DeskQuery,
        status: Option<RowStatus>,
        page: Option<(usize, usize)>,
    ) -> Result<Vec<(DeskRow, i64, bool)>, sqlx::Error> {
        let q = query.q.trim();
        let sql = format!(
            "SELECT s.student_number, s.name, s.college, s.grade,
                    o.standing, o.reported_at, o.override_verdict, o.override_reason,
                    EXISTS (SELECT 1 FROM departures d
                            WHERE d.student_number = s.student_number AND d.revoked_at IS NULL),
                    f.a, f.b, f.c, f.d, f.e, f.fs IS NOT NULL, o.version
             FROM students s
             LEFT JOIN office_states o ON o.student_number = s.student_number AND o.office = $1
             {}
             WHERE {}
             ORDER BY s.student_number
             {}",
            facts_sql(office),
            FILTERS_FROM_2,
            match page {
                Some((limit, offset)) => format!("LIMIT {limit} OFFSET {offset}"),
                None => String::new(),
            }
        );
        let rows: Vec<Row> = sqlx::query_as(&sql)
            .bind(office.code())
            .bind(q)
            .bind(like(q))
            .bind(query.college.trim())
            .bind(query.grade.trim())
            .fetch_all(&mut *tx)
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let (row_status, summary, passed) = judge(office, row);
                if status.is_some_and(|wanted| wanted != row_status) {
                    return None;
                }
                Some((
                    DeskRow {
                        student_number: row.0.clone(),
                        name: row.1.clone(),
                        college: row.2.clone(),
                        grade: row.3.clone(),
                        status: row_status,
                        summary,
                        submitted: row.8,
                    },
                    row.15.unwrap_or(0),
                    passed,
                ))
            })
            .collect())
    }

    pub(crate) async fn cohort(pool: &Pool) -> Result<Vec<CohortRow>, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        let mut offices = Vec::with_capacity(4);
        for office in Office::ALL {
            offices.push(rows(&mut tx, office, &DeskQuery::default(), None, None).await?);
        }
        let departures: Vec<(String, String)> = sqlx::query_as(
            "SELECT student_number, slip_number FROM departures WHERE revoked_at IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut slips: std::collections::HashMap<String, String> = departures.into_iter().collect();
        // Every office's list holds the same students in the same (学号) order.
        let mut offices = offices.into_iter().map(Vec::into_iter).collect::<Vec<_>>();
        let mut cohort = Vec::new();
        while let Some((first, _, passed)) = offices[0].next() {
            let mut standings = vec![OfficeStanding { status: first.status, summary: first.summary.clone(), passed }];
            for list in offices.iter_mut().skip(1) {
                let (row, _, passed) = list.next().ok_or(sqlx::Error::RowNotFound)?;
                if row.student_number != first.student_number {
                    return Err(sqlx::Error::Protocol("the offices' lists disagree".to_owned()));
                }
                standings.push(OfficeStanding { status: row.status, summary: row.summary, passed });
            }
            cohort.push(CohortRow {
                slip_number: slips.remove(&first.student_number),
                student_number: first.student_number,
                name: first.name,
                college: first.college,
                grade: first.grade,
                offices: standings,
            });
        }
        Ok(cohort)
    }
}
