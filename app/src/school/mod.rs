//! 研究生院: the graduate school's side. It keeps the roster of the graduating cohort
//! (`roster`), sees the whole cohort by college, office and state with a drill-down to
//! the students behind every count (`overview`), exports any of those lists to CSV
//! (`export`), and keeps the list of departures, where it may revoke one with a reason
//! (`departures`). Every server function checks the role on the server.

mod departures;
#[cfg(feature = "ssr")]
pub mod export;
mod overview;
pub mod roster;
#[cfg(feature = "ssr")]
pub mod roster_file;

pub use departures::{DepartureRevokePage, DeparturesPage};
pub use overview::{CohortListPage, OverviewPage};
pub use roster::RosterPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AppError,
    clearance::{Revocation, rules::Office},
    desk::{RowStatus, StaffRole},
};

/// Who works here: the graduate school only (admins create staff accounts; the offices
/// keep their own facts).
pub const GRADUATE_SCHOOL: [StaffRole; 1] = [StaffRole::GraduateSchool];

/// Rows per page of the school's lists.
pub const PAGE_SIZE: usize = 50;

/// One office's verdict on a student, as the lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeStanding {
    pub status: RowStatus,
    /// The office's facts in a few words.
    pub summary: String,
    pub passed: bool,
}

/// A student of the cohort with the four offices' verdicts ([`Office::ALL`] order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortRow {
    pub student_number: String,
    pub name: String,
    pub college: String,
    pub grade: String,
    pub offices: Vec<OfficeStanding>,
    /// The active departure's slip number.
    pub slip_number: Option<String>,
}

impl CohortRow {
    pub fn submitted(&self) -> bool {
        self.slip_number.is_some()
    }

    /// All four pass and the student has not submitted yet.
    pub fn ready(&self) -> bool {
        !self.submitted() && self.offices.iter().all(|office| office.passed)
    }

    /// What keeps the student from submitting: each office that does not pass.
    pub fn blockers(&self) -> String {
        Office::ALL
            .iter()
            .zip(&self.offices)
            .filter(|(_, standing)| !standing.passed)
            .map(|(office, standing)| {
                if standing.summary.is_empty() || standing.status == RowStatus::Pending {
                    format!("{}：{}", office.name(), standing.status.label())
                } else {
                    format!(
                        "{}：{}（{}）",
                        office.name(),
                        standing.status.label(),
                        standing.summary
                    )
                }
            })
            .collect::<Vec<_>>()
            .join("；")
    }
}

/// Which students of the cohort a count (and its list) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Group {
    All,
    /// Has an active departure.
    Submitted,
    /// All four pass, not submitted.
    Ready,
    /// Not submitted, and some office does not pass.
    Blocked,
}

impl Group {
    pub const ALL: [Group; 4] = [Group::All, Group::Submitted, Group::Ready, Group::Blocked];

    pub fn code(self) -> &'static str {
        match self {
            Group::All => "",
            Group::Submitted => "submitted",
            Group::Ready => "ready",
            Group::Blocked => "blocked",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|group| group.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Group::All => "全部学生",
            Group::Submitted => "已提交",
            Group::Ready => "四项通过、未提交",
            Group::Blocked => "未提交、有事项未通过",
        }
    }

    fn holds(self, row: &CohortRow) -> bool {
        match self {
            Group::All => true,
            Group::Submitted => row.submitted(),
            Group::Ready => row.ready(),
            Group::Blocked => !row.submitted() && !row.ready(),
        }
    }
}

/// A list of the cohort, as the overview's links and the export address carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CohortFilter {
    /// A college, or empty for all.
    pub college: String,
    /// An office code; with `state`, only students in that state at that office.
    pub office: String,
    /// A [`RowStatus`] code.
    pub state: String,
    /// A [`Group`] code.
    pub group: String,
    /// From 1.
    pub page: u32,
}

impl CohortFilter {
    fn office(&self) -> Option<Office> {
        Office::from_code(&self.office)
    }

    fn state(&self) -> Option<RowStatus> {
        RowStatus::from_code(&self.state)
    }

    fn group(&self) -> Group {
        Group::from_code(&self.group).unwrap_or(Group::All)
    }

    pub fn matches(&self, row: &CohortRow) -> bool {
        let college = self.college.is_empty() || row.college == self.college;
        let office = match (self.office(), self.state()) {
            (Some(office), Some(state)) => Office::ALL
                .iter()
                .position(|o| *o == office)
                .and_then(|index| row.offices.get(index))
                .is_some_and(|standing| standing.status == state),
            _ => true,
        };
        college && office && self.group().holds(row)
    }

