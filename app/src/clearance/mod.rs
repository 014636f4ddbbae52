//! 研究生离校信息查询: the four offices, the library card, submitting and the slip.

pub mod model;
mod page;
pub mod rules;
mod slip;
pub mod submission;
#[cfg(test)]
mod tests;

pub use page::{BasicInfoSection, ClearancePage, HistorySection, VerdictBadge};
pub use slip::{CompletedPage, SlipPage};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;
use model::ClearanceFacts;
pub use submission::{DepartureSummary, Revocation, SlipCheck, SlipView, SubmittedRef};

/// What the clearance page needs: the facts, and the submission if there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearanceView {
    pub facts: ClearanceFacts,
    /// The active departure.
    pub submitted: Option<SubmittedRef>,
    /// With no active departure: the last one the graduate school revoked.
    pub revoked: Option<Revocation>,
    /// 变更记录 of all four offices, newest first, offices named instead of staff.
    pub history: Vec<model::HistoryEntry>,
}

pub const ALREADY_SUBMITTED: &str =
    "您的离校流程已提交，离校流程只能提交一次。可在“个人中心-已完成事项”中查看并打印。";

/// The signed-in student's clearance. The student comes from the session, never an argument.
#[server(prefix = "/api", endpoint = "clearance")]
pub async fn get_clearance() -> Result<ClearanceView, AppError> {
    use crate::{auth::session, db::clearance, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_student(&state).await?;
            // Read with the session (one statement for the whole page), or else here.
            let page = match session::take_clearance_page(&number) {
                Some(page) => page,
                None => clearance::load_page(&state.db, &number)
                    .await?
                    .ok_or(AppError::NotFound)?,
            };
            Ok(ClearanceView::from(page))
        }
        .await,
    )
}

/// The clearance page's answer when it was read with the session before the page
/// rendered (`session::read_before_render`): what [`get_clearance`] would answer, with
/// nothing left to wait for. `None` when it was not, or no page was read with it.
#[cfg(feature = "ssr")]
pub fn read_with_session() -> Option<Result<ClearanceView, AppError>> {
    use crate::auth::session;
    // An error is shown by the page's `ErrorPanel`, which sets the status.
    let number = match session::student_of(session::answered()?) {
        Ok(number) => number,
        Err(error) => return Some(Err(error)),
    };
    let page = session::take_clearance_page(&number)?;
    Some(Ok(ClearanceView::from(page)))
}

#[cfg(feature = "ssr")]
impl From<crate::db::clearance::StudentPage> for ClearanceView {
    fn from(page: crate::db::clearance::StudentPage) -> Self {
        ClearanceView {
            facts: page.facts,
            submitted: page.departures.submitted,
            revoked: page.departures.revoked,
            history: page.history,
        }
    }
}

/// 注销: cancels the signed-in student's library card, if the library's rule allows it.
#[server(prefix = "/api", endpoint = "cancel_library_card")]
pub async fn cancel_library_card() -> Result<(), AppError> {
    use crate::{
        auth::session,
        db::clearance::{self, CancelOutcome},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_student(&state).await?;
            let who = session::acting(&number);
            match clearance::cancel_library_card(&state.db, &number, crate::clock::now(), &who)
                .await?
            {
                CancelOutcome::Cancelled => {
                    leptos_axum::redirect("/clearance");
                    Ok(())
                }
                CancelOutcome::Refused(refusal) => Err(AppError::Conflict(refusal.message())),
                CancelOutcome::NoLibraryRecord => Err(AppError::Conflict(format!(
                    "图书馆尚无您的记录，无法注销借书证。请致电图书馆 {}。",
                    rules::Office::Library.phone()
                ))),
            }
        }
        .await,
    )
}

/// 提交离校流程: the server re-checks all four offices inside the submitting transaction.
#[server(prefix = "/api", endpoint = "submit_departure")]
pub async fn submit_departure() -> Result<SubmittedRef, AppError> {
    use crate::{
        auth::session,
        db::clearance::{self, SubmitOutcome},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_student(&state).await?;
            let now = crate::clock::now();
            let date = crate::clock::beijing(now)
                .format(time::macros::format_description!("[year][month][day]"))
                .map_err(AppError::internal)?;
            let who = session::acting(&number);
            let keys = state.slip_keys()?;
            match clearance::submit(&state.db, &number, now, &date, &who, keys).await? {
                SubmitOutcome::Submitted(submitted) => {
                    leptos_axum::redirect("/clearance");
                    Ok(submitted)
                }
                SubmitOutcome::AlreadySubmitted => {
                    Err(AppError::Conflict(ALREADY_SUBMITTED.to_owned()))
                }
                SubmitOutcome::GateClosed(verdicts) => {
                    Err(AppError::Conflict(rules::gate_refusal_message(&verdicts)))
                }
                SubmitOutcome::NoSuchStudent => Err(AppError::NotFound),
            }
        }
        .await,
    )
}

/// One of the signed-in student's departures, as frozen at submission: the one with
/// `slip_number` (of this student only), or with none given, the active one.
#[server(prefix = "/api", endpoint = "departure")]
pub async fn get_departure(slip_number: Option<String>) -> Result<Option<SlipView>, AppError> {
    use crate::{auth::session, db::clearance, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_student(&state).await?;
            let slip = slip_number
                .as_deref()
                .map(str::trim)
                .filter(|slip| !slip.is_empty());
            if slip.is_some_and(|slip| slip.chars().count() > 64) {
                return Ok(None);
            }
            let Some(mut view) = clearance::find_departure(&state.db, &number, slip).await? else {
                return Ok(None);
            };
            let tag = match &view.tag {
                Some(tag) => tag.clone(),
                None => state.slip_keys()?.tag(&view.serial, &number),
            };
            let public_url = state.public_url()?;
            let link = crate::verify::link(public_url, &view.serial, &tag);
            view.check = Some(SlipCheck {
                page: format!("{public_url}{}", crate::verify::VERIFY_PATH),
                serial: crate::verify::grouped(&view.serial),
                qr_svg: crate::verify::qr::svg(&link).ok_or_else(|| {
                    AppError::internal("the verification link does not fit a QR code")
                })?,
                link,
            });
            Ok(Some(view))
        }
        .await,
    )
}

/// 已完成事项: every departure of the signed-in student, revoked ones marked.
#[server(prefix = "/api", endpoint = "departures")]
pub async fn get_departures() -> Result<Vec<DepartureSummary>, AppError> {
    use crate::{auth::session, db::clearance, error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_student(&state).await?;
            Ok(clearance::departures_of(&state.db, &number).await?)
        }
        .await,
    )
}
