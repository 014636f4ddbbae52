//! Slips by their serial: what the public verification page and the graduate school's
//! look-up read, and the start-up pass that tags departures the migration gave a serial.

use super::{Db, Instant};
use crate::verify::SlipKeys;

/// A departure found by its serial, with what either reader may need (the public page
/// masks it; the graduate school sees it whole).
#[derive(Debug, Clone)]
pub struct SlipRecord {
    pub serial: String,
    pub tag: Option<String>,
    pub slip_number: String,
    pub student_number: String,
    pub name: String,
    pub college: String,
    pub major: String,
    pub departure_category: String,
    pub submitted_at: Instant,
    pub revoked_at: Option<Instant>,
    pub revoked_by: Option<String>,
    pub revoke_reason: Option<String>,
}

/// The departure with this (canonical) serial.
pub async fn find(db: &Db, serial: &str) -> Result<Option<SlipRecord>, sqlx::Error> {
    on_backend!(db, find(serial))
}

/// Tags every departure that has no tag yet (those from before serials, see migration
/// 0011) or one under a key no longer configured (a dropped key: its QR links would read
/// as forged), under the current key. Run at start-up, before serving; returns how many.
pub async fn tag_untagged(db: &Db, keys: &SlipKeys) -> Result<usize, sqlx::Error> {
    on_backend!(db, tag_untagged(keys))
}

for_each_backend! {
    pub(crate) async fn find(pool: &Pool, serial: &str) -> Result<Option<SlipRecord>, sqlx::Error> {
        type Row = (String, Option<String>, String, String, String, String, String, String,
                    Instant, Option<Instant>, Option<String>, Option<String>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT d.serial, d.tag, d.slip_number, d.student_number, s.name, s.college, s.major,
                    s.departure_category, d.submitted_at, d.revoked_at, d.revoked_by,
                    d.revoke_reason
             FROM departures d JOIN students s ON s.student_number = d.student_number
             WHERE d.serial = $1",
        )
        .bind(serial)
        .fetch_optional(pool)
        .await?;
        Ok(row.map(
            |(serial, tag, slip_number, student_number, name, college, major, departure_category,
              submitted_at, revoked_at, revoked_by, revoke_reason)| SlipRecord {
                serial,
                tag,
                slip_number,
                student_number,
                name,
                college,
                major,
                departure_category,
                submitted_at,
                revoked_at,
                revoked_by,
                revoke_reason,
            },
        ))
    }

    pub(crate) async fn tag_untagged(pool: &Pool, keys: &SlipKeys) -> Result<usize, sqlx::Error> {
        // Only the rows to tag are read: start-up must not scan 20,000 slips for none.
        // Key ids are lowercase letters and digits, so `id-%` has no LIKE wildcard but %.
        let patterns: Vec<String> = keys.key_ids().map(|id| format!("{id}-%")).collect();
        let known = (1..=patterns.len())
            .map(|n| format!("tag LIKE ${n}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!(
            "SELECT id, serial, student_number FROM departures WHERE tag IS NULL OR NOT ({known})"
        );
        let mut select = sqlx::query_as::<_, (i64, String, String)>(&sql);
        for pattern in &patterns {
            select = select.bind(pattern);
        }
        let untagged = select.fetch_all(pool).await?;
        let mut tx = pool.begin().await?;
        for (id, serial, student_number) in &untagged {
            // Two servers starting together write the same tag (the same key).
            sqlx::query("UPDATE departures SET tag = $1 WHERE id = $2")
                .bind(keys.tag(serial, student_number))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(untagged.len())
    }
}
