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
    submission::{self, Departure, DepartureSummary, Revocation, SlipView, SubmittedRef},
};

/// Money is stored as integer fen; this is the one place it becomes yuan.
pub fn fen_to_yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// What the clearance page shows of the student's departures: the active one, or else
/// the last revocation (the student may submit again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartureState {
    pub submitted: Option<SubmittedRef>,
    pub revoked: Option<Revocation>,
}

/// The facts and the departures, read in one transaction so they agree.
/// `None` if there is no such student.
pub async fn load(
    db: &Db,
    student_number: &str,
) -> Result<Option<(ClearanceFacts, DepartureState)>, sqlx::Error> {
    on_backend!(db, load(student_number))
}

/// What the student's own clearance page shows.
pub struct StudentPage {
    pub facts: ClearanceFacts,
    pub departures: DepartureState,
    /// 变更记录 of all four offices, newest first, offices named instead of staff.
    pub history: Vec<crate::clearance::model::HistoryEntry>,
}

/// The student's clearance page in one round trip. `None` if there is no such student.
pub async fn load_page(db: &Db, student_number: &str) -> Result<Option<StudentPage>, sqlx::Error> {
    on_backend!(db, load_page(student_number))
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
/// transaction. "Once" is the partial unique index `departures_one_active_per_student`
/// (one departure not revoked per student), not a check made beforehand. The slip
/// number is made from `slip_date` (YYYYMMDD, Beijing) and how many departures the
/// student has had; its serial is new randomness, tagged under `keys`' current key.
pub async fn submit(
    db: &Db,
    student_number: &str,
    now: time::OffsetDateTime,
    slip_date: &str,
    who: &Who,
    keys: &crate::verify::SlipKeys,
) -> Result<SubmitOutcome, sqlx::Error> {
    on_backend!(db, submit(student_number, now, slip_date, who, keys))
}

/// A departure of the student with its frozen snapshot, for the slip: the one named by
/// `slip_number` (only if it is this student's), or else the active one.
pub async fn find_departure(
    db: &Db,
    student_number: &str,
    slip_number: Option<&str>,
) -> Result<Option<SlipView>, sqlx::Error> {
    on_backend!(db, find_departure(student_number, slip_number))
}

/// Every departure of the student, the newest first, for 已完成事项.
pub async fn departures_of(
    db: &Db,
    student_number: &str,
) -> Result<Vec<DepartureSummary>, sqlx::Error> {
    on_backend!(db, departures_of(student_number))
}

pub enum RevokeOutcome {
    /// Revoked; the student's number.
    Revoked(String),
    AlreadyRevoked,
    NotFound,
}

/// 撤销: the graduate school revokes the departure `slip_number`, with a reason, under
/// the student's lock; the audit row is part of the same transaction. The departure and
/// its snapshot stay; the student may submit again once all four offices pass.
pub async fn revoke(
    db: &Db,
    slip_number: &str,
    reason: &str,
    now: time::OffsetDateTime,
    who: &Who,
) -> Result<RevokeOutcome, sqlx::Error> {
    on_backend!(db, revoke(slip_number, reason, now, who))
}

/// A revocation as the student sees it: the graduate school, not the clerk.
fn for_student(revocation: Option<Revocation>) -> Option<Revocation> {
    revocation.map(|revocation| Revocation {
        by: None,
        ..revocation
    })
}

/// A departure's snapshot, serial and tag, and its revocation columns, as read.
type SlipRow = (
    String,
    String,
    Option<String>,
    Option<Instant>,
    Option<String>,
    Option<String>,
);
/// A departure's slip number, submission time and revocation columns, as read.
type SummaryRow = (
    String,
    Instant,
    Option<Instant>,
    Option<String>,
    Option<String>,
);

fn revocation(
    at: Option<Instant>,
    by: Option<String>,
    reason: Option<String>,
) -> Option<Revocation> {
    Some(Revocation {
        at: at?.beijing_display(),
        by: Some(by?),
        reason: reason?,
    })
}

for_each_backend! {
    /// Reads everything the clearance page shows. `None` if there is no such student.
    /// One statement: the student joined with the library, archives and housing rows,
    /// and the arrears and the standings as JSON arrays (on SQLite each statement is a
    /// hop to the connection's thread and back; on PostgreSQL a network round trip: on
    /// departure day, round trips are the page's cost). One statement also sees one
    /// state of the database, without a transaction around it.
    pub(crate) async fn load_facts(
        conn: &mut Conn,
        student_number: &str,
    ) -> Result<Option<ClearanceFacts>, sqlx::Error> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| facts_sql(dialect::json_rows, ""));
        let row: Option<FactsRow> = sqlx::query_as(sql)
            .bind(student_number)
            .fetch_optional(&mut *conn)
            .await?;
        row.map(FactsRow::into_facts).transpose()
    }

    /// The clearance page's facts and departures, in one statement.
    pub(crate) async fn load(
        pool: &Pool,
        student_number: &str,
    ) -> Result<Option<(ClearanceFacts, DepartureState)>, sqlx::Error> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| {
            facts_sql(dialect::json_rows, &format!(", {} AS departure", departure_json(dialect::json_rows)))
        });
        let row: Option<PageRow> = sqlx::query_as(sql)
            .bind(student_number)
            .fetch_optional(pool)
            .await?;
        row.map(|row| Ok((row.facts.into_facts()?, departure_state(&row.departure)?)))
            .transpose()
    }

    /// The student's own page: facts, departures and every office's history (as the
    /// student sees it), in one statement.
    pub(crate) async fn load_page(
        pool: &Pool,
        student_number: &str,
    ) -> Result<Option<StudentPage>, sqlx::Error> {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let sql = SQL.get_or_init(|| page_sql(dialect::json_rows));
        let row = sqlx::query(sql)
            .bind(student_number)
            .fetch_optional(pool)
            .await?;
        row.as_ref().map(student_page).transpose()
    }

    /// The student's active departure.
    async fn find_submitted(
        conn: &mut Conn,
        student_number: &str,
    ) -> Result<Option<SubmittedRef>, sqlx::Error> {
        let row: Option<(String, Instant)> = sqlx::query_as(
            "SELECT slip_number, submitted_at FROM departures
             WHERE student_number = $1 AND revoked_at IS NULL",
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
        slip_date: &str,
        who: &Who,
        keys: &crate::verify::SlipKeys,
    ) -> Result<SubmitOutcome, sqlx::Error> {
        let submitted_at = Instant::new(now);
        // The student's lock first: no office's facts can change between the gate and
        // the insert.
        let mut tx = dialect::begin_for_student(pool, student_number).await?;
        let Some(facts) = load_facts(&mut tx, student_number).await? else {
            return Ok(SubmitOutcome::NoSuchStudent);
        };
        // An active departure matters more to the student than today's facts.
        if find_submitted(&mut tx, student_number).await?.is_some() {
            audit::record_in(&mut tx, now, Event::DepartureRefused, who).await?;
            tx.commit().await?;
            return Ok(SubmitOutcome::AlreadySubmitted);
        }
        let verdicts = rules::verdicts(&facts);
        if rules::gate(&verdicts).is_err() {
            audit::record_in(&mut tx, now, Event::DepartureRefused, who).await?;
            tx.commit().await?;
            return Ok(SubmitOutcome::GateClosed(verdicts.to_vec()));
        }
        let earlier: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM departures WHERE student_number = $1")
                .bind(student_number)
                .fetch_one(&mut *tx)
                .await?;
        let nth = u32::try_from(earlier).unwrap_or(u32::MAX - 1) + 1;
        let slip_number = submission::slip_number(slip_date, student_number, nth);
        let slip_number = slip_number.as_str();
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
        let serial = crate::verify::new_serial();
        let inserted = sqlx::query(
            "INSERT INTO departures (student_number, slip_number, serial, tag, submitted_at,
                                     snapshot)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(student_number)
        .bind(slip_number)
        .bind(&serial)
        .bind(keys.tag(&serial, student_number))
        .bind(submitted_at)
        .bind(frozen)
        .execute(&mut *insert)
        .await;
        match inserted {
            Ok(_) => insert.commit().await?,
            Err(sqlx::Error::Database(error))
                if dialect::violates(error.as_ref(), "departures_one_active_per_student") =>
            {
                // Another request won the race: nothing of this one is kept but the
                // refusal. (Any other violation, a slip number taken say, is an error,
                // never "already submitted".)
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
        slip_number: Option<&str>,
    ) -> Result<Option<SlipView>, sqlx::Error> {
        let row: Option<SlipRow> = sqlx::query_as(
            "SELECT snapshot, serial, tag, revoked_at, revoked_by, revoke_reason FROM departures
             WHERE student_number = $1
               AND (($2 = '' AND revoked_at IS NULL) OR slip_number = $2)",
        )
        .bind(student_number)
        .bind(slip_number.unwrap_or(""))
        .fetch_optional(pool)
        .await?;
        row.map(|(json, serial, tag, at, by, reason)| {
            let mut departure =
                snapshot::thaw(&json).map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            // Stored in UTC (or, in snapshots frozen before that rule, in Beijing time).
            departure.submitted_at = crate::clock::beijing_display(&departure.submitted_at);
            Ok(SlipView {
                departure,
                revoked: for_student(revocation(at, by, reason)),
                serial,
                tag,
                check: None,
            })
        })
        .transpose()
    }

    pub(crate) async fn departures_of(
        pool: &Pool,
        student_number: &str,
    ) -> Result<Vec<DepartureSummary>, sqlx::Error> {
        let rows: Vec<SummaryRow> =
            sqlx::query_as(
                "SELECT slip_number, submitted_at, revoked_at, revoked_by, revoke_reason
                 FROM departures WHERE student_number = $1
                 ORDER BY revoked_at IS NOT NULL, submitted_at DESC, id DESC",
            )
            .bind(student_number)
            .fetch_all(pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(slip_number, submitted_at, at, by, reason)| DepartureSummary {
                slip_number,
                submitted_at: submitted_at.beijing_display(),
                revoked: for_student(revocation(at, by, reason)),
            })
            .collect())
    }

    pub(crate) async fn revoke(
        pool: &Pool,
        slip_number: &str,
        reason: &str,
        now: time::OffsetDateTime,
        who: &Who,
    ) -> Result<RevokeOutcome, sqlx::Error> {
        let student: Option<String> =
            sqlx::query_scalar("SELECT student_number FROM departures WHERE slip_number = $1")
                .bind(slip_number)
                .fetch_optional(pool)
                .await?;
        let Some(student) = student else {
            return Ok(RevokeOutcome::NotFound);
        };
        let mut tx = dialect::begin_for_student(pool, &student).await?;
        let revoked = sqlx::query(
            "UPDATE departures SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
             WHERE slip_number = $4 AND revoked_at IS NULL",
        )
        .bind(Instant::new(now))
        .bind(who.actor.as_deref().unwrap_or(""))
        .bind(reason)
        .bind(slip_number)
        .execute(&mut *tx)
        .await?;
        if revoked.rows_affected() == 0 {
            return Ok(RevokeOutcome::AlreadyRevoked);
        }
        let who = Who {
            subject: Some(student.clone()),
            ..who.clone()
        };
        audit::record_in(&mut tx, now, Event::DepartureRevoked, &who).await?;
        tx.commit().await?;
        Ok(RevokeOutcome::Revoked(student))
    }
}

/// `json_rows(columns, from)`: the dialect's SQL for a JSON array (as text) of one JSON
/// array of `columns` per row `from` yields, in no particular order: the reader sorts.
pub(crate) type JsonRows = fn(&str, &str) -> String;

/// The facts' columns (after `SELECT`), from the student `s` and [`FACTS_JOINS`].
fn facts_columns(json_rows: JsonRows) -> String {
    let arrears = json_rows(
        "a.student_number, a.academic_year, a.item, a.amount_fen, a.charge_id, a.id",
        "finance_arrears a WHERE a.student_number = s.student_number",
    );
    // 数据更新于 is the office's own time when its system said ("as of"), else when
    // Lixiao received the facts.
    let states = json_rows(
        "o.office, o.standing,
         CASE WHEN o.reported_at IS NULL THEN NULL ELSE COALESCE(o.source_as_of, o.reported_at) END,
         o.override_verdict, o.override_reason, o.override_at, o.override_ends_with_new_facts,
         o.version",
        "office_states o WHERE o.student_number = s.student_number",
    );
    format!(
        "s.name, s.student_number, s.gender, s.grade, s.college, s.major,
         s.enrolled_on, s.departure_category, s.applied_on,
         l.student_number IS NOT NULL AS has_library, l.books_out, l.fines_fen,
         l.violations, l.card_cancelled_at IS NOT NULL AS card_cancelled,
         l.thesis_status AS library_thesis,
         a.thesis_status AS archives_thesis,
         h.student_number IS NOT NULL AS has_housing, h.campus, h.building, h.room,
         h.checked_out_on, h.checked_out_by,
         {arrears} AS arrears, {states} AS states"
    )
}

/// The offices' rows of the student `s`, for [`facts_columns`].
const FACTS_JOINS: &str = "LEFT JOIN library_records l ON l.student_number = s.student_number
     LEFT JOIN archives_records a ON a.student_number = s.student_number
     LEFT JOIN housing_records h ON h.student_number = s.student_number";

/// The statement of [`load_facts`], with `more` columns after the facts'.
fn facts_sql(json_rows: JsonRows, more: &str) -> String {
    format!(
        "SELECT {} {more} FROM students s {FACTS_JOINS} WHERE s.student_number = $1",
        facts_columns(json_rows)
    )
}

/// The columns of the student's own page (after `SELECT`): the facts, the departure
/// and the history, from the student `s` and [`FACTS_JOINS`].
fn page_columns(json_rows: JsonRows) -> String {
    format!(
        "{}, {} AS departure, {} AS history",
        facts_columns(json_rows),
        departure_json(json_rows),
        history_json(json_rows)
    )
}

/// [`sessions::load_with_page`](super::sessions::load_with_page)'s statement: the
/// session `$1` unless expired at `$2`, its account, and the page of the account's
/// student (`has_student`), joined in one statement.
pub(crate) fn session_page_sql(json_rows: JsonRows) -> String {
    format!(
        "SELECT {}, s.student_number IS NOT NULL AS has_student, {}
         FROM sessions x
         LEFT JOIN accounts acct ON acct.login = x.login
         LEFT JOIN students s ON s.student_number = acct.student_number
         {FACTS_JOINS}
         WHERE x.id = $1 AND x.expires_at > $2",
        super::sessions::SESSION_COLUMNS,
        page_columns(json_rows)
    )
}

/// The student's page from a row holding [`page_columns`].
pub(crate) fn student_page<'r, R>(row: &'r R) -> Result<StudentPage, sqlx::Error>
where
    R: sqlx::Row,
    StudentPageRow: sqlx::FromRow<'r, R>,
{
    let row = <StudentPageRow as sqlx::FromRow<'r, R>>::from_row(row)?;
    Ok(StudentPage {
        facts: row.facts.into_facts()?,
        departures: departure_state(&row.departure)?,
        history: history_entries(&row.history)?,
    })
}

