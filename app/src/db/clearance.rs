//! The clearance facts of one student, the library card cancellation and the
//! departure submission. Verdicts are never stored: the shared rules compute them.

use rust_decimal::Decimal;
use sqlx::SqliteConnection;

use super::{
    Db,
    audit::{self, Event, Who},
};
use crate::clearance::{
    model::{
        ArchivesThesisStatus, Arrear, BasicInfo, ClearanceFacts, HousingRecord, LibraryFacts,
        LibraryThesisStatus,
    },
    rules::{self, CardRefusal, Office},
    submission::{Departure, SubmittedRef},
};

/// Money is stored as integer fen; this is the one place it becomes yuan.
pub fn fen_to_yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Reads everything the clearance page shows. `None` if there is no such student.
pub async fn load_facts(
    conn: &mut SqliteConnection,
    student_number: &str,
) -> Result<Option<ClearanceFacts>, sqlx::Error> {
    let basic: Option<BasicInfo> = sqlx::query_as(
        "SELECT name, student_number, gender, grade, college, major, enrolled_on,
                departure_category, applied_on
         FROM students WHERE student_number = ?",
    )
    .bind(student_number)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(basic) = basic else {
        return Ok(None);
    };

    let library: Option<(i64, i64, i64, Option<String>, String)> = sqlx::query_as(
        "SELECT books_out, fines_fen, violations, card_cancelled_at, thesis_status
         FROM library_records WHERE student_number = ?",
    )
    .bind(&basic.student_number)
    .fetch_optional(&mut *conn)
    .await?;
    let library = library.map(|(books_out, fines_fen, violations, cancelled_at, thesis)| {
        LibraryFacts {
            // The schema's CHECKs keep these non-negative.
            books_out: u32::try_from(books_out).unwrap_or(u32::MAX),
            fines: fen_to_yuan(fines_fen),
            violations: u32::try_from(violations).unwrap_or(u32::MAX),
            card_cancelled: cancelled_at.is_some(),
            // The CHECK constraint admits only the four labels.
            thesis: LibraryThesisStatus::from_label(&thesis)
                .unwrap_or(LibraryThesisStatus::NotSubmitted),
        }
    });

    let archives: Option<Option<String>> =
        sqlx::query_scalar("SELECT thesis_status FROM archives_records WHERE student_number = ?")
            .bind(&basic.student_number)
            .fetch_optional(&mut *conn)
            .await?;
    let archives = archives
        .flatten()
        .and_then(|label| ArchivesThesisStatus::from_label(&label));

    let housing: Option<HousingRecord> = sqlx::query_as(
        "SELECT campus, building, room, checked_out_on, checked_out_by
         FROM housing_records WHERE student_number = ?",
    )
    .bind(&basic.student_number)
    .fetch_optional(&mut *conn)
    .await?;

    let arrears: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT student_number, academic_year, item, amount_fen
         FROM finance_arrears WHERE student_number = ? ORDER BY academic_year, id",
    )
    .bind(&basic.student_number)
    .fetch_all(&mut *conn)
    .await?;
    let arrears = arrears
        .into_iter()
        .map(|(student_number, academic_year, item, amount_fen)| Arrear {
            student_number,
            academic_year,
            item,
            amount: fen_to_yuan(amount_fen),
        })
        .collect();

    Ok(Some(ClearanceFacts {
        basic,
        library,
        archives,
        housing,
        arrears,
    }))
}

/// The facts and the submission (if any), read in one transaction so they agree.
pub async fn load(
    db: &Db,
    student_number: &str,
) -> Result<Option<(ClearanceFacts, Option<SubmittedRef>)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let Some(facts) = load_facts(&mut tx, student_number).await? else {
        return Ok(None);
    };
    let submitted = find_submitted(&mut tx, student_number).await?;
    tx.commit().await?;
    Ok(Some((facts, submitted)))
}

async fn find_submitted(
    conn: &mut SqliteConnection,
    student_number: &str,
) -> Result<Option<SubmittedRef>, sqlx::Error> {
    let row: Option<(String, String)> =
        sqlx::query_as("SELECT slip_number, submitted_at FROM departures WHERE student_number = ?")
            .bind(student_number)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.map(|(slip_number, submitted_at)| SubmittedRef {
        slip_number,
        submitted_at: crate::clock::beijing_display(&submitted_at),
    }))
}

pub enum CancelOutcome {
    Cancelled,
    Refused(CardRefusal),
    NoLibraryRecord,
}

