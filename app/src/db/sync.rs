//! The sync API's data: the office systems' tokens, applying their pushes, what Lixiao
//! holds for one student, and the changes feed.
//!
//! A push goes through the same change code as a clerk's save ([`offices`](super::offices)):
//! version bump, override ending, history row. What it adds is the office system's own
//! `as_of` time (`office_states.source_as_of`), so an older record never overwrites a
//! newer one.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    Db, Instant,
    offices::{Actor, Change, ChangeOutcome},
};
use crate::{
    clearance::{
        model::Standing,
        rules::{self, Basis, Office},
    },
    sync::{
        ChangeEntry, HeldOverride, HeldState, Incoming, RecordResult, RecordStatus, Report,
        StandingCode, VerdictCode, held_facts,
    },
};

/// An office system, as its token identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncClient {
    /// The token's name: the actor in history.
    pub name: String,
    /// The one office it may read and write.
    pub office: Office,
}

/// A token as `server sync-token list` shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub name: String,
    pub office: Office,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Who pushes and why, as history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub actor: Actor,
    /// The reason history shows; `None`: "系统同步（数据时间 …）" for each record.
    pub reason: Option<String>,
}

impl Source {
    /// An office system pushing through the API.
    pub fn system(name: &str) -> Self {
        Source {
            actor: Actor::System(name.to_owned()),
            reason: None,
        }
    }
}

/// Records applied per transaction: big enough to be quick, small enough that a push
/// of 5,000 records never holds the write lock for long at a time.
const CHUNK: usize = 250;

