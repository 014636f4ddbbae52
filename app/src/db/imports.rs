//! CSV files uploaded at the desk, kept between their preview and their import.

use time::OffsetDateTime;

use super::{Db, Instant};
use crate::clearance::rules::Office;

/// An uploaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredImport {
    pub office: Office,
    pub uploaded_by: String,
    pub uploaded_at: String,
    pub file_name: String,
    pub content: String,
}

/// How long an upload is kept if it is never imported.
pub const KEEP_FOR: time::Duration = time::Duration::days(1);

pub async fn store(
    db: &Db,
    id: &str,
    office: Office,
    uploaded_by: &str,
    file_name: &str,
    content: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    on_backend!(db, store(id, office, uploaded_by, file_name, content, now))
}

/// The upload `id`, if it is still kept.
pub async fn load(
    db: &Db,
    id: &str,
    now: OffsetDateTime,
) -> Result<Option<StoredImport>, sqlx::Error> {
    on_backend!(db, load(id, now))
}

pub async fn delete(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    on_backend!(db, delete(id))
}

for_each_backend! {
    pub(crate) async fn store(
        pool: &Pool,
        id: &str,
        office: Office,
        uploaded_by: &str,
        file_name: &str,
        content: &str,
        now: OffsetDateTime,
    ) -> Result<(), sqlx::Error> {
        // Uploads nobody imported go after a day; a clean-up here needs no timer.
        sqlx::query("DELETE FROM desk_imports WHERE uploaded_at < $1")
            .bind(Instant::new(now - KEEP_FOR))
            .execute(pool)
            .await?;
        sqlx::query(
            "INSERT INTO desk_imports (id, office, uploaded_by, uploaded_at, file_name, content)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(office.code())
        .bind(uploaded_by)
        .bind(Instant::new(now))
        .bind(file_name)
        .bind(content)
        .execute(pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn load(
        pool: &Pool,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StoredImport>, sqlx::Error> {
        let row: Option<(String, String, Instant, String, String)> = sqlx::query_as(
            "SELECT office, uploaded_by, uploaded_at, file_name, content FROM desk_imports
             WHERE id = $1 AND uploaded_at >= $2",
        )
        .bind(id)
        .bind(Instant::new(now - KEEP_FOR))
        .fetch_optional(pool)
        .await?;
        Ok(row.and_then(|(office, uploaded_by, uploaded_at, file_name, content)| {
            Some(StoredImport {
                office: Office::from_code(&office)?,
                uploaded_by,
                uploaded_at: uploaded_at.beijing_display(),
                file_name,
                content,
            })
        }))
    }

    pub(crate) async fn delete(pool: &Pool, id: &str) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM desk_imports WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
        Ok(())
    }
}
