//! Server-side sessions kept in the database (so several servers share them), behind an
//! HttpOnly cookie. The idle limit is the store's expiry, pushed out whenever the app
//! marks a session as used (`app::auth::session`); the absolute limit is checked by the
//! app on every call.

use std::time::Duration;

use app::db::Db;
use async_trait::async_trait;
use tower_sessions::{
    Expiry, SessionManagerLayer, SessionStore,
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

pub const COOKIE_NAME: &str = "lixiao_session";

/// How often expired session rows (and old guessing-limit rows) are deleted.
const CLEAN_UP_EVERY: Duration = Duration::from_secs(5 * 60);

/// The session store of the database the server runs on: one type for the layer,
/// whichever backend `DATABASE_URL` chose.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    /// The store in `db`, its table created if missing.
    pub async fn new(db: &Db) -> Result<Self, sqlx::Error> {
        Ok(match db {
            Db::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                Store::Sqlite(store)
            }
            Db::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                Store::Postgres(store)
            }
        })
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(store) => store.create(record).await,
            Store::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Store::Sqlite(store) => store.save(record).await,
            Store::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Store::Sqlite(store) => store.load(id).await,
            Store::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Store::Sqlite(store) => store.delete(id).await,
            Store::Postgres(store) => store.delete(id).await,
        }
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        match self {
            Store::Sqlite(store) => store.delete_expired().await,
            Store::Postgres(store) => store.delete_expired().await,
        }
    }
}

/// `https`: mark the cookie `Secure` (off only for plain-HTTP local runs).
/// `idle`: a session unused this long ends.
pub fn layer(store: Store, https: bool, idle: Duration) -> SessionManagerLayer<Store> {
    let idle = time::Duration::try_from(idle).unwrap_or(time::Duration::minutes(30));
    SessionManagerLayer::new(store)
        .with_name(COOKIE_NAME)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_secure(https)
        .with_expiry(Expiry::OnInactivity(idle))
}

/// Deletes the sessions whose idle limit has passed (the store keeps them otherwise:
/// it only refuses to load them).
pub async fn delete_expired(store: &Store) -> Result<(), String> {
    store
        .delete_expired()
        .await
        .map_err(|error| error.to_string())
}

/// Every few minutes for as long as the server runs: deletes expired sessions, and the
/// guessing-limit rows nobody has tripped for a day.
pub fn spawn_clean_up(store: Store, db: Db) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(CLEAN_UP_EVERY);
        loop {
            every.tick().await;
            if let Err(error) = delete_expired(&store).await {
                tracing::warn!(%error, "expired sessions not deleted");
            }
            if let Err(error) = app::db::throttle::forget_old(&db, app::clock::unix_now()).await {
                tracing::warn!(%error, "old sign-in limit rows not deleted");
            }
        }
    });
}
