//! Who is signed in: the student number kept in the server-side session.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use tower_sessions::Session;

use crate::AppError;

const STUDENT_KEY: &str = "student_number";

pub async fn current_session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(AppError::internal)
}

/// The signed-in student's number, or `Unauthenticated`.
pub async fn require_student() -> Result<String, AppError> {
    signed_in_student().await?.ok_or(AppError::Unauthenticated)
}

pub async fn signed_in_student() -> Result<Option<String>, AppError> {
    current_session()
        .await?
        .get::<String>(STUDENT_KEY)
        .await
        .map_err(AppError::internal)
}

/// Starts a signed-in session under a new id, so an id planted before login is worthless.
pub async fn sign_in(student_number: &str) -> Result<(), AppError> {
    let session = current_session().await?;
    session.cycle_id().await.map_err(AppError::internal)?;
    session
        .insert(STUDENT_KEY, student_number)
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

/// The address the request came from, when the server knows it.
pub fn client_addr() -> Option<IpAddr> {
    leptos::prelude::use_context::<http::request::Parts>()?
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Records `event` for `account` in the audit trail, with this request's client address.
pub async fn audit(db: &crate::db::Db, event: crate::db::audit::Event, account: &str) {
    let client = client_addr().map(|addr| addr.to_string());
    crate::db::audit::record(db, event, Some(account), client.as_deref()).await;
}
