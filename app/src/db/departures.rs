//! The graduate school's list of departures (离校名单): every submitted departure with
//! its slip number, newest first, active and revoked ones, and the submissions per day.

use super::{Db, Instant, desk::like};
use crate::{
    clearance::Revocation,
    school::{DepartureQuery, DepartureRow, DepartureState},
};

/// The departures the query matches: one page of them (`page`: rows per page and the
/// page from 1), or all of them (`None`, for an export); and how many match.
pub async fn list(
    db: &Db,
    query: &DepartureQuery,
    page: Option<(usize, u32)>,
) -> Result<(Vec<DepartureRow>, usize), sqlx::Error> {
    on_backend!(db, list(query, page))
}

/// One departure by its slip number.
pub async fn find(db: &Db, slip_number: &str) -> Result<Option<DepartureRow>, sqlx::Error> {
    let query = DepartureQuery {
        slip: slip_number.to_owned(),
        ..DepartureQuery::default()
    };
    Ok(list(db, &query, Some((1, 1))).await?.0.into_iter().next())
}

/// When each departure was submitted, and whether it stands: the overview's days.
pub async fn submission_times(db: &Db) -> Result<Vec<(Instant, bool)>, sqlx::Error> {
    on_backend!(db, submission_times())
}

const FILTERS: &str =
    "($1 = '' OR d.student_number LIKE $2 ESCAPE '\\' OR s.name LIKE $2 ESCAPE '\\'
                          OR d.slip_number LIKE $2 ESCAPE '\\' OR d.serial = $6)
                  AND ($3 = '' OR ($3 = 'active' AND d.revoked_at IS NULL)
                               OR ($3 = 'revoked' AND d.revoked_at IS NOT NULL))
                  AND ($4 = '' OR d.slip_number = $4)
                  AND ($5 = '' OR s.college = $5)";

for_each_backend! {
    pub(crate) async fn list(
        pool: &Pool,
        query: &DepartureQuery,
        page: Option<(usize, u32)>,
    ) -> Result<(Vec<DepartureRow>, usize), sqlx::Error> {
        let q = query.q.trim();
        let state = match query.state.as_str() {
            "active" | "revoked" => query.state.as_str(),
            _ => "",
        };
        // A 防伪编号 as typed (any case, with or without dashes) finds its slip.
        let serial = crate::verify::normalize_serial(q).unwrap_or_default();
        let mut tx = dialect::begin_read(pool).await?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM departures d JOIN students s ON s.student_number = d.student_number
             WHERE {FILTERS}"
        ))
        .bind(q)
        .bind(like(q))
        .bind(state)
        .bind(query.slip.trim())
        .bind(query.college.trim())
        .bind(&serial)
        .fetch_one(&mut *tx)
        .await?;
        let limit = match page {
            Some((size, page)) => format!(
                "LIMIT {size} OFFSET {}",
                size * (page.max(1) as usize - 1)
            ),
            None => String::new(),
        };
        type Row = (String, String, String, String, String, String, String, Instant, Option<Instant>, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT d.slip_number, d.serial, d.student_number, s.name, s.college, s.major,
                    s.departure_category, d.submitted_at,
                    d.revoked_at, d.revoked_by, d.revoke_reason
             FROM departures d JOIN students s ON s.student_number = d.student_number
             WHERE {FILTERS}
             ORDER BY d.submitted_at DESC, d.id DESC
             {limit}"
        ))
        .bind(q)
        .bind(like(q))
        .bind(state)
        .bind(query.slip.trim())
        .bind(query.college.trim())
        .bind(&serial)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let rows = rows
            .into_iter()
            .map(|(slip_number, serial, student_number, name, college, major, departure_category, submitted_at, revoked_at, by, reason)| {
                let state = match (revoked_at, by, reason) {
                    (Some(at), Some(by), Some(reason)) => DepartureState::Revoked(Revocation {
                        at: at.beijing_display(),
                        by: Some(by),
                        reason,
                    }),
                    _ => DepartureState::Active,
                };
                DepartureRow {
                    slip_number,
                    serial: crate::verify::grouped(&serial),
                    student_number,
                    name,
                    college,
                    major,
                    departure_category,
                    submitted_at: submitted_at.beijing_display(),
                    state,
                }
            })
            .collect();
        Ok((rows, usize::try_from(total).unwrap_or(0)))
    }

    pub(crate) async fn submission_times(pool: &Pool) -> Result<Vec<(Instant, bool)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT d.submitted_at, d.revoked_at IS NULL FROM departures d
             JOIN students s ON s.student_number = d.student_number
             WHERE s.deactivated_at IS NULL
             ORDER BY d.submitted_at",
        )
        .fetch_all(pool)
        .await
    }
}
