//! Time as Lixiao uses it: Unix seconds for limits, Beijing time (UTC+8) for what
//! students read. One place, so every page and message agrees.

use time::{OffsetDateTime, macros::offset};

pub fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

pub fn beijing_now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(offset!(+8))
}

/// `YYYY-MM-DD HH:MM:SS`, as the pages show submission and cancellation times.
pub fn date_time(moment: OffsetDateTime) -> String {
    moment
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]"
        ))
        .unwrap_or_default()
}

/// `HH:MM` in Beijing time for a Unix timestamp (e.g. when a lock ends).
pub fn beijing_hour_minute(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|moment| {
            moment
                .to_offset(offset!(+8))
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
        let moment = OffsetDateTime::from_unix_timestamp(1_591_669_297)
            .expect("valid")
            .to_offset(offset!(+8));
        assert_eq!(date_time(moment), "2020-06-09 10:21:37");
    }
}
