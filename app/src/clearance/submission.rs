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

/// The slip number: fixed by the submission date and the student, who submits once.
pub fn slip_number(submitted_on_yyyymmdd: &str, student_number: &str) -> String {
    format!("LX{submitted_on_yyyymmdd}{student_number}")
}
