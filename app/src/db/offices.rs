//! Each office's standing on each student (待核验 / reported / 不涉及, overrides), the
//! changes offices make, and the history (变更记录) every change leaves.
//!
//! Every change runs under the student's lock (the same one submitting takes), checks
//! the office record's version, writes the new facts or standing, bumps the version and
//! appends the history row, all in one transaction: a change without its history, or a
//! save over someone else's newer save, cannot happen.

use rust_decimal::Decimal;

use super::{Db, Instant};
use crate::clearance::{
    model::{
        ArchivesThesisStatus, ClearanceFacts, HistoryEntry, HousingRecord, LibraryThesisStatus,
        OfficeState, OfficeStates, Override, Standing, total_arrears, yuan,
    },
    rules::Office,
};

/// Who made a change, as history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A staff account (login).
    Staff(String),
    /// The student, acting on their own record (注销).
    Student(String),
    /// An office's own system, pushing through the sync API (the token's name).
    System(String),
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Student(_) => "student",
            Actor::System(_) => "system",
        }
    }

    pub fn login(&self) -> &str {
        match self {
            Actor::Staff(login) | Actor::Student(login) | Actor::System(login) => login,
        }
    }
}

/// One office's facts, as staff enter them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OfficeFacts {
    Library {
        books_out: u32,
        fines: Decimal,
        violations: u32,
        card_cancelled: bool,
        thesis: LibraryThesisStatus,
    },
    Archives {
        thesis: Option<ArchivesThesisStatus>,
    },
    Housing(HousingRecord),
    Finance {
        /// Every outstanding charge.
        arrears: Vec<Charge>,
    },
}

/// One outstanding charge as an office reports it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Charge {
    /// The finance system's id (sync API); `None` at the desk.
    pub charge_id: Option<String>,
    /// 收费学年
    pub academic_year: String,
    /// 收费项目名称
    pub item: String,
    pub amount: Decimal,
}

impl OfficeFacts {
    pub fn office(&self) -> Office {
        match self {
            OfficeFacts::Library { .. } => Office::Library,
            OfficeFacts::Archives { .. } => Office::Archives,
            OfficeFacts::Housing(_) => Office::Housing,
            OfficeFacts::Finance { .. } => Office::Finance,
        }
    }
}

/// What staff do to one student's record at one office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// New facts: the office has reported (any override chosen to end with new facts ends).
    Facts(OfficeFacts),
    /// 不涉及: the office states the student has nothing with it (a clerk's decision: any
    /// override ends with it).
    NotApplicable,
    /// 不涉及 as the office's system reports it: new facts, so only an override chosen to
    /// end with new facts ends.
    ReportedNotApplicable,
    /// Pass or fail by hand.
    Override {
        pass: bool,
        ends_with_new_facts: bool,
    },
    RemoveOverride,
    /// 退宿 on a given day by a given handler, for the room on record (housing; batches).
    CheckOut {
        on: String,
        by: String,
    },
}

impl Change {
    fn code(&self) -> &'static str {
        match self {
            Change::Facts(_) | Change::CheckOut { .. } => "facts",
            Change::NotApplicable | Change::ReportedNotApplicable => "not_applicable",
            Change::Override { .. } => "override",
            Change::RemoveOverride => "override_removed",
        }
    }
}

pub enum ChangeOutcome {
    /// Saved; the record's new version.
    Saved(i64),
    /// The record changed since the version the change was based on: its current state,
    /// and its current facts in words.
    Stale(OfficeState, String),
    NoSuchStudent,
    /// Nothing to remove, and the like: the message says what.
    Refused(String),
}

/// Applies `change` to `office`'s record of `student_number` if its version is still
/// `expected_version` (0: nothing stored yet), with its history row.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    db: &Db,
    student_number: &str,
    office: Office,
    change: &Change,
    expected_version: i64,
    reason: &str,
    actor: &Actor,
    now: time::OffsetDateTime,
) -> Result<ChangeOutcome, sqlx::Error> {
    on_backend!(
        db,
        apply(
            student_number,
            office,
            change,
            expected_version,
            reason,
            actor,
            now
        )
    )
}