/// The statement of [`load_page`]: the facts, the departure and the history.
fn page_sql(json_rows: JsonRows) -> String {
    format!(
        "SELECT {} FROM students s {FACTS_JOINS} WHERE s.student_number = $1",
        page_columns(json_rows)
    )
}

/// Every departure of the student (a handful at most): [`departure_state`] picks the
/// active one, or else the last revoked.
fn departure_json(json_rows: JsonRows) -> String {
    json_rows(
        "d.slip_number, d.submitted_at, d.revoked_at, d.revoked_by, d.revoke_reason, d.id",
        "departures d WHERE d.student_number = s.student_number",
    )
}

/// Every office's history of the student ([`history_entries`] puts the newest first).
fn history_json(json_rows: JsonRows) -> String {
    json_rows(
        "y.office, y.at, y.actor_kind, y.actor, y.change, y.before, y.after, y.reason, y.id",
        "office_history y WHERE y.student_number = s.student_number",
    )
}

fn json<T: serde::de::DeserializeOwned>(column: &str, text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text)
        .map_err(|error| sqlx::Error::Decode(format!("{column}: {error}").into()))
}

/// A flag inside JSON: `true`/`false` from PostgreSQL, 0/1 from SQLite. Read by hand
/// rather than as an untagged enum: that buffers the value and builds an error for the
/// variant that misses, for every office of every page (seen in a profile of the page
/// under load).
struct Flag(bool);