    /// The filters as an address's query (without the page).
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("college", &self.college),
            ("office", &self.office),
            ("state", &self.state),
            ("group", &self.group),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{key}={}", crate::desk::encode(value)));
            }
        }
        pairs.join("&")
    }

    /// In words: "计算机科学与技术学院 · 图书馆 未通过".
    pub fn describe(&self) -> String {
        let mut parts = vec![if self.college.is_empty() {
            "全部学院".to_owned()
        } else {
            self.college.clone()
        }];
        if let (Some(office), Some(state)) = (self.office(), self.state()) {
            parts.push(format!("{} {}", office.name(), state.label()));
        }
        if self.group() != Group::All || parts.len() == 1 {
            parts.push(self.group().label().to_owned());
        }
        parts.join(" · ")
    }
}

/// The counts of one college (or of all): students, by group, and per office by state
/// (`offices[office][state]` in [`Office::ALL`] and [`RowStatus::ALL`] order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverviewLine {
    /// Empty for the whole cohort.
    pub college: String,
    pub students: usize,
    pub submitted: usize,
    pub ready: usize,
    pub blocked: usize,
    pub offices: Vec<Vec<usize>>,
}

/// Departures submitted on one day (Beijing time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayLine {
    pub date: String,
    pub submitted: usize,
    /// Of those, revoked since.
    pub revoked: usize,
    /// Standing departures submitted up to and including this day.
    pub cumulative: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub colleges: Vec<OverviewLine>,
    pub total: OverviewLine,
    pub days: Vec<DayLine>,
    /// When it was counted (Beijing time).
    pub counted_at: String,
}

/// Counts the cohort: every number is the length of the list its link opens.
#[cfg(feature = "ssr")]
pub fn count(rows: &[CohortRow]) -> (Vec<OverviewLine>, OverviewLine) {
    let empty = |college: &str| OverviewLine {
        college: college.to_owned(),
        offices: vec![vec![0; RowStatus::ALL.len()]; Office::ALL.len()],
        ..OverviewLine::default()
    };
    let mut total = empty("");
    let mut colleges: std::collections::BTreeMap<&str, OverviewLine> = Default::default();
    for row in rows {
        let line = colleges
            .entry(row.college.as_str())
            .or_insert_with(|| empty(&row.college));
        for line in [&mut *line, &mut total] {
            line.students += 1;
            line.submitted += usize::from(row.submitted());
            line.ready += usize::from(row.ready());
            line.blocked += usize::from(!row.submitted() && !row.ready());
            for (index, standing) in row.offices.iter().enumerate() {
                if let Some(state) = RowStatus::ALL.iter().position(|s| *s == standing.status) {
                    line.offices[index][state] += 1;
                }
            }
        }
    }
    (colleges.into_values().collect(), total)
}

/// Submissions per day from (Beijing date, still standing), in date order.
#[cfg(feature = "ssr")]
pub fn days(submissions: &[(String, bool)]) -> Vec<DayLine> {
    let mut by_day: std::collections::BTreeMap<&str, (usize, usize)> = Default::default();
    for (date, standing) in submissions {
        let day = by_day.entry(date.as_str()).or_default();
        day.0 += 1;
        day.1 += usize::from(!standing);
    }
    let mut cumulative = 0;
    by_day
        .into_iter()
        .map(|(date, (submitted, revoked))| {
            cumulative += submitted - revoked;
            DayLine {
                date: date.to_owned(),
                submitted,
                revoked,
                cumulative,
            }
        })
        .collect()
}

/// One page of a list of the cohort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CohortPage {
    pub filter: CohortFilter,
    pub description: String,
    pub rows: Vec<CohortRow>,
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// The departures list's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DepartureQuery {
    /// 学号, name or part of a slip number.
    pub q: String,
    /// "", "active" or "revoked".
    pub state: String,
    /// Exactly this slip number.
    pub slip: String,
    pub college: String,
    pub page: u32,
}

