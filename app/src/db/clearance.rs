//! The clearance facts of one student, the library card cancellation and the
//! departure submission. Verdicts are never stored: the shared rules compute them.

use rust_decimal::Decimal;

use super::{
    Db, Instant,
    audit::{Event, Who},
    snapshot,
};
use crate::clearance::{
    model::{
        ArchivesThesisStatus, Arrear, BasicInfo, ClearanceFacts, HousingRecord, LibraryFacts,
        LibraryThesisStatus,
    },
    rules::{self, CardRefusal, Office, Verdict},
    submission::{Departure, SubmittedRef},
};

/// Money is stored as integer fen; this is the one place it becomes yuan.
pub fn fen_to_yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// The facts and the submission (if any), read in one transaction so they agree.
/// `None` if there is no such student.
pub async fn load(
    db: &Db,
    student_number: &str,
) -> Result<Option<(ClearanceFacts, Option<SubmittedRef>)>, sqlx::Error> {
    on_backend!(db, load(student_number))
}

pub enum CancelOutcome {
    Cancelled,
    Refused(CardRefusal),
    NoLibraryRecord,
}

/// 注销: cancels the library card if the rule allows it, deciding and writing under the
/// student's lock. The audit row (of the cancellation or of the refusal) is part of the
/// same transaction.
pub async fn cancel_library_card(
    db: &Db,
    student_number: &str,
    now: time::OffsetDateTime,
    who: &Who,
) -> Result<CancelOutcome, sqlx::Error> {
    on_backend!(db, cancel_library_card(student_number, now, who))
}

pub enum SubmitOutcome {
    Submitted(SubmittedRef),
    AlreadySubmitted,
    GateClosed(Vec<Verdict>),
    NoSuchStudent,
}

/// 提交离校流程: re-evaluates the four offices from the database under the student's
/// lock and records the departure with a frozen snapshot and its audit row, all in one
/// transaction. "Once" is the UNIQUE constraint on departures.student_number, not a
/// check made beforehand.
pub async fn submit(
    db: &Db,
    student_number: &str,
    now: time::OffsetDateTime,
    slip_number: &str,
    who: &Who,
) -> Result<SubmitOutcome, sqlx::Error> {
    on_backend!(db, submit(student_number, now, slip_number, who))
}

/// The submitted departure with its frozen snapshot, for 已完成事项 and the slip.
pub async fn find_departure(
    db: &Db,
    student_number: &str,
) -> Result<Option<Departure>, sqlx::Error> {
    on_backend!(db, find_departure(student_number))
}