impl Flag {
    fn is_set(&self) -> bool {
        self.0
    }
}

impl<'de> serde::Deserialize<'de> for Flag {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Flag;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("true, false, 0 or 1")
            }
            fn visit_bool<E: serde::de::Error>(self, flag: bool) -> Result<Flag, E> {
                Ok(Flag(flag))
            }
            fn visit_i64<E: serde::de::Error>(self, number: i64) -> Result<Flag, E> {
                Ok(Flag(number != 0))
            }
            fn visit_u64<E: serde::de::Error>(self, number: u64) -> Result<Flag, E> {
                Ok(Flag(number != 0))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A stored instant inside JSON (RFC 3339 on both backends), as pages show it.
fn shown(instant: Option<String>) -> Option<String> {
    instant.map(|at| crate::clock::beijing_display(&at))
}

fn departure_state(text: &str) -> Result<DepartureState, sqlx::Error> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
    );
    let rows: Vec<Row> = json("departure", text)?;
    // The active departure (at most one: `departures_one_active_per_student`), else the
    // last revoked. A departure is revoked before the next can be submitted, so among
    // the revoked ones the highest id is also the last revoked.
    let departure = rows
        .into_iter()
        .max_by_key(|(_, _, revoked_at, _, _, id)| (revoked_at.is_none(), *id));
    Ok(match departure {
        None => DepartureState::default(),
        Some((slip_number, submitted_at, None, _, _, _)) => DepartureState {
            submitted: Some(SubmittedRef {
                slip_number,
                submitted_at: crate::clock::beijing_display(&submitted_at),
            }),
            revoked: None,
        },
        Some((_, _, at, by, reason, _)) => DepartureState {
            submitted: None,
            revoked: match (shown(at), by, reason) {
                (Some(at), Some(_), Some(reason)) => Some(Revocation {
                    at,
                    by: None,
                    reason,
                }),
                _ => None,
            },
        },
    })
}