pub enum BatchOutcome {
    /// Applied to this many students, all in one transaction.
    Applied(usize),
    /// Nothing was applied; the message says which student stopped the batch and why.
    Refused(String),
}

/// Applies one change to many students at `office`, all or nothing: each `(学号,
/// version)` must still be at that version (as previewed), and the change must apply
/// to every one of them; otherwise nothing is written.
pub async fn apply_batch(
    db: &Db,
    office: Office,
    targets: &[(String, i64)],
    change: &Change,
    reason: &str,
    actor: &Actor,
    now: time::OffsetDateTime,
) -> Result<BatchOutcome, sqlx::Error> {
    on_backend!(db, apply_batch(office, targets, change, reason, actor, now))
}

/// A student's history. `office`: only that office's (staff); `None`: all four (the
/// student). Staff accounts are named only when `for_staff`.
pub async fn history(
    db: &Db,
    student_number: &str,
    office: Option<Office>,
    for_staff: bool,
) -> Result<Vec<HistoryEntry>, sqlx::Error> {
    on_backend!(db, history(student_number, office, for_staff))
}

/// The summary of an office's facts and standing that history shows as before/after.
pub fn summary(office: Office, facts: &ClearanceFacts) -> String {
    let state = facts.states.get(office);
    let mut text = match state.standing {
        Standing::Pending => "待核验".to_owned(),
        Standing::NotApplicable => "不涉及".to_owned(),
        Standing::Reported => facts_summary(office, facts),
    };
    if let Some(decision) = &state.overridden {
        text.push_str(&format!(
            "；人工核定{}（{}）",
            if decision.pass { "通过" } else { "未通过" },
            decision.reason
        ));
    }
    text
}

fn facts_summary(office: Office, facts: &ClearanceFacts) -> String {
    match office {
        Office::Library => match &facts.library {
            None => "无记录".to_owned(),
            Some(library) => format!(
                "未还 {} 册，欠款 {} 元，违章 {} 条，借书证{}，论文{}",
                library.books_out,
                yuan(library.fines),
                library.violations,
                if library.card_cancelled {
                    "已注销"
                } else {
                    "未注销"
                },
                library.thesis.label()
            ),
        },
        Office::Archives => format!(
            "论文提交状态：{}",
            facts
                .archives
                .map(ArchivesThesisStatus::label)
                .unwrap_or("空")
        ),
        Office::Housing => match &facts.housing {
            None => "无住宿记录".to_owned(),
            Some(record) => {
                let checkout = match (&record.checked_out_on, &record.checked_out_by) {
                    (Some(on), Some(by)) => format!("{on} 退宿（{by}）"),
                    _ => "未退宿".to_owned(),
                };
                format!(
                    "{} {} {}，{}",
                    record.campus, record.building, record.room, checkout
                )
            }
        },
        Office::Finance => {
            if facts.arrears.is_empty() {
                "无欠费".to_owned()
            } else {
                format!(
                    "欠费 {} 项，共 {} 元",
                    facts.arrears.len(),
                    yuan(total_arrears(&facts.arrears))
                )
            }
        }
    }
}

/// office, at, actor kind, actor, change, before, after, reason.
type HistoryRow = (
    String,
    Instant,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
);

/// One `office_states` row, decoded (times already in Beijing time, as shown).
pub(crate) struct StateParts {
    pub office: String,
    pub standing: String,
    pub reported_at: Option<String>,
    pub verdict: Option<String>,
    pub reason: Option<String>,
    pub decided_at: Option<String>,
    pub ends_with_new_facts: bool,
    pub version: i64,
}

/// Puts one office's standing into `states`.
pub(crate) fn apply_state(states: &mut OfficeStates, row: StateParts) -> Result<(), sqlx::Error> {
    let office = Office::from_code(&row.office)
        .ok_or_else(|| crate::db::clearance::unknown_code("office_states.office", &row.office))?;
    let standing = Standing::from_code(&row.standing).ok_or_else(|| {
        crate::db::clearance::unknown_code("office_states.standing", &row.standing)
    })?;
    let overridden = match (row.verdict, row.reason, row.decided_at) {
        (Some(verdict), Some(reason), Some(decided_at)) => Some(Override {
            pass: verdict == "pass",
            reason,
            decided_at,
            ends_with_new_facts: row.ends_with_new_facts,
        }),
        _ => None,
    };
    *states.get_mut(office) = OfficeState {
        standing,
        reported_at: row.reported_at,
        overridden,
        version: row.version,
    };
    Ok(())
}