for_each_backend! {
    /// Reads everything the clearance page shows. `None` if there is no such student.
    pub(crate) async fn load_facts(
        conn: &mut Conn,
        student_number: &str,
    ) -> Result<Option<ClearanceFacts>, sqlx::Error> {
        let basic: Option<BasicInfo> = sqlx::query_as(
            "SELECT name, student_number, gender, grade, college, major, enrolled_on,
                    departure_category, applied_on
             FROM students WHERE student_number = $1",
        )
        .bind(student_number)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(basic) = basic else {
            return Ok(None);
        };

        let library: Option<(i64, i64, i64, Option<Instant>, String)> = sqlx::query_as(
            "SELECT books_out, fines_fen, violations, card_cancelled_at, thesis_status
             FROM library_records WHERE student_number = $1",
        )
        .bind(&basic.student_number)
        .fetch_optional(&mut *conn)
        .await?;
        let library = library
            .map(|(books_out, fines_fen, violations, cancelled_at, thesis)| {
                Ok::<_, sqlx::Error>(LibraryFacts {
                    // The schema's CHECKs keep these non-negative.
                    books_out: u32::try_from(books_out).unwrap_or(u32::MAX),
                    fines: fen_to_yuan(fines_fen),
                    violations: u32::try_from(violations).unwrap_or(u32::MAX),
                    card_cancelled: cancelled_at.is_some(),
                    thesis: LibraryThesisStatus::from_code(&thesis)
                        .ok_or_else(|| unknown_code("library_records.thesis_status", &thesis))?,
                })
            })
            .transpose()?;

        let archives: Option<Option<String>> =
            sqlx::query_scalar("SELECT thesis_status FROM archives_records WHERE student_number = $1")
                .bind(&basic.student_number)
                .fetch_optional(&mut *conn)
                .await?;
        let archives = archives
            .flatten()
            .map(|code| {
                ArchivesThesisStatus::from_code(&code)
                    .ok_or_else(|| unknown_code("archives_records.thesis_status", &code))
            })
            .transpose()?;

        let housing: Option<HousingRecord> = sqlx::query_as(
            "SELECT campus, building, room, checked_out_on, checked_out_by
             FROM housing_records WHERE student_number = $1",
        )
        .bind(&basic.student_number)
        .fetch_optional(&mut *conn)
        .await?;

        let arrears: Vec<(String, String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT student_number, academic_year, item, amount_fen, charge_id
             FROM finance_arrears WHERE student_number = $1 ORDER BY academic_year, id",
        )
        .bind(&basic.student_number)
        .fetch_all(&mut *conn)
        .await?;
        let arrears = arrears
            .into_iter()
            .map(|(student_number, academic_year, item, amount_fen, charge_id)| Arrear {
                student_number,
                charge_id,
                academic_year,
                item,
                amount: fen_to_yuan(amount_fen),
            })
            .collect();

        let states = offices_db::load_states(&mut *conn, student_number).await?;
        Ok(Some(ClearanceFacts {
            basic,
            library,
            archives,
            housing,
            arrears,
            states,
        }))
    }

    pub(crate) async fn load(
        pool: &Pool,
        student_number: &str,
    ) -> Result<Option<(ClearanceFacts, Option<SubmittedRef>)>, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        let Some(facts) = load_facts(&mut tx, student_number).await? else {
            return Ok(None);
        };
        let submitted = find_submitted(&mut tx, student_number).await?;
        tx.commit().await?;
        Ok(Some((facts, submitted)))
    }

    async fn find_submitted(
        conn: &mut Conn,
        student_number: &str,
    ) -> Result<Option<SubmittedRef>, sqlx::Error> {
        let row: Option<(String, Instant)> = sqlx::query_as(
            "SELECT slip_number, submitted_at FROM departures WHERE student_number = $1",
        )
        .bind(student_number)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(|(slip_number, submitted_at)| SubmittedRef {
            slip_number,
            submitted_at: submitted_at.beijing_display(),
        }))
    }

    pub(crate) async fn cancel_library_card(
        pool: &Pool,
        student_number: &str,
        now: time::OffsetDateTime,
        who: &Who,
    ) -> Result<CancelOutcome, sqlx::Error> {
        let mut tx = dialect::begin_for_student(pool, student_number).await?;
        let library = load_facts(&mut tx, student_number)
            .await?
            .and_then(|facts| facts.library);
        let outcome = match library {
            None => CancelOutcome::NoLibraryRecord,
            Some(library) => match rules::card_cancellation(&library) {
                Err(refusal) => CancelOutcome::Refused(refusal),
                Ok(()) => {
                    let before = load_facts(&mut tx, student_number)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?;
                    sqlx::query(
                        "UPDATE library_records SET card_cancelled_at = $1
                         WHERE student_number = $2 AND card_cancelled_at IS NULL",
                    )
                    .bind(Instant::new(now))
                    .bind(student_number)
                    .execute(&mut *tx)
                    .await?;
                    // The record's version moves (a clerk's edit based on the old one is
                    // refused) and the change is in the history; the library's standing
                    // and any override stay as the library set them.
                    offices_db::student_changed(&mut tx, student_number, Office::Library).await?;
                    let after = load_facts(&mut tx, student_number)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?;
                    offices_db::record(
                        &mut tx,
                        student_number,
                        Office::Library,
                        now,
                        &crate::db::offices::Actor::Student(student_number.to_owned()),
                        "card_cancelled",
                        &crate::db::offices::summary(Office::Library, &before),
                        &crate::db::offices::summary(Office::Library, &after),
                        "学生本人在线注销借书证",
                    )
                    .await?;
                    CancelOutcome::Cancelled
                }
            },
        };
        let event = match outcome {
            CancelOutcome::Cancelled => Event::LibraryCardCancelled,
            _ => Event::LibraryCardCancellationRefused,
        };
        audit::record_in(&mut tx, now, event, who).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    pub(crate) async fn submit(
        pool: &Pool,
        student_number: &str,
        now: time::OffsetDateTime,
        slip_number: &str,
        who: &Who,
    ) -> Result<SubmitOutcome, sqlx::Error> {
        let submitted_at = Instant::new(now);
        // The student's lock first: no office's facts can change between the gate and
        // the insert.
        let mut tx = dialect::begin_for_student(pool, student_number).await?;
        let Some(facts) = load_facts(&mut tx, student_number).await? else {
            return Ok(SubmitOutcome::NoSuchStudent);
        };
        let verdicts = rules::verdicts(&facts);
        if rules::gate(&verdicts).is_err() {
            // An earlier submission matters more to the student than today's facts.
            let outcome = if find_submitted(&mut tx, student_number).await?.is_some() {
                SubmitOutcome::AlreadySubmitted
            } else {
                SubmitOutcome::GateClosed(verdicts.to_vec())
            };
            audit::record_in(&mut tx, now, Event::DepartureRefused, who).await?;
            tx.commit().await?;
            return Ok(outcome);
        }
        let departure = Departure {
            slip_number: slip_number.to_owned(),
            submitted_at: submitted_at.to_rfc3339(),
            facts,
            verdicts: verdicts.to_vec(),
        };
        let frozen =
            snapshot::freeze(&departure).map_err(|error| sqlx::Error::Encode(Box::new(error)))?;
        // A savepoint, so that losing the race (the UNIQUE constraint) leaves a
        // transaction that can still record the refusal: PostgreSQL aborts the whole
        // transaction on an error otherwise.
        let mut insert = sqlx::Connection::begin(&mut *tx).await?;
        let inserted = sqlx::query(
            "INSERT INTO departures (student_number, slip_number, submitted_at, snapshot)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(student_number)
        .bind(slip_number)
        .bind(submitted_at)
        .bind(frozen)
        .execute(&mut *insert)
        .await;
        match inserted {
            Ok(_) => insert.commit().await?,
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                // Another request won the race: nothing of this one is kept but the refusal.
                insert.rollback().await?;
                audit::record_in(&mut tx, now, Event::DepartureRefused, who).await?;
                tx.commit().await?;
                return Ok(SubmitOutcome::AlreadySubmitted);
            }
            Err(error) => return Err(error),
        }
        audit::record_in(&mut tx, now, Event::DepartureSubmitted, who).await?;
        tx.commit().await?;
        Ok(SubmitOutcome::Submitted(SubmittedRef {
            slip_number: slip_number.to_owned(),
            submitted_at: submitted_at.beijing_display(),
        }))
    }

    pub(crate) async fn find_departure(
        pool: &Pool,
        student_number: &str,
    ) -> Result<Option<Departure>, sqlx::Error> {
        let frozen: Option<String> =
            sqlx::query_scalar("SELECT snapshot FROM departures WHERE student_number = $1")
                .bind(student_number)
                .fetch_optional(pool)
                .await?;
        frozen
            .map(|json| {
                let mut departure =
                    snapshot::thaw(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
                // Stored in UTC (or, in snapshots frozen before that rule, in Beijing time).
                departure.submitted_at = crate::clock::beijing_display(&departure.submitted_at);
                Ok(departure)
            })
            .transpose()
    }
}

/// A stored value that is not one of the codes the schema admits: the database was
/// changed behind the app's back. An internal error, never a guess.
pub(crate) fn unknown_code(column: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("{column} holds an unknown code {code:?}").into())
}