/// What is stored of a token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A new token: `lxs_` and 43 characters of base64url (256 random bits).
pub fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let mut token = String::from("lxs_");
    let mut bits = 0_u32;
    let mut held = 0_u32;
    for byte in bytes {
        held = (held << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            token.push(ALPHABET[((held >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        token.push(ALPHABET[((held << (6 - bits)) & 63) as usize] as char);
    }
    token
}

/// The office system behind a token, if the token is known and not revoked.
pub async fn client_for(db: &Db, token: &str) -> Result<Option<SyncClient>, sqlx::Error> {
    on_backend!(db, client_for(&token_hash(token)))
}

/// Stores a token for `name` writing `office` (`false`: the name is taken).
pub async fn add_token(
    db: &Db,
    name: &str,
    office: Office,
    token: &str,
    now: OffsetDateTime,
) -> Result<bool, sqlx::Error> {
    on_backend!(db, add_token(name, office, &token_hash(token), now))
}

/// Revokes the token called `name` (`false`: no such working token).
pub async fn revoke_token(db: &Db, name: &str, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
    on_backend!(db, revoke_token(name, now))
}

pub async fn list_tokens(db: &Db) -> Result<Vec<TokenInfo>, sqlx::Error> {
    on_backend!(db, list_tokens())
}

/// Applies checked records of `office` pushed by `source`; one result per record,
/// in no particular order (the caller orders them by index). A student's records are
/// applied oldest `as_of` first.
pub async fn push(
    db: &Db,
    office: Office,
    source: &str,
    mut records: Vec<(usize, Incoming)>,
    now: OffsetDateTime,
) -> Result<Vec<RecordResult>, sqlx::Error> {
    sort(&mut records);
    let source = Source::system(source);
    let mut results = Vec::with_capacity(records.len());
    for (number, chunk) in records.chunks(CHUNK).enumerate() {
        // History's time is when each chunk is written, so a reconciler reading the
        // changes feed "since" a moment sees what was committed after it.
        let now = if number == 0 {
            now
        } else {
            crate::clock::now()
        };
        results.extend(on_backend!(db, push_all(office, &source, chunk, now, Commit::Always))?.0);
    }
    Ok(results)
}

/// What applying `records` would do now, without writing anything (the desk import's
/// preview: the same code as applying, in a transaction that is rolled back).
pub async fn preview(
    db: &Db,
    office: Office,
    source: &Source,
    mut records: Vec<(usize, Incoming)>,
    now: OffsetDateTime,
) -> Result<Vec<RecordResult>, sqlx::Error> {
    sort(&mut records);
    Ok(on_backend!(db, push_all(office, source, &records, now, Commit::Never))?.0)
}

/// Applies every record or none: written only if no record is rejected. The second
/// value says whether anything was written.
pub async fn apply_all(
    db: &Db,
    office: Office,
    source: &Source,
    mut records: Vec<(usize, Incoming)>,
    now: OffsetDateTime,
) -> Result<(Vec<RecordResult>, bool), sqlx::Error> {
    sort(&mut records);
    on_backend!(
        db,
        push_all(office, source, &records, now, Commit::IfAllApplied)
    )
}

/// A student's records oldest `as_of` first; otherwise in the order given.
fn sort(records: &mut [(usize, Incoming)]) {
    records.sort_by(|(a_index, a), (b_index, b)| {
        (&a.student_number, a.as_of, a_index).cmp(&(&b.student_number, b.as_of, b_index))
    });
}

/// When a push's transaction commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Commit {
    Always,
    IfAllApplied,
    Never,
}

/// What Lixiao holds of `office` about one student: the state, and the report in the
/// push shape (`None` while 待核验). `None`: no such student.
pub async fn held(
    db: &Db,
    office: Office,
    student_number: &str,
) -> Result<Option<(HeldState, Option<Report>)>, sqlx::Error> {
    on_backend!(db, held(office, student_number))
}

/// One page of `office`'s history after history id `after` (0: from the start), from
/// `since` on; at most `limit` rows. The second value: the cursor of the next page.
pub async fn changes(
    db: &Db,
    office: Office,
    since: Option<OffsetDateTime>,
    after: i64,
    limit: i64,
) -> Result<(Vec<ChangeEntry>, Option<i64>), sqlx::Error> {
    // No `since`: from the beginning of time (one statement for both backends).
    let since = Instant::new(since.unwrap_or(OffsetDateTime::UNIX_EPOCH));
    on_backend!(db, changes(office, since, after, limit))
}

fn rfc3339(instant: Instant) -> String {
    instant.to_rfc3339()
}

/// The verdict code of the office's verdict.
fn verdict_code(verdict: &rules::Verdict) -> VerdictCode {
    if verdict.basis == Basis::Pending {
        VerdictCode::Pending
    } else if verdict.passed() {
        VerdictCode::Pass
    } else {
        VerdictCode::Fail
    }
}

/// id, student, at, change, actor kind, actor, before, after, reason.
type ChangeRow = (
    i64,
    String,
    Instant,
    String,
    String,
    Option<String>,
    String,
    String,
    String,
);

for_each_backend! {
    pub(crate) async fn client_for(pool: &Pool, hash: &str) -> Result<Option<SyncClient>, sqlx::Error> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT name, office FROM sync_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(pool)
        .await?;
        Ok(row.and_then(|(name, office)| {
            Office::from_code(&office).map(|office| SyncClient { name, office })
        }))
    }

    pub(crate) async fn add_token(
        pool: &Pool,
        name: &str,
        office: Office,
        hash: &str,
        now: OffsetDateTime,
    ) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO sync_tokens (name, office, token_hash, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(office.code())
        .bind(hash)
        .bind(Instant::new(now))
        .execute(pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub(crate) async fn revoke_token(pool: &Pool, name: &str, now: OffsetDateTime) -> Result<bool, sqlx::Error> {
        let revoked = sqlx::query(
            "UPDATE sync_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .bind(Instant::new(now))
        .execute(pool)
        .await?;
        Ok(revoked.rows_affected() == 1)
    }

    pub(crate) async fn list_tokens(pool: &Pool) -> Result<Vec<TokenInfo>, sqlx::Error> {
        let rows: Vec<(String, String, Instant, Option<Instant>)> = sqlx::query_as(
            "SELECT name, office, created_at, revoked_at FROM sync_tokens ORDER BY name",
        )
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, office, created_at, revoked_at)| {
                Some(TokenInfo {
                    name,
                    office: Office::from_code(&office)?,
                    created_at: rfc3339(created_at),
                    revoked_at: revoked_at.map(rfc3339),
                })
            })
            .collect())
    }

    pub(crate) async fn push_all(
        pool: &Pool,
        office: Office,
        source: &Source,
        records: &[(usize, Incoming)],
        now: OffsetDateTime,
        commit: Commit,
    ) -> Result<(Vec<RecordResult>, bool), sqlx::Error> {
        let mut tx = dialect::begin_write(pool).await?;
        let mut results = Vec::with_capacity(records.len());
        for (index, record) in records {
            dialect::lock_student(&mut tx, &record.student_number).await?;
            let (status, reason, held_as_of) =
                push_one(&mut tx, office, source, record, now).await?;
            results.push(RecordResult {
                index: *index,
                student_number: Some(record.student_number.clone()),
                status,
                reason,
                held_as_of: held_as_of.map(rfc3339),
            });
        }
        let write = match commit {
            Commit::Always => true,
            Commit::IfAllApplied => results.iter().all(|r| r.status != RecordStatus::Rejected),
            Commit::Never => false,
        };
        if write {
            tx.commit().await?;
        } else {
            // Dropping the transaction undoes everything it did.
            tx.rollback().await?;
        }
        Ok((results, write))
    }

    /// One record under the caller's transaction and the student's lock.
    async fn push_one(
        tx: &mut Conn,
        office: Office,
        source: &Source,
        record: &Incoming,
        now: OffsetDateTime,
    ) -> Result<(RecordStatus, Option<String>, Option<Instant>), sqlx::Error> {
        let number = &record.student_number;
        let as_of = Instant::new(record.as_of);
        let Some(before) = clearance_db::load_facts(&mut *tx, number).await? else {
            return Ok((
                RecordStatus::Rejected,
                Some(format!("学号 {number} 不在离校学生名单中。")),
                None,
            ));
        };
        // Facts that came before the API (or from the demo seed) count as of when they
        // were reported.
        let held_as_of: Option<Instant> = sqlx::query_scalar(
            "SELECT COALESCE(source_as_of, reported_at) FROM office_states
             WHERE student_number = $1 AND office = $2",
        )
        .bind(number)
        .bind(office.code())
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        if let Some(held) = held_as_of
            && as_of < held
        {
            return Ok((
                RecordStatus::Unchanged,
                Some(format!(
                    "Lixiao 已有该学生更新的数据（as_of {}），此记录较旧，未应用。",
                    rfc3339(held)
                )),
                Some(held),
            ));
        }

        let mut report = record.report.clone();
        if let Report::Facts(crate::db::offices::OfficeFacts::Library { card_cancelled, .. }) =
            &mut report
            && !*card_cancelled
        {
            // The student cancels the card in Lixiao; a library record from before that
            // moment cannot know it yet, and must not undo it.
            let cancelled_at: Option<Instant> = sqlx::query_scalar(
                "SELECT card_cancelled_at FROM library_records WHERE student_number = $1",
            )
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .flatten();
            if cancelled_at.is_some_and(|at| at > as_of) {
                *card_cancelled = true;
            }
        }

        let state = before.states.get(office).clone();
        let held_report = match state.standing {
            Standing::Pending => None,
            Standing::NotApplicable => Some(Report::NotApplicable),
            Standing::Reported => held_facts(office, &before).map(Report::Facts),
        };
        if held_report.as_ref() == Some(&report) {
            let newest = held_as_of.map_or(as_of, |held| held.max(as_of));
            set_as_of(&mut *tx, number, office, newest).await?;
            return Ok((RecordStatus::Unchanged, None, Some(newest)));
        }
        if held_as_of == Some(as_of) {
            return Ok((
                RecordStatus::Rejected,
                Some(format!(
                    "与已收到的同一 as_of（{}）的记录内容不同：请以新的 as_of 重新报送。",
                    rfc3339(as_of)
                )),
                held_as_of,
            ));
        }
        let change = match report {
            Report::NotApplicable => Change::ReportedNotApplicable,
            Report::Facts(facts) => Change::Facts(facts),
        };
        let reason = match &source.reason {
            Some(reason) => reason.clone(),
            // Students read the reason: the office's time in Beijing time, not the token's
            // name (staff see that as the actor).
            None => format!("系统同步（数据时间 {}）", as_of.beijing_display()),
        };
        match offices_db::apply_loaded(&mut *tx, number, &before, office, &change, state.version, &reason, &source.actor, now)
            .await?
        {
            ChangeOutcome::Saved(_) => {}
            // Under the student's lock and at the version just read, these cannot
            // happen; if they ever do, the record is refused rather than half applied.
            ChangeOutcome::Stale(..) | ChangeOutcome::NoSuchStudent | ChangeOutcome::Refused(_) => {
                return Ok((
                    RecordStatus::Rejected,
                    Some("该学生的数据正在被修改，请稍后重新报送此记录。".to_owned()),
                    held_as_of,
                ));
            }
        }
        set_as_of(&mut *tx, number, office, as_of).await?;
        let status = if state.standing == Standing::Pending {
            RecordStatus::Created
        } else {
            RecordStatus::Updated
        };
        Ok((status, None, Some(as_of)))
    }

    async fn set_as_of(
        conn: &mut Conn,
        student_number: &str,
        office: Office,
        as_of: Instant,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE office_states SET source_as_of = $3 WHERE student_number = $1 AND office = $2",
        )
        .bind(student_number)
        .bind(office.code())
        .bind(as_of)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn held(
        pool: &Pool,
        office: Office,
        student_number: &str,
    ) -> Result<Option<(HeldState, Option<Report>)>, sqlx::Error> {
        let mut tx = dialect::begin_read(pool).await?;
        let Some(facts) = clearance_db::load_facts(&mut tx, student_number).await? else {
            return Ok(None);
        };
        let row: Option<(Option<Instant>, Option<Instant>, Option<Instant>)> = sqlx::query_as(
            "SELECT COALESCE(source_as_of, reported_at), reported_at, override_at FROM office_states
             WHERE student_number = $1 AND office = $2",
        )
        .bind(student_number)
        .bind(office.code())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        let (as_of, reported_at, decided_at) = row.unwrap_or((None, None, None));
        let state = facts.states.get(office);
        let verdict = rules::verdict(office, &facts);
        let report = match state.standing {
            Standing::Pending => None,
            Standing::NotApplicable => Some(Report::NotApplicable),
            Standing::Reported => held_facts(office, &facts).map(Report::Facts),
        };
        let held = HeldState {
            standing: match state.standing {
                Standing::Pending => StandingCode::Pending,
                Standing::Reported => StandingCode::Reported,
                Standing::NotApplicable => StandingCode::NotApplicable,
            },
            verdict: verdict_code(&verdict),
            todo: verdict.todo.clone(),
            as_of: as_of.map(rfc3339),
            reported_at: reported_at.map(rfc3339),
            version: state.version,
            overridden: state.overridden.as_ref().map(|decision| HeldOverride {
                verdict: if decision.pass { VerdictCode::Pass } else { VerdictCode::Fail },
                reason: decision.reason.clone(),
                decided_at: decided_at.map(rfc3339).unwrap_or_default(),
                ends_with_new_facts: decision.ends_with_new_facts,
            }),
        };
        Ok(Some((held, report)))
    }

    pub(crate) async fn changes(
        pool: &Pool,
        office: Office,
        since: Instant,
        after: i64,
        limit: i64,
    ) -> Result<(Vec<ChangeEntry>, Option<i64>), sqlx::Error> {
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT id, student_number, at, change, actor_kind, actor, before, after, reason
             FROM office_history
             WHERE office = $1 AND id > $2 AND at >= $3
             ORDER BY id
             LIMIT $4",
        )
        .bind(office.code())
        .bind(after)
        .bind(since)
        .bind(limit)
        .fetch_all(pool)
        .await?;
        let next = if rows.len() as i64 == limit {
            rows.last().map(|row| row.0)
        } else {
            None
        };
        let changes = rows
            .into_iter()
            .map(|(id, student_number, at, change, actor_kind, actor, before, after, reason)| {
                ChangeEntry {
                    id,
                    student_number,
                    at: rfc3339(at),
                    change,
                    actor: if actor_kind == "student" { None } else { actor },
                    actor_kind,
                    before,
                    after,
                    reason,
                }
            })
            .collect();
        Ok((changes, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_their_hash() {
        let token = new_token();
        assert!(token.starts_with("lxs_"));
        assert_eq!(token.len(), 4 + 43, "{token}");
        assert_ne!(token, new_token());
        let hash = token_hash(&token);
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&token[4..]));
        assert_eq!(hash, token_hash(&token));
    }
}
