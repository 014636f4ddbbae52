//! A stored moment: one Rust type, stored the natural way on each backend.
//!
//! - SQLite has no time type: an RFC 3339 instant in UTC, whole seconds
//!   (`2020-06-09T02:21:37Z`), so text order is time order.
//! - PostgreSQL: `timestamptz`.
//!
//! The same SQL binds and reads an [`Instant`] on both; pages show it in Beijing time
//! ([`crate::clock::beijing_display`]).

use sqlx::{
    Database, Decode, Encode, Postgres, Sqlite, Type,
    encode::IsNull,
    error::BoxDynError,
    postgres::{PgTypeInfo, PgValueRef},
    sqlite::{SqliteTypeInfo, SqliteValueRef},
};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Instant(pub OffsetDateTime);

impl Instant {
    /// Whole seconds, in UTC: what both backends keep.
    pub fn new(moment: OffsetDateTime) -> Self {
        let utc = moment.to_offset(time::UtcOffset::UTC);
        Instant(utc.replace_nanosecond(0).unwrap_or(utc))
    }

    /// How SQLite keeps it, and how snapshots freeze it.
    pub fn to_rfc3339(self) -> String {
        crate::clock::utc_timestamp(self.0)
    }

    /// Beijing time, as pages show it.
    pub fn beijing_display(self) -> String {
        crate::clock::beijing_display(&self.to_rfc3339())
    }

    /// The Beijing date, `YYYY-MM-DD`.
    pub fn beijing_date(self) -> String {
        let date = crate::clock::beijing(self.0).date();
        format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        )
    }
}

impl Type<Sqlite> for Instant {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <String as Type<Sqlite>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Sqlite> for Instant {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, Sqlite>>::encode(self.to_rfc3339(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Instant {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <&str as Decode<'r, Sqlite>>::decode(value)?;
        let moment = OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)?;
        Ok(Instant::new(moment))
    }
}

impl Type<Postgres> for Instant {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl<'q> Encode<'q, Postgres> for Instant {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer<'q>,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<'q, Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Instant {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Instant::new(
            <OffsetDateTime as Decode<'r, Postgres>>::decode(value)?,
        ))
    }
}
