//! Server-side sessions kept in the database (so several servers can share them),
//! behind an HttpOnly cookie. The idle limit is the store's expiry, pushed out whenever
//! the app marks a session as used (`app::auth::session`); the absolute limit is checked
//! by the app on every call.

use std::time::Duration;

use app::db::Db;
use tower_sessions::{
    Expiry, SessionManagerLayer, cookie::SameSite, session_store::ExpiredDeletion,
};
use tower_sessions_sqlx_store::SqliteStore;

pub const COOKIE_NAME: &str = "lixiao_session";

/// How often expired session rows (and old guessing-limit rows) are deleted.
const CLEAN_UP_EVERY: Duration = Duration::from_secs(5 * 60);

/// `https`: mark the cookie `Secure` (off only for plain-HTTP local runs).
/// `idle`: a session unused this long ends.
pub async fn layer(
    db: &Db,
    https: bool,
    idle: Duration,
) -> Result<SessionManagerLayer<SqliteStore>, sqlx::Error> {
    let store = SqliteStore::new(db.clone());
    store.migrate().await?;
    let idle = time::Duration::try_from(idle).unwrap_or(time::Duration::minutes(30));
    Ok(SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(idle)))
}

/// Deletes the sessions whose idle limit has passed (the store keeps them otherwise:
/// it only refuses to load them).
pub async fn delete_expired(db: &Db) -> Result<(), String> {
    SqliteStore::new(db.clone())
        .delete_expired()
        .await
        .map_err(|error| error.to_string())
}

/// Every few minutes for as long as the server runs: deletes expired sessions, and the
/// guessing-limit rows nobody has tripped for a day.
pub fn spawn_clean_up(db: Db) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CLEAN_UP_EVERY);
        loop {
            every.tick().await;
            if let Err(error) = delete_expired(&db).await {
                tracing::warn!(%error, "expired sessions not deleted");
            }
            if let Err(error) = app::db::throttle::forget_old(&db, app::clock::unix_now()).await {
                tracing::warn!(%error, "old sign-in limit rows not deleted");
            }
        }
    });
}