fn history_entries(text: &str) -> Result<Vec<crate::clearance::model::HistoryEntry>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        Option<String>,
        String,
        String,
        String,
        String,
        i64,
    );
    let mut rows: Vec<Row> = json("history", text)?;
    // Newest first.
    rows.sort_unstable_by_key(|row| std::cmp::Reverse(row.8));
    rows.into_iter()
        .map(
            |(office, at, kind, actor, change, before, after, reason, _)| {
                super::offices::history_entry(
                    super::offices::HistoryParts {
                        office,
                        at: crate::clock::beijing_display(&at),
                        kind,
                        actor,
                        change,
                        before,
                        after,
                        reason,
                    },
                    false,
                )
            },
        )
        .collect()
}

/// [`load`]'s row: the facts and the departure.
#[derive(sqlx::FromRow)]
struct PageRow {
    #[sqlx(flatten)]
    facts: FactsRow,
    departure: String,
}

/// [`load_page`]'s row: the facts, the departure and the history.
#[derive(sqlx::FromRow)]
pub(crate) struct StudentPageRow {
    #[sqlx(flatten)]
    facts: FactsRow,
    departure: String,
    history: String,
}

/// The student and the library, archives and housing rows of [`load_facts`], joined,
/// with the arrears and standings as JSON.
#[derive(sqlx::FromRow)]
pub(crate) struct FactsRow {
    name: String,
    student_number: String,
    gender: String,
    grade: String,
    college: String,
    major: String,
    enrolled_on: String,
    departure_category: String,
    applied_on: String,
    has_library: bool,
    books_out: Option<i64>,
    fines_fen: Option<i64>,
    violations: Option<i64>,
    card_cancelled: bool,
    library_thesis: Option<String>,
    archives_thesis: Option<String>,
    has_housing: bool,
    campus: Option<String>,
    building: Option<String>,
    room: Option<String>,
    checked_out_on: Option<String>,
    checked_out_by: Option<String>,
    arrears: String,
    states: String,
}

