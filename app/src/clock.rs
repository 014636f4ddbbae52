//! Time as Lixiao uses it. One rule for the whole schema: a stored time is an RFC 3339
//! instant in UTC (`2020-06-09T02:21:37Z`); students read Beijing time (UTC+8). Limits
//! count in Unix seconds. One place, so every page, message and row agrees.

use time::{OffsetDateTime, PrimitiveDateTime, macros::offset};

/// The application's clock.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn unix_now() -> i64 {
    now().unix_timestamp()
}

pub fn beijing(moment: OffsetDateTime) -> OffsetDateTime {
    moment.to_offset(offset!(+8))
}

/// How a time is stored: RFC 3339 in UTC, whole seconds.
pub fn utc_timestamp(moment: OffsetDateTime) -> String {
    moment
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(moment)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS` in Beijing time, as pages show a stored time. Values stored
/// before times were kept in UTC (frozen snapshots, which are never rewritten) carry no
/// offset and were already Beijing time: they are shown as they are.
pub fn beijing_display(stored: &str) -> String {
    const SHOWN: &[time::format_description::BorrowedFormatItem<'static>] =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    if let Ok(moment) =
        OffsetDateTime::parse(stored, &time::format_description::well_known::Rfc3339)
    {
        return beijing(moment).format(SHOWN).unwrap_or_default();
    }
    match PrimitiveDateTime::parse(stored, SHOWN) {
        Ok(local) => local.format(SHOWN).unwrap_or_default(),
        Err(_) => stored.to_owned(),
    }
}

/// `HH:MM` in Beijing time for a Unix timestamp (e.g. when a lock ends).
pub fn beijing_hour_minute(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|moment| {
            beijing(moment)
                .format(time::macros::format_description!("[hour]:[minute]"))
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_is_eight_hours_ahead() {
        // 2020-06-09 02:21:37 UTC
        assert_eq!(beijing_hour_minute(1_591_669_297), "10:21");
        let moment = OffsetDateTime::from_unix_timestamp(1_591_669_297).expect("valid");
        assert_eq!(utc_timestamp(moment), "2020-06-09T02:21:37Z");
        assert_eq!(
            beijing_display("2020-06-09T02:21:37Z"),
            "2020-06-09 10:21:37"
        );
        assert_eq!(
            beijing_display("2020-06-09T10:21:37+08:00"),
            "2020-06-09 10:21:37"
        );
    }

    #[test]
    fn times_stored_before_the_utc_rule_are_read_as_beijing_time() {
        assert_eq!(
            beijing_display("2020-06-09 10:21:37"),
            "2020-06-09 10:21:37"
        );
        assert_eq!(beijing_display("garbage"), "garbage");
    }

    #[test]
    fn stored_times_drop_fractions_of_a_second() {
        let moment =
            OffsetDateTime::from_unix_timestamp_nanos(1_591_669_297_123_456_789).expect("valid");
        assert_eq!(utc_timestamp(moment), "2020-06-09T02:21:37Z");
    }
}
