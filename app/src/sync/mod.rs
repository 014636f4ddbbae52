//! The sync API's records: what an office's own system pushes about one student, and
//! what Lixiao answers. The wire types here generate the OpenAPI document (utoipa);
//! checking a record and turning it into an office's facts is pure code, so the API and
//! the desk's CSV import (same fields) share it. The HTTP side is `server::sync`.
//!
//! # Semantics (also in the API document)
//!
//! - A record is the office's **complete** current state for one student (a snapshot per
//!   student, not a change): a finance record lists every outstanding charge, so a charge
//!   missing from the next record of that student has been paid. Students not in a
//!   request are left as they are.
//! - Every record carries the office system's own `as_of` time. A record older than the
//!   one Lixiao holds for that student changes nothing (`unchanged`, with the held time);
//!   the same `as_of` with different facts is refused as a conflict.
//! - `not_applicable: true` states that the student has nothing with the office (不涉及);
//!   the facts fields are then left out.

pub mod csv;
pub mod records;

pub use records::*;
