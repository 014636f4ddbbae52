//! A submitted departure (提交离校流程) and what its slip prints.

use serde::{Deserialize, Serialize};

use super::{model::ClearanceFacts, rules::Verdict};

/// That a departure was submitted: enough to link to its slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmittedRef {
    pub slip_number: String,
    /// Beijing time as shown, `YYYY-MM-DD HH:MM:SS`.
    pub submitted_at: String,
}

/// The departure as submitted: the clearance page frozen at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Departure {
    pub slip_number: String,
    /// Frozen as an RFC 3339 UTC instant (snapshots from before that rule hold Beijing
    /// time without an offset); the data layer turns it into Beijing time for display.
    pub submitted_at: String,
    pub facts: ClearanceFacts,
    pub verdicts: Vec<Verdict>,
}

/// The slip number: fixed by the submission date and the student. A student has one
/// active departure at a time; after a revocation the next one (`nth` 2, 3 …) gets its
/// own number.
pub fn slip_number(submitted_on_yyyymmdd: &str, student_number: &str, nth: u32) -> String {
    if nth <= 1 {
        format!("LX{submitted_on_yyyymmdd}{student_number}")
    } else {
        format!("LX{submitted_on_yyyymmdd}{student_number}-{nth}")
    }
}

/// That the graduate school revoked a departure, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    /// Beijing time as shown, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// The staff login; `None` where the viewer is the student (who sees 研究生院).
    pub by: Option<String>,
    pub reason: String,
}

/// One of a student's departures, for 已完成事项.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureSummary {
    pub slip_number: String,
    pub submitted_at: String,
    pub revoked: Option<Revocation>,
}

/// A slip to show: the departure as frozen, whether it was revoked since, and what lets
/// anyone verify the printout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlipView {
    pub departure: Departure,
    pub revoked: Option<Revocation>,
    /// 16 base32 characters (see `crate::verify`).
    pub serial: String,
    /// `keyid-MAC`; `None` only between the migration and the server's start-up pass.
    pub tag: Option<String>,
    /// The link and its QR code, made by the server function from the public address.
    pub check: Option<SlipCheck>,
}

/// The printed verification: serial in groups, the link, and its QR code as SVG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlipCheck {
    pub serial: String,
    pub link: String,
    /// Where a serial can be typed (the public address's /verify).
    pub page: String,
    pub qr_svg: String,
}