impl FactsRow {
    fn into_facts(self) -> Result<ClearanceFacts, sqlx::Error> {
        let row = self;
        let basic = BasicInfo {
            gender: crate::clearance::model::Gender::from_code(&row.gender)
                .ok_or_else(|| unknown_code("students.gender", &row.gender))?,
            name: row.name,
            student_number: row.student_number,
            grade: row.grade,
            college: row.college,
            major: row.major,
            enrolled_on: row.enrolled_on,
            departure_category: row.departure_category,
            applied_on: row.applied_on,
        };
        let library = if row.has_library {
            let thesis = row.library_thesis.unwrap_or_default();
            Some(LibraryFacts {
                // The schema's CHECKs keep these non-negative.
                books_out: u32::try_from(row.books_out.unwrap_or(0)).unwrap_or(u32::MAX),
                fines: fen_to_yuan(row.fines_fen.unwrap_or(0)),
                violations: u32::try_from(row.violations.unwrap_or(0)).unwrap_or(u32::MAX),
                card_cancelled: row.card_cancelled,
                thesis: LibraryThesisStatus::from_code(&thesis)
                    .ok_or_else(|| unknown_code("library_records.thesis_status", &thesis))?,
            })
        } else {
            None
        };
        let archives = row
            .archives_thesis
            .map(|code| {
                ArchivesThesisStatus::from_code(&code)
                    .ok_or_else(|| unknown_code("archives_records.thesis_status", &code))
            })
            .transpose()?;
        let housing = row.has_housing.then(|| HousingRecord {
            campus: row.campus.unwrap_or_default(),
            building: row.building.unwrap_or_default(),
            room: row.room.unwrap_or_default(),
            checked_out_on: row.checked_out_on,
            checked_out_by: row.checked_out_by,
        });
        type ArrearRow = (String, String, String, i64, Option<String>, i64);
        let mut arrears: Vec<ArrearRow> = json("arrears", &row.arrears)?;
        // By academic year, then as entered.
        arrears.sort_unstable_by(|a, b| (&a.1, a.5).cmp(&(&b.1, b.5)));
        let arrears = arrears
            .into_iter()
            .map(
                |(student_number, academic_year, item, amount_fen, charge_id, _)| Arrear {
                    student_number,
                    charge_id,
                    academic_year,
                    item,
                    amount: fen_to_yuan(amount_fen),
                },
            )
            .collect();
        type StateRow = (
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            Flag,
            i64,
        );
        let rows: Vec<StateRow> = json("states", &row.states)?;
        let mut states = crate::clearance::model::OfficeStates::all_pending();
        for (office, standing, reported_at, verdict, reason, decided_at, ends, version) in rows {
            super::offices::apply_state(
                &mut states,
                super::offices::StateParts {
                    office,
                    standing,
                    reported_at: shown(reported_at),
                    verdict,
                    reason,
                    decided_at: shown(decided_at),
                    ends_with_new_facts: ends.is_set(),
                    version,
                },
            )?;
        }
        Ok(ClearanceFacts {
            basic,
            library,
            archives,
            housing,
            arrears,
            states,
        })
    }
}

