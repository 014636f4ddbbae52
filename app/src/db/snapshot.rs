//! The frozen snapshot of a departure, as stored (JSON in `departures.snapshot`).
//!
//! A snapshot is never rewritten: a slip printed years later must show what the student
//! submitted. So every snapshot names its format, and this module reads every format
//! ever stored, upgrading old ones to today's [`Departure`] as it reads them.
//!
//! | format | stored by | differences from the next |
//! |--------|-----------|---------------------------|
//! | none (1) | releases before the data contract | `gender` is the label (`"女"`); `submitted_at` is UTC, or Beijing time without an offset before the UTC rule |
//! | 2 | today | `gender` is the code (`"female"`) |

use serde::Serialize;
use serde_json::Value;

use crate::clearance::{model::Gender, submission::Departure};

/// The format [`freeze`] writes.
pub const FORMAT: u64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("snapshot format {0} is newer than this release reads")]
    NewerFormat(u64),
    #[error("snapshot of format {format}: {reason}")]
    Unreadable { format: u64, reason: String },
}

#[derive(Serialize)]
struct Stored<'a> {
    format: u64,
    #[serde(flatten)]
    departure: &'a Departure,
}

/// The departure as it is stored, with today's format number.
pub fn freeze(departure: &Departure) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Stored {
        format: FORMAT,
        departure,
    })
}

/// Reads a stored snapshot of any format.
pub fn thaw(json: &str) -> Result<Departure, SnapshotError> {
    let mut value: Value = serde_json::from_str(json)?;
    let format = match value.get("format") {
        None => 1,
        Some(format) => format.as_u64().ok_or_else(|| SnapshotError::Unreadable {
            format: 0,
            reason: format!("the format is not a number: {format}"),
        })?,
    };
    if format > FORMAT {
        return Err(SnapshotError::NewerFormat(format));
    }
    if format == 1 {
        upgrade_from_1(&mut value)
            .map_err(|reason| SnapshotError::Unreadable { format, reason })?;
    }
    if let Some(object) = value.as_object_mut() {
        object.remove("format");
    }
    Ok(serde_json::from_value(value)?)
}

/// Format 1 kept the gender label; format 2 keeps the code.
fn upgrade_from_1(value: &mut Value) -> Result<(), String> {
    let gender = value
        .pointer_mut("/facts/basic/gender")
        .ok_or("no facts.basic.gender")?;
    let label = gender.as_str().ok_or("facts.basic.gender is not text")?;
    let code = Gender::from_label(label)
        .ok_or_else(|| format!("unknown gender {label:?}"))?
        .code();
    *gender = Value::from(code);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A slip stored before formats had numbers still renders, with the same facts.
    #[test]
    fn a_snapshot_stored_before_formats_still_reads() {
        let departure =
            thaw(include_str!("../../tests/fixtures/snapshot-v1.json")).expect("format 1 reads");
        assert_eq!(departure.slip_number, "LX202006092020100004");
        assert_eq!(departure.submitted_at, "2020-06-09T02:21:37Z");
        assert_eq!(departure.facts.basic.name, "刘洋");
        assert_eq!(departure.facts.basic.gender, Gender::Female);
        assert_eq!(departure.verdicts.len(), 4);
        let older = thaw(include_str!(
            "../../tests/fixtures/snapshot-before-utc.json"
        ))
        .expect("the oldest reads");
        assert_eq!(older.submitted_at, "2020-06-09 10:21:37");
    }

    #[test]
    fn today_s_format_round_trips_and_names_itself() {
        let departure =
            thaw(include_str!("../../tests/fixtures/snapshot-v1.json")).expect("format 1 reads");
        let frozen = freeze(&departure).expect("freezes");
        assert!(frozen.starts_with("{\"format\":2,"), "{frozen}");
        assert!(frozen.contains("\"gender\":\"female\""), "{frozen}");
        assert_eq!(thaw(&frozen).expect("reads back"), departure);
    }

    #[test]
    fn a_newer_or_broken_snapshot_is_an_error_not_a_guess() {
        assert!(matches!(
            thaw("{\"format\":3}"),
            Err(SnapshotError::NewerFormat(3))
        ));
        let unknown = include_str!("../../tests/fixtures/snapshot-v1.json").replace("女", "X");
        assert!(matches!(
            thaw(&unknown),
            Err(SnapshotError::Unreadable { format: 1, .. })
        ));
        assert!(thaw("not json").is_err());
    }
}
