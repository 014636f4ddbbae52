//! 离校流程单验证: anyone holding a printed slip (the graduate school's counter, an
//! employer, a dormitory manager) checks it without signing in, by the QR code's link
//! (`/verify/SERIAL.TAG`) or by typing the serial (`/verify?serial=…`).
//!
//! What a checker learns is only what tells a real slip from a doctored one: valid,
//! revoked (and when), or unknown; for a valid slip the name and the student number
//! masked, the college, the departure category and the submission date. An unknown
//! serial and a wrong tag answer alike. The pages are `noindex` and `no-store`, and each
//! client address may check a limited number per minute.

// The serial, the tag and the masking are the server's business: nothing of them is
// compiled into the browser's bundle.
#[cfg(feature = "ssr")]
mod code;
mod page;
#[cfg(feature = "ssr")]
pub mod qr;

#[cfg(feature = "ssr")]
pub use code::{LinkCode, SlipKeys, grouped, mask_name, mask_number, new_serial, normalize_serial};
pub use page::VerifyPage;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Where the verification pages are.
pub const VERIFY_PATH: &str = "/verify";

/// What a checker is shown of a valid slip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckedSlip {
    /// As printed: four groups of four.
    pub serial: String,
    pub name: String,
    pub student_number: String,
    pub college: String,
    pub departure_category: String,
    /// Beijing date, `YYYY-MM-DD`.
    pub submitted_on: String,
}

/// The answer of a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    Valid(CheckedSlip),
    /// The graduate school revoked it (Beijing date): the printout is void.
    Revoked {
        serial: String,
        revoked_on: String,
    },
    /// No slip has this serial, or the link's tag is not this slip's.
    Unknown,
    /// What was typed is not a serial's form at all (a typing slip, not a forgery).
    NotASerial,
}

/// The verification link printed as the slip's QR code.
pub fn link(public_url: &str, serial: &str, tag: &str) -> String {
    format!("{public_url}{VERIFY_PATH}/{serial}.{tag}")
}

/// Checks a slip: `code` is the link's `SERIAL.TAG`, or a serial as typed.
#[server(prefix = "/api", endpoint = "verify")]
pub async fn verify_slip(code: String) -> Result<Verification, AppError> {
    use crate::{error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let response = use_context::<leptos_axum::ResponseOptions>();
            if let Some(response) = &response {
                response.insert_header(
                    http::header::HeaderName::from_static("x-robots-tag"),
                    http::HeaderValue::from_static("noindex, nofollow"),
                );
            }
            // Per IPv4 address or IPv6 /64, as the sign-in limits count a client: one
            // subscriber's 2^64 addresses are one client.
            let client = crate::auth::session::client().limit_key();
            if !state.verify_limiter.allow(&client) {
                if let Some(response) = &response {
                    response.insert_header(
                        http::header::RETRY_AFTER,
                        http::HeaderValue::from_static("60"),
                    );
                }
                return Err(AppError::TooManyRequests(
                    "查询过于频繁，请一分钟后再试。".to_owned(),
                ));
            }
            let answer = check(&state, &code).await?;
            if let (Verification::Unknown, Some(response)) = (&answer, &response) {
                response.set_status(http::StatusCode::NOT_FOUND);
            }
            Ok(answer)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
async fn check(state: &crate::state::AppState, code: &str) -> Result<Verification, AppError> {
    use crate::db::slips;
    let code = code.trim();
    if code.chars().count() > 64 {
        return Ok(Verification::NotASerial);
    }
    let keys = state.slip_keys()?;
    let (serial, link) = if code.contains('.') {
        // A link that is not of the link's form is as unknown as a wrong one.
        match LinkCode::parse(code) {
            Some(link) => (link.serial.clone(), Some(link)),
            None => return Ok(Verification::Unknown),
        }
    } else {
        match normalize_serial(code) {
            Some(serial) => (serial, None),
            None => return Ok(Verification::NotASerial),
        }
    };
    let record = slips::find(&state.db, &serial).await?;
    if let Some(link) = &link {
        // The MAC is computed whether or not the serial exists, so that an unknown
        // serial costs what a wrong tag costs.
        let number = record
            .as_ref()
            .map_or("0000000000", |r| r.student_number.as_str());
        if !keys.check(link, number) {
            return Ok(Verification::Unknown);
        }
    }
    let Some(record) = record else {
        return Ok(Verification::Unknown);
    };
    let serial = grouped(&record.serial);
    if let Some(revoked_at) = record.revoked_at {
        return Ok(Verification::Revoked {
            serial,
            revoked_on: revoked_at.beijing_date(),
        });
    }
    Ok(Verification::Valid(CheckedSlip {
        serial,
        name: mask_name(&record.name),
        student_number: mask_number(&record.student_number),
        college: record.college,
        departure_category: record.departure_category,
        submitted_on: record.submitted_at.beijing_date(),
    }))
}