/// A stored value that is not one of the codes the schema admits: the database was
/// changed behind the app's back. An internal error, never a guess.
pub(crate) fn unknown_code(column: &str, code: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("{column} holds an unknown code {code:?}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both backends' spellings of a flag read the same; anything else is an error.
    #[test]
    fn flags_read_from_either_backend() {
        let flags: Vec<Flag> = json("flags", "[true, false, 1, 0]").expect("flags");
        let read: Vec<bool> = flags.iter().map(Flag::is_set).collect();
        assert_eq!(read, [true, false, true, false]);
        assert!(json::<Vec<Flag>>("flags", r#"["yes"]"#).is_err());
        assert!(json::<Vec<Flag>>("flags", "[null]").is_err());
    }

    /// Every departure-day page runs this statement: each table it reads must be found
    /// through an index on the student, never scanned, or the page slows down as the
    /// day's departures and history pile up (departures were scanned until
    /// `departures_by_student`).
    #[tokio::test]
    async fn the_page_statement_searches_every_table_by_the_student() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("plan.db").display());
        let Db::Sqlite(pool) = crate::db::open(&url).await.expect("opens") else {
            unreachable!("a sqlite:// URL opens SQLite")
        };
        // The page alone, and with the session and account that ask for it: 7 tables by
        // the student, and the session and the account by their keys.
        for (sql, searches) in [
            (page_sql(crate::db::sqlite::json_rows), 7),
            (session_page_sql(crate::db::sqlite::json_rows), 9),
        ] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind("2020100001")
                    .bind(0_i64)
                    .fetch_all(&pool)
                    .await
                    .expect("plan");
            let details: Vec<&str> = plan
                .iter()
                .map(|(_, _, _, detail)| detail.as_str())
                .collect();
            let scans: Vec<&&str> = details
                .iter()
                .filter(|detail| detail.starts_with("SCAN "))
                .collect();
            assert!(
                scans.is_empty(),
                "tables scanned: {scans:?} in {details:#?}"
            );
            assert!(
                details
                    .iter()
                    .filter(|detail| detail.starts_with("SEARCH "))
                    .count()
                    >= searches,
                "{details:#?}"
            );
        }
    }
}