/// 注销: cancels the library card if the rule allows it, deciding and writing under one
/// lock. The audit row (of the cancellation or of the refusal) is part of the same
/// transaction.
pub async fn cancel_library_card(
    db: &Db,
    student_number: &str,
    now: time::OffsetDateTime,
    who: &Who,
) -> Result<CancelOutcome, sqlx::Error> {
    // IMMEDIATE takes the write lock first, so the facts cannot change between check and write.
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let library = load_facts(&mut tx, student_number)
        .await?
        .and_then(|facts| facts.library);
    let outcome = match library {
        None => CancelOutcome::NoLibraryRecord,
        Some(library) => match rules::card_cancellation(&library) {
            Err(refusal) => CancelOutcome::Refused(refusal),
            Ok(()) => {
                sqlx::query(
                    "UPDATE library_records SET card_cancelled_at = ?
                     WHERE student_number = ? AND card_cancelled_at IS NULL",
                )
                .bind(crate::clock::utc_timestamp(now))
                .bind(student_number)
                .execute(&mut *tx)
                .await?;
                CancelOutcome::Cancelled
            }
        },
    };
    let event = match outcome {
        CancelOutcome::Cancelled => Event::LibraryCardCancelled,
        _ => Event::LibraryCardCancellationRefused,
    };
    audit::record(&mut *tx, now, event, who).await?;
    tx.commit().await?;
    Ok(outcome)
}

pub enum SubmitOutcome {
    Submitted(SubmittedRef),
    AlreadySubmitted,
    GateClosed(Vec<Office>),
    NoSuchStudent,
}

/// 提交离校流程: re-evaluates the four offices from the database and records the
/// departure with a frozen snapshot and its audit row, all in one transaction. "Once" is
/// the UNIQUE constraint on departures.student_number, not a check made beforehand.
pub async fn submit(
    db: &Db,
    student_number: &str,
    now: time::OffsetDateTime,
    slip_number: &str,
    who: &Who,
) -> Result<SubmitOutcome, sqlx::Error> {
    let submitted_at = crate::clock::utc_timestamp(now);
    // The write lock first: no office's facts can change between the gate and the insert.
    let mut tx = db.begin_with("BEGIN IMMEDIATE").await?;
    let Some(facts) = load_facts(&mut tx, student_number).await? else {
        return Ok(SubmitOutcome::NoSuchStudent);
    };
    let verdicts = rules::verdicts(&facts);
    if let Err(failing) = rules::gate(&verdicts) {
        // An earlier submission matters more to the student than today's facts.
        let outcome = if find_submitted(&mut tx, student_number).await?.is_some() {
            SubmitOutcome::AlreadySubmitted
        } else {
            SubmitOutcome::GateClosed(failing)
        };
        audit::record(&mut *tx, now, Event::DepartureRefused, who).await?;
        tx.commit().await?;
        return Ok(outcome);
    }
    let departure = Departure {
        slip_number: slip_number.to_owned(),
        submitted_at: submitted_at.clone(),
        facts,
        verdicts: verdicts.to_vec(),
    };
    let snapshot =
        serde_json::to_string(&departure).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
    let inserted = sqlx::query(
        "INSERT INTO departures (student_number, slip_number, submitted_at, snapshot)
         VALUES (?, ?, ?, ?)",
    )
    .bind(student_number)
    .bind(slip_number)
    .bind(&submitted_at)
    .bind(snapshot)
    .execute(&mut *tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            // Another request won the race: nothing of this one is kept but the refusal.
            tx.rollback().await?;
            audit::record(db, now, Event::DepartureRefused, who).await?;
            return Ok(SubmitOutcome::AlreadySubmitted);
        }
        Err(error) => return Err(error),
    }
    audit::record(&mut *tx, now, Event::DepartureSubmitted, who).await?;
    tx.commit().await?;
    Ok(SubmitOutcome::Submitted(SubmittedRef {
        slip_number: slip_number.to_owned(),
        submitted_at: crate::clock::beijing_display(&submitted_at),
    }))
}

/// The submitted departure with its frozen snapshot, for 已完成事项 and the slip.
pub async fn find_departure(
    db: &Db,
    student_number: &str,
) -> Result<Option<Departure>, sqlx::Error> {
    let snapshot: Option<String> =
        sqlx::query_scalar("SELECT snapshot FROM departures WHERE student_number = ?")
            .bind(student_number)
            .fetch_optional(db)
            .await?;
    snapshot
        .map(|json| {
            let mut departure: Departure = serde_json::from_str(&json)
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            // Stored in UTC (or, in snapshots frozen before that rule, in Beijing time).
            departure.submitted_at = crate::clock::beijing_display(&departure.submitted_at);
            Ok(departure)
        })
        .transpose()
}
