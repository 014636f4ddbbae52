//! Server-side sessions kept in the database (so several servers share them), behind an
//! HttpOnly cookie. The idle limit is the store's expiry, pushed out whenever the app
//! marks a session as used (`app::auth::session`); the absolute limit is checked by the
//! app on every call.

use std::time::Duration;

use app::{
    auth::session::ACCOUNT_KEY,
    db::{Db, lane::Lane, sessions},
};
use async_trait::async_trait;
use tower_sessions::{
    Expiry, SessionManagerLayer, SessionStore,
    cookie::SameSite,
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};

pub use app::auth::session::COOKIE_NAME;

/// How often expired session rows (and old guessing-limit rows) are deleted.
const CLEAN_UP_EVERY: Duration = Duration::from_secs(5 * 60);

/// Sessions in the database the server runs on (`app::db::sessions`), loaded together
/// with their account: the account's state is handed to the app inside the loaded
/// session, under [`ACCOUNT_KEY`], and never written back.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    lane: Lane,
}

impl Store {
    pub fn new(db: &Db, lane: &Lane) -> Self {
        Store {
            db: db.clone(),
            lane: lane.clone(),
        }
    }
}

/// What a record's row holds: its login (for the join), its values as JSON without the
/// account (read afresh with every load), and its expiry in Unix seconds.
fn row_of(record: &Record) -> session_store::Result<(Option<&str>, String, i64)> {
    let login = record
        .data
        .get(app::auth::session::LOGIN_KEY)
        .and_then(|login| login.as_str());
    let data = if record.data.contains_key(ACCOUNT_KEY) {
        let mut data = record.data.clone();
        data.remove(ACCOUNT_KEY);
        serde_json::to_string(&data)
    } else {
        serde_json::to_string(&record.data)
    }
    .map_err(|error| session_store::Error::Encode(error.to_string()))?;
    Ok((login, data, record.expiry_date.unix_timestamp()))
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let (login, data, expires_at) = row_of(record)?;
        let login = login.map(str::to_owned);
        // A new id for the (astronomically unlikely) one already taken.
        while !sessions::create(
            &self.db,
            &sessions::key(&record.id.to_string()),
            login.as_deref(),
            &data,
            expires_at,
        )
        .await
        .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (login, data, expires_at) = row_of(record)?;
        sessions::save(
            &self.db,
            &sessions::key(&record.id.to_string()),
            login,
            &data,
            expires_at,
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = app::clock::unix_now();
        let Some(loaded) = sessions::load(&self.lane, &sessions::key(&id.to_string()), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let mut data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&loaded.data)
                .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        if let Some(account) = loaded.account {
            let account = serde_json::to_value(account)
                .map_err(|error| session_store::Error::Encode(error.to_string()))?;
            data.insert(ACCOUNT_KEY.to_owned(), account);
        }
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(loaded.expires_at)
            .map_err(|error| session_store::Error::Decode(error.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::delete(&self.db, &sessions::key(&id.to_string()))
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sessions::delete_expired(&self.db, app::clock::unix_now())
            .await
            .map(|_| ())
            .map_err(backend)
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
