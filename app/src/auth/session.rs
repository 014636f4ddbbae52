//! Who is signed in: the server-side session, checked against the account on every call.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use tower_sessions::Session;

use crate::{
    AppError,
    db::{Db, accounts},
};

const LOGIN_KEY: &str = "login";
/// The account's `session_generation` when the session was opened.
const GENERATION_KEY: &str = "generation";
const SIGNED_IN_AT_KEY: &str = "signed_in_at";

/// However active, a session ends 12 hours after sign-in (the idle limit is in the cookie layer).
pub const ABSOLUTE_LIMIT_SECONDS: i64 = 12 * 60 * 60;

pub struct SignedIn {
    pub login: String,
    pub role: String,
    /// Set for student accounts only.
    pub student_number: Option<String>,
    pub must_change_password: bool,
}

pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(AppError::internal)
}

/// The signed-in account, or `None` when there is no session, it is past its absolute
/// limit, or the password has changed since it was opened (then it is ended here).
pub async fn signed_in(db: &Db) -> Result<Option<SignedIn>, AppError> {
    let session = current_session().await?;
    let get = |key: &'static str| {
        let session = session.clone();
        async move { session.get::<i64>(key).await.map_err(AppError::internal) }
    };
    let Some(login) = session
        .get::<String>(LOGIN_KEY)
        .await
        .map_err(AppError::internal)?
    else {
        return Ok(None);
    };
    let opened_at = get(SIGNED_IN_AT_KEY).await?.unwrap_or(0);
    let generation = get(GENERATION_KEY).await?;
    let account = accounts::session_state(db, &login).await?;
    let valid = within_absolute_limit(opened_at, crate::clock::unix_now())
        && account
            .as_ref()
            .is_some_and(|account| Some(account.session_generation) == generation);
    if !valid {
        session.flush().await.map_err(AppError::internal)?;
        return Ok(None);
    }
    Ok(account.map(|account| SignedIn {
        login,
        role: account.role,
        student_number: account.student_number,
        must_change_password: account.must_change_password,
    }))
}

/// The signed-in student's number. Anonymous: 401; initial password not yet changed,
/// or signed in with another role: 403.
pub async fn require_student(db: &Db) -> Result<String, AppError> {
    let signed_in = require_signed_in(db).await?;
    if signed_in.must_change_password {
        return Err(AppError::PasswordChangeRequired);
    }
    match signed_in.student_number {
        Some(number) if signed_in.role == accounts::STUDENT_ROLE => Ok(number),
        _ => Err(AppError::Forbidden),
    }
}

/// Any signed-in student, even one who still has to change the initial password.
pub async fn require_signed_in(db: &Db) -> Result<SignedIn, AppError> {
    signed_in(db).await?.ok_or(AppError::Unauthenticated)
}

/// Starts a signed-in session under a new id, so an id planted before sign-in is worthless.
pub async fn sign_in(login: &str, session_generation: i64) -> Result<(), AppError> {
    let session = current_session().await?;
    session.cycle_id().await.map_err(AppError::internal)?;
    session
        .insert(LOGIN_KEY, login)
        .await
        .map_err(AppError::internal)?;
    session
        .insert(GENERATION_KEY, session_generation)
        .await
        .map_err(AppError::internal)?;
    session
        .insert(SIGNED_IN_AT_KEY, crate::clock::unix_now())
        .await
        .map_err(AppError::internal)
}

pub async fn sign_out() -> Result<(), AppError> {
    current_session()
        .await?
        .flush()
        .await
        .map_err(AppError::internal)
}

/// Whether a session opened at `opened_at` may still be used at `now` (Unix seconds).
pub fn within_absolute_limit(opened_at: i64, now: i64) -> bool {
    (0..ABSOLUTE_LIMIT_SECONDS).contains(&(now - opened_at))
}

/// The address the request came from, when the server knows it.
pub fn client_addr() -> Option<IpAddr> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Records `event` for `account` in the audit trail, with this request's client address.
pub async fn audit(db: &Db, event: crate::db::audit::Event, account: &str) {
    let client = client_addr().map(|addr| addr.to_string());
    crate::db::audit::record(db, event, Some(account), client.as_deref()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lasts_at_most_twelve_hours_however_active() {
        let opened = 1_700_000_000;
        assert!(within_absolute_limit(opened, opened));
        assert!(within_absolute_limit(
            opened,
            opened + ABSOLUTE_LIMIT_SECONDS - 1
        ));
        assert!(!within_absolute_limit(
            opened,
            opened + ABSOLUTE_LIMIT_SECONDS
        ));
        assert!(
            !within_absolute_limit(opened, opened - 60),
            "a session from the future is refused"
        );
        assert_eq!(ABSOLUTE_LIMIT_SECONDS, 12 * 3600);
    }
}