/// One `office_history` row, decoded (the time already in Beijing time).
pub(crate) struct HistoryParts {
    pub office: String,
    pub at: String,
    pub kind: String,
    pub actor: Option<String>,
    pub change: String,
    pub before: String,
    pub after: String,
    pub reason: String,
}

/// A history entry as shown: the office for students, the clerk too for staff.
pub(crate) fn history_entry(
    row: HistoryParts,
    for_staff: bool,
) -> Result<HistoryEntry, sqlx::Error> {
    let office = Office::from_code(&row.office)
        .ok_or_else(|| crate::db::clearance::unknown_code("office_history.office", &row.office))?;
    let by = match row.kind.as_str() {
        "student" => "本人".to_owned(),
        "staff" => office.name().to_owned(),
        "system" => format!("{}（系统同步）", office.name()),
        "migration" => "系统升级".to_owned(),
        _ => "系统".to_owned(),
    };
    let staff_visible = for_staff && (row.kind == "staff" || row.kind == "system");
    Ok(HistoryEntry {
        office,
        at: row.at,
        by,
        staff: if staff_visible { row.actor } else { None },
        change: change_label(&row.change).to_owned(),
        before: row.before,
        after: row.after,
        reason: row.reason,
    })
}

fn yuan_to_fen(amount: Decimal) -> Option<i64> {
    let fen = amount.checked_mul(Decimal::from(100))?;
    if !fen.fract().is_zero() {
        return None;
    }
    i64::try_from(fen).ok()
}