impl DepartureQuery {
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        for (key, value) in [
            ("q", &self.q),
            ("state", &self.state),
            ("college", &self.college),
        ] {
            if !value.is_empty() {
                pairs.push(format!("{key}={}", crate::desk::encode(value)));
            }
        }
        pairs.join("&")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DepartureState {
    Active,
    Revoked(Revocation),
}

/// A departure as the graduate school lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureRow {
    pub slip_number: String,
    /// 防伪编号 as printed (groups of four).
    pub serial: String,
    pub student_number: String,
    pub name: String,
    pub college: String,
    pub major: String,
    pub departure_category: String,
    pub submitted_at: String,
    pub state: DepartureState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureList {
    pub query: DepartureQuery,
    pub rows: Vec<DepartureRow>,
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// The pages of `total` rows, and the page asked for within them.
#[cfg(feature = "ssr")]
fn paging(total: usize, asked: u32) -> (u32, u32) {
    let pages = total.div_ceil(PAGE_SIZE).max(1) as u32;
    (asked.clamp(1, pages), pages)
}

#[server(prefix = "/api", endpoint = "school_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use crate::{auth::session, db, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let rows = db::desk::cohort(&state.db).await?;
            let (colleges, total) = count(&rows);
            let times = db::departures::submission_times(&state.db).await?;
            let submissions: Vec<(String, bool)> = times
                .into_iter()
                .map(|(at, standing)| (crate::clock::beijing(at.0).date().to_string(), standing))
                .collect();
            Ok(Overview {
                colleges,
                total,
                days: days(&submissions),
                counted_at: db::Instant::new(crate::clock::now()).beijing_display(),
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "school_cohort")]
pub async fn get_cohort_page(filter: CohortFilter) -> Result<CohortPage, AppError> {
    use crate::{auth::session, db, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let matching: Vec<CohortRow> = db::desk::cohort(&state.db)
                .await?
                .into_iter()
                .filter(|row| filter.matches(row))
                .collect();
            let total = matching.len();
            let (page, pages) = paging(total, filter.page);
            let rows = matching
                .into_iter()
                .skip((page as usize - 1) * PAGE_SIZE)
                .take(PAGE_SIZE)
                .collect();
            Ok(CohortPage {
                description: filter.describe(),
                filter,
                rows,
                total,
                page,
                pages,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "school_departures")]
pub async fn get_departures_list(query: DepartureQuery) -> Result<DepartureList, AppError> {
    use crate::{auth::session, db, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            session::require_role(&state, &GRADUATE_SCHOOL).await?;
            if query.q.chars().count() > 64 || query.college.chars().count() > 64 {
                return Err(AppError::BadRequest("搜索内容过长。".to_owned()));
            }
            let (_, total) = db::departures::list(&state.db, &query, Some((1, 1))).await?;
            let (page, pages) = paging(total, query.page);
            let (rows, total) =
                db::departures::list(&state.db, &query, Some((PAGE_SIZE, page))).await?;
            Ok(DepartureList {
                query,
                rows,
                total,
                page,
                pages,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "school_departure")]
pub async fn get_departure_row(slip_number: String) -> Result<DepartureRow, AppError> {
    use crate::{auth::session, db, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let slip = slip_number.trim();
            if slip.is_empty() || slip.chars().count() > 64 {
                return Err(AppError::NotFound);
            }
            db::departures::find(&state.db, slip)
                .await?
                .ok_or(AppError::NotFound)
        }
        .await,
    )
}

/// 撤销: revokes a departure with a reason; the student sees it and may submit again.
#[server(prefix = "/api", endpoint = "revoke_departure")]
pub async fn revoke_departure(
    slip_number: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        auth::session,
        db::clearance::{self, RevokeOutcome},
        desk::input,
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let staff = session::require_role(&state, &GRADUATE_SCHOOL).await?;
            let reason = input::reason(&reason).map_err(AppError::BadRequest)?;
            if confirm.as_deref() != Some("on") {
                return Err(AppError::BadRequest(
                    "请勾选“确认撤销”后再提交：撤销后原离校流程单作废。".to_owned(),
                ));
            }
            let slip = slip_number.trim();
            if slip.is_empty() || slip.chars().count() > 64 {
                return Err(AppError::BadRequest("请输入流程单号。".to_owned()));
            }
            let who = session::acting(&staff.login);
            match clearance::revoke(&state.db, slip, &reason, crate::clock::now(), &who).await? {
                RevokeOutcome::Revoked(_) => {
                    leptos_axum::redirect(&format!(
                        "/desk/departures/revoke?n={}&done=1",
                        crate::desk::encode(slip)
                    ));
                    Ok(())
                }
                RevokeOutcome::AlreadyRevoked => Err(AppError::Conflict(format!(
                    "流程单 {slip} 已被撤销，无需再次撤销。"
                ))),
                RevokeOutcome::NotFound => Err(AppError::BadRequest(format!(
                    "没有流程单号为 {slip} 的离校流程。"
                ))),
            }
        }
        .await,
    )
}

/// The graduate school's pages, as tabs.
#[component]
pub fn SchoolTabs(current: &'static str) -> impl IntoView {
    let tab = move |href: &'static str, label: &'static str| {
        let here = current == href;
        view! {
            <a href=href aria-current=here.then_some("page")>{label}</a>
        }
    };
    view! {
        <nav class="tabs" aria-label="研究生院">
            {tab("/desk/overview", "离校总览")}
            {tab("/desk/departures", "离校名单")}
            {tab("/desk/roster", "导入学生名单")}
            {tab("/desk/reset", "重置学生密码")}
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(status: RowStatus, passed: bool) -> OfficeStanding {
        OfficeStanding {
            status,
            summary: String::new(),
            passed,
        }
    }

    fn student(number: &str, college: &str, passes: [bool; 4], slip: bool) -> CohortRow {
        CohortRow {
            student_number: number.to_owned(),
            name: "某".to_owned(),
            college: college.to_owned(),
            grade: "2017级".to_owned(),
            offices: passes
                .iter()
                .map(|passed| {
                    standing(
                        if *passed {
                            RowStatus::Pass
                        } else {
                            RowStatus::Pending
                        },
                        *passed,
                    )
                })
                .collect(),
            slip_number: slip.then(|| format!("LX{number}")),
        }
    }

    #[test]
    fn every_count_is_the_length_of_its_list() {
        let rows = vec![
            student("1", "甲学院", [true; 4], true),
            student("2", "甲学院", [true; 4], false),
            student("3", "乙学院", [true, false, true, true], false),
            student("4", "乙学院", [false; 4], false),
        ];
        let (colleges, total) = count(&rows);
        assert_eq!(
            (total.students, total.submitted, total.ready, total.blocked),
            (4, 1, 1, 2)
        );
        assert_eq!(colleges.len(), 2);
        let pending = RowStatus::ALL
            .iter()
            .position(|s| *s == RowStatus::Pending)
            .expect("pending");
        let second = colleges
            .iter()
            .find(|line| line.college == "乙学院")
            .expect("乙学院");
        assert_eq!(second.offices[1][pending], 2);
        // Each count equals the list its link opens.
        for line in colleges.iter().chain([&total]) {
            for group in Group::ALL {
                let filter = CohortFilter {
                    college: line.college.clone(),
                    group: group.code().to_owned(),
                    ..CohortFilter::default()
                };
                let listed = rows.iter().filter(|row| filter.matches(row)).count();
                let counted = match group {
                    Group::All => line.students,
                    Group::Submitted => line.submitted,
                    Group::Ready => line.ready,
                    Group::Blocked => line.blocked,
                };
                assert_eq!(listed, counted, "{} {:?}", line.college, group);
            }
            for (o, office) in Office::ALL.iter().enumerate() {
                for (s, state) in RowStatus::ALL.iter().enumerate() {
                    let filter = CohortFilter {
                        college: line.college.clone(),
                        office: office.code().to_owned(),
                        state: state.code().to_owned(),
                        ..CohortFilter::default()
                    };
                    let listed = rows.iter().filter(|row| filter.matches(row)).count();
                    assert_eq!(listed, line.offices[o][s]);
                }
            }
        }
    }

    #[test]
    fn days_count_submissions_and_what_still_stands() {
        let submissions = [
            ("2026-06-21".to_owned(), true),
            ("2026-06-20".to_owned(), true),
            ("2026-06-20".to_owned(), false),
            ("2026-06-21".to_owned(), true),
        ];
        let days = days(&submissions);
        assert_eq!(
            days,
            [
                DayLine {
                    date: "2026-06-20".to_owned(),
                    submitted: 2,
                    revoked: 1,
                    cumulative: 1
                },
                DayLine {
                    date: "2026-06-21".to_owned(),
                    submitted: 2,
                    revoked: 0,
                    cumulative: 3
                },
            ]
        );
    }

    #[test]
    fn blockers_name_each_office_that_does_not_pass() {
        let mut row = student("1", "甲学院", [true, false, true, false], false);
        row.offices[3] = OfficeStanding {
            status: RowStatus::Fail,
            summary: "欠费 1 项，共 60.00 元".to_owned(),
            passed: false,
        };
        assert_eq!(
            row.blockers(),
            "档案馆：待核验；财务资产部收费管理办公室：未通过（欠费 1 项，共 60.00 元）"
        );
    }
}
