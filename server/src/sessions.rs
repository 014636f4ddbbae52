//! Server-side sessions kept in the database (so several servers can share them),
//! behind an HttpOnly cookie.

use app::db::Db;
use time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::SqliteStore;

pub const COOKIE_NAME: &str = "lixiao_session";

/// Idle sessions end after 30 minutes.
const IDLE_TIMEOUT: Duration = Duration::minutes(30);

/// `https`: mark the cookie `Secure` (off only for plain-HTTP local runs).
pub async fn layer(db: &Db, https: bool) -> Result<SessionManagerLayer<SqliteStore>, sqlx::Error> {
    let store = SqliteStore::new(db.clone());
    store.migrate().await?;
    Ok(SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(IDLE_TIMEOUT)))
}