for_each_backend! {
    /// Marks `office` as having reported new facts on the student (under the caller's
    /// transaction): standing reported, time now, version bumped, and an override that
    /// was to end with new facts ended. Returns the new version.
    pub(crate) async fn facts_arrived(
        conn: &mut Conn,
        student_number: &str,
        office: Office,
        now: time::OffsetDateTime,
    ) -> Result<i64, sqlx::Error> {
        arrived(conn, student_number, office, Standing::Reported, now).await
    }

    /// The office has reported: `standing` is reported (facts) or 不涉及.
    async fn arrived(
        conn: &mut Conn,
        student_number: &str,
        office: Office,
        standing: Standing,
        now: time::OffsetDateTime,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "INSERT INTO office_states (student_number, office, standing, reported_at)
             VALUES ($1, $2, $4, $3)
             ON CONFLICT (student_number, office) DO UPDATE SET
                 standing = excluded.standing,
                 reported_at = excluded.reported_at,
                 version = office_states.version + 1,
                 override_verdict = CASE WHEN office_states.override_ends_with_new_facts
                                         THEN NULL ELSE office_states.override_verdict END,
                 override_reason = CASE WHEN office_states.override_ends_with_new_facts
                                        THEN NULL ELSE office_states.override_reason END,
                 override_by = CASE WHEN office_states.override_ends_with_new_facts
                                    THEN NULL ELSE office_states.override_by END,
                 override_at = CASE WHEN office_states.override_ends_with_new_facts
                                    THEN NULL ELSE office_states.override_at END,
                 override_ends_with_new_facts = FALSE
             RETURNING version",
        )
        .bind(student_number)
        .bind(office.code())
        .bind(Instant::new(now))
        .bind(standing.code())
        .fetch_one(&mut *conn)
        .await
    }

    /// A change of the facts made by the student (注销): the record's version moves, so a
    /// clerk's form opened before it is refused, but the office's standing and any
    /// override stay as the office set them.
    pub(crate) async fn student_changed(
        conn: &mut Conn,
        student_number: &str,
        office: Office,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE office_states SET version = version + 1
             WHERE student_number = $1 AND office = $2",
        )
        .bind(student_number)
        .bind(office.code())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    /// Appends one history row (under the caller's transaction).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record(
        conn: &mut Conn,
        student_number: &str,
        office: Office,
        now: time::OffsetDateTime,
        actor: &Actor,
        change: &str,
        before: &str,
        after: &str,
        reason: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO office_history
                 (student_number, office, at, actor_kind, actor, change, before, after, reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(student_number)
        .bind(office.code())
        .bind(Instant::new(now))
        .bind(actor.kind())
        .bind(actor.login())
        .bind(change)
        .bind(before)
        .bind(after)
        .bind(reason)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply(
        pool: &Pool,
        student_number: &str,
        office: Office,
        change: &Change,
        expected_version: i64,
        reason: &str,
        actor: &Actor,
        now: time::OffsetDateTime,
    ) -> Result<ChangeOutcome, sqlx::Error> {
        let mut tx = dialect::begin_for_student(pool, student_number).await?;
        let outcome =
            apply_in(&mut tx, student_number, office, change, expected_version, reason, actor, now)
                .await?;
        if matches!(outcome, ChangeOutcome::Saved(_)) {
            tx.commit().await?;
        }
        Ok(outcome)
    }

    pub(crate) async fn apply_batch(
        pool: &Pool,
        office: Office,
        targets: &[(String, i64)],
        change: &Change,
        reason: &str,
        actor: &Actor,
        now: time::OffsetDateTime,
    ) -> Result<BatchOutcome, sqlx::Error> {
        let mut tx = dialect::begin_write(pool).await?;
        let mut sorted: Vec<&(String, i64)> = targets.iter().collect();
        // One order for every batch, so two batches never wait on each other in a circle.
        sorted.sort();
        for (number, version) in sorted {
            dialect::lock_student(&mut tx, number).await?;
            let refused = match apply_in(&mut tx, number, office, change, *version, reason, actor, now).await? {
                ChangeOutcome::Saved(_) => continue,
                ChangeOutcome::Stale(..) => "的数据在预览后已被修改".to_owned(),
                ChangeOutcome::NoSuchStudent => "不存在".to_owned(),
                ChangeOutcome::Refused(message) => format!("：{message}"),
            };
            // Dropping the transaction undoes every change made so far.
            return Ok(BatchOutcome::Refused(format!(
                "学号 {number}{refused}。整批操作没有执行，请返回重新预览。"
            )));
        }
        tx.commit().await?;
        Ok(BatchOutcome::Applied(targets.len()))
    }

    /// One change under the caller's transaction (which holds the student's lock); the
    /// caller commits only on `Saved`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_in(
        tx: &mut Conn,
        student_number: &str,
        office: Office,
        change: &Change,
        expected_version: i64,
        reason: &str,
        actor: &Actor,
        now: time::OffsetDateTime,
    ) -> Result<ChangeOutcome, sqlx::Error> {
        let Some(before) = clearance_db::load_facts(&mut *tx, student_number).await? else {
            return Ok(ChangeOutcome::NoSuchStudent);
        };
        apply_loaded(tx, student_number, &before, office, change, expected_version, reason, actor, now)
            .await
    }

    /// [`apply_in`] with the student's facts already read under the same transaction
    /// and lock (the sync API reads them first to compare).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_loaded(
        tx: &mut Conn,
        student_number: &str,
        before: &ClearanceFacts,
        office: Office,
        change: &Change,
        expected_version: i64,
        reason: &str,
        actor: &Actor,
        now: time::OffsetDateTime,
    ) -> Result<ChangeOutcome, sqlx::Error> {
        let current = before.states.get(office).clone();
        if current.version != expected_version {
            return Ok(ChangeOutcome::Stale(current, summary(office, before)));
        }
        match change {
            Change::Facts(facts) => {
                write_facts(&mut *tx, student_number, facts).await?;
                facts_arrived(&mut *tx, student_number, office, now).await?;
            }
            Change::CheckOut { on, by } => {
                let Some(room) = before.housing.clone() else {
                    return Ok(ChangeOutcome::Refused("没有住宿记录，不能办理退宿".to_owned()));
                };
                if room.checked_out_on.is_some() && room.checked_out_by.is_some() {
                    return Ok(ChangeOutcome::Refused("已办理退宿".to_owned()));
                }
                let checked_out = HousingRecord {
                    checked_out_on: Some(on.clone()),
                    checked_out_by: Some(by.clone()),
                    ..room
                };
                write_facts(&mut *tx, student_number, &OfficeFacts::Housing(checked_out)).await?;
                facts_arrived(&mut *tx, student_number, office, now).await?;
            }
            Change::ReportedNotApplicable => {
                arrived(&mut *tx, student_number, office, Standing::NotApplicable, now).await?;
            }
            Change::NotApplicable => {
                if current.standing == Standing::NotApplicable && current.overridden.is_none() {
                    return Ok(ChangeOutcome::Refused("该学生已是“不涉及”，无需重复设置。".to_owned()));
                }
                sqlx::query(
                    "INSERT INTO office_states (student_number, office, standing, reported_at)
                     VALUES ($1, $2, 'not_applicable', $3)
                     ON CONFLICT (student_number, office) DO UPDATE SET
                         standing = 'not_applicable', reported_at = excluded.reported_at,
                         override_verdict = NULL, override_reason = NULL, override_by = NULL,
                         override_at = NULL, override_ends_with_new_facts = FALSE,
                         version = office_states.version + 1",
                )
                .bind(student_number)
                .bind(office.code())
                .bind(Instant::new(now))
                .execute(&mut *tx)
                .await?;
            }
            Change::Override { pass, ends_with_new_facts } => {
                sqlx::query(
                    "INSERT INTO office_states
                         (student_number, office, standing, reported_at, override_verdict,
                          override_reason, override_by, override_at, override_ends_with_new_facts)
                     VALUES ($1, $2, 'pending', NULL, $3, $4, $5, $6, $7)
                     ON CONFLICT (student_number, office) DO UPDATE SET
                         override_verdict = excluded.override_verdict,
                         override_reason = excluded.override_reason,
                         override_by = excluded.override_by,
                         override_at = excluded.override_at,
                         override_ends_with_new_facts = excluded.override_ends_with_new_facts,
                         version = office_states.version + 1",
                )
                .bind(student_number)
                .bind(office.code())
                .bind(if *pass { "pass" } else { "fail" })
                .bind(reason)
                .bind(actor.login())
                .bind(Instant::new(now))
                .bind(*ends_with_new_facts)
                .execute(&mut *tx)
                .await?;
            }
            Change::RemoveOverride => {
                if current.overridden.is_none() {
                    return Ok(ChangeOutcome::Refused("该学生没有人工核定结果，无需撤销。".to_owned()));
                }
                sqlx::query(
                    "UPDATE office_states SET override_verdict = NULL, override_reason = NULL,
                         override_by = NULL, override_at = NULL,
                         override_ends_with_new_facts = FALSE, version = version + 1
                     WHERE student_number = $1 AND office = $2",
                )
                .bind(student_number)
                .bind(office.code())
                .execute(&mut *tx)
                .await?;
            }
        }
        let by_hand = !matches!(actor, Actor::System(_));
        let new_facts = matches!(
            change,
            Change::Facts(_) | Change::CheckOut { .. } | Change::NotApplicable
        );
        if by_hand && new_facts {
            // Facts a clerk enters are as of now: a pushed record from before this
            // moment must not overwrite them (the sync API compares `as_of`).
            sqlx::query(
                "UPDATE office_states SET source_as_of = $3 WHERE student_number = $1 AND office = $2",
            )
            .bind(student_number)
            .bind(office.code())
            .bind(Instant::new(now))
            .execute(&mut *tx)
            .await?;
        }
        let after = clearance_db::load_facts(&mut *tx, student_number)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        record(
            &mut *tx,
            student_number,
            office,
            now,
            actor,
            change.code(),
            &summary(office, before),
            &summary(office, &after),
            reason,
        )
        .await?;
        Ok(ChangeOutcome::Saved(after.states.get(office).version))
    }

    /// Replaces the office's facts of the student.
    async fn write_facts(
        conn: &mut Conn,
        student_number: &str,
        facts: &OfficeFacts,
    ) -> Result<(), sqlx::Error> {
        let money = |amount: Decimal| {
            yuan_to_fen(amount).ok_or_else(|| sqlx::Error::Protocol(format!("not whole fen: {amount}")))
        };
        match facts {
            OfficeFacts::Library { books_out, fines, violations, card_cancelled, thesis } => {
                sqlx::query(
                    "INSERT INTO library_records
                         (student_number, books_out, fines_fen, violations, card_cancelled_at, thesis_status)
                     VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN $6 END, $7)
                     ON CONFLICT (student_number) DO UPDATE SET
                         books_out = excluded.books_out, fines_fen = excluded.fines_fen,
                         violations = excluded.violations,
                         card_cancelled_at = CASE WHEN $5
                             THEN coalesce(library_records.card_cancelled_at, excluded.card_cancelled_at)
                             END,
                         thesis_status = excluded.thesis_status",
                )
                .bind(student_number)
                .bind(i64::from(*books_out))
                .bind(money(*fines)?)
                .bind(i64::from(*violations))
                .bind(*card_cancelled)
                .bind(Instant::new(crate::clock::now()))
                .bind(thesis.code())
                .execute(&mut *conn)
                .await?;
            }
            OfficeFacts::Archives { thesis } => {
                sqlx::query(
                    "INSERT INTO archives_records (student_number, thesis_status) VALUES ($1, $2)
                     ON CONFLICT (student_number) DO UPDATE SET thesis_status = excluded.thesis_status",
                )
                .bind(student_number)
                .bind(thesis.map(ArchivesThesisStatus::code))
                .execute(&mut *conn)
                .await?;
            }
            OfficeFacts::Housing(record) => {
                sqlx::query(
                    "INSERT INTO housing_records
                         (student_number, campus, building, room, checked_out_on, checked_out_by)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (student_number) DO UPDATE SET
                         campus = excluded.campus, building = excluded.building,
                         room = excluded.room, checked_out_on = excluded.checked_out_on,
                         checked_out_by = excluded.checked_out_by",
                )
                .bind(student_number)
                .bind(&record.campus)
                .bind(&record.building)
                .bind(&record.room)
                .bind(record.checked_out_on.as_deref())
                .bind(record.checked_out_by.as_deref())
                .execute(&mut *conn)
                .await?;
            }
            OfficeFacts::Finance { arrears } => {
                sqlx::query("DELETE FROM finance_arrears WHERE student_number = $1")
                    .bind(student_number)
                    .execute(&mut *conn)
                    .await?;
                for charge in arrears {
                    sqlx::query(
                        "INSERT INTO finance_arrears
                             (student_number, academic_year, item, amount_fen, charge_id)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(student_number)
                    .bind(&charge.academic_year)
                    .bind(&charge.item)
                    .bind(money(charge.amount)?)
                    .bind(charge.charge_id.as_deref())
                    .execute(&mut *conn)
                    .await?;
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn history(
        pool: &Pool,
        student_number: &str,
        office: Option<Office>,
        for_staff: bool,
    ) -> Result<Vec<HistoryEntry>, sqlx::Error> {
        let rows: Vec<HistoryRow> =
            sqlx::query_as(
                "SELECT office, at, actor_kind, actor, change, before, after, reason
                 FROM office_history
                 WHERE student_number = $1 AND (CAST($2 AS TEXT) IS NULL OR office = $2)
                 ORDER BY id DESC",
            )
            .bind(student_number)
            .bind(office.map(Office::code))
            .fetch_all(pool)
            .await?;
        rows.into_iter()
            .map(|(office, at, kind, actor, change, before, after, reason)| {
                history_entry(
                    HistoryParts { office, at: at.beijing_display(), kind, actor, change, before, after, reason },
                    for_staff,
                )
            })
            .collect()
    }
}

fn change_label(code: &str) -> &'static str {
    match code {
        "facts" => "更新数据",
        "not_applicable" => "设为不涉及",
        "override" => "人工核定",
        "override_removed" => "撤销人工核定",
        "card_cancelled" => "注销借书证",
        _ => "变更",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_stored_in_whole_fen_only() {
        assert_eq!(yuan_to_fen(Decimal::new(350, 2)), Some(350));
        assert_eq!(yuan_to_fen(Decimal::new(3, 0)), Some(300));
        assert_eq!(yuan_to_fen(Decimal::new(3501, 3)), None);
    }
}
