//! A few connections kept aside for the read every signed-in request makes: the session
//! with its account, and on the student's pages the clearance page with them
//! ([`sessions::load`](super::sessions::load), [`sessions::load_with_page`](super::sessions::load_with_page)).
//!
//! Why not the pool: sqlx's pool tests every connection it takes back with a ping
//! (sqlx-core 0.8's `return_to_pool`, unconditional), so each page cost two trips to
//! the database: the statement, then the ping (on SQLite a second hop to the
//! connection's thread and back; on PostgreSQL a second round trip and a wake-up of its
//! process). A lane connection goes back to its shelf as soon as the statement has
//! answered; the next statement on it reads whatever the last one left unread first.
//!
//! What the pool's ping was for is kept where it is needed:
//! - a request given up half-way (the client left, a timeout) leaves its statement
//!   unfinished: that connection is pinged, in the background, before it is shelved,
//!   and dropped if the ping fails;
//! - a connection idle for longer than `ping_idle_after` is pinged before use, like the
//!   pool's (the server may have dropped it), and replaced if the ping fails.
//!
//! The lane's connections count within `LIXIAO_DB_MAX_CONNECTIONS`
//! ([`PoolSettings::lane_connections`]).

use std::{
    ops::{Deref, DerefMut},
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use sqlx::{ConnectOptions as _, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Db;
use crate::config::PoolSettings;

/// The lane of a [`Db`]: the same database, the same connection settings.
#[derive(Clone, Debug)]
pub enum Lane {
    Sqlite(Arc<Shelf<sqlx::SqliteConnection>>),
    Postgres(Arc<Shelf<sqlx::PgConnection>>),
}

impl Lane {
    /// Opens nothing yet: connections are made as requests need them.
    pub fn new(db: &Db, settings: &PoolSettings) -> Self {
        match db {
            Db::Sqlite(pool) => Lane::Sqlite(Shelf::new(pool.connect_options(), settings)),
            Db::Postgres(pool) => Lane::Postgres(Shelf::new(pool.connect_options(), settings)),
        }
    }

    /// Connections open now (in use or shelved).
    pub fn open_connections(&self) -> usize {
        match self {
            Lane::Sqlite(shelf) => shelf.open_connections(),
            Lane::Postgres(shelf) => shelf.open_connections(),
        }
    }
}

/// The connections of one lane: at most `size` at a time, the idle ones shelved.
pub struct Shelf<C: Connection + 'static> {
    options: Arc<<C as Connection>::Options>,
    idle: Mutex<Vec<Shelved<C>>>,
    permits: Arc<Semaphore>,
    size: usize,
    acquire_timeout: Duration,
    ping_idle_after: Duration,
}

struct Shelved<C> {
    connection: C,
    since: Instant,
}

impl<C: Connection + 'static> std::fmt::Debug for Shelf<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shelf")
            .field("size", &self.size)
            .field("in_use", &(self.size - self.permits.available_permits()))
            .finish_non_exhaustive()
    }
}

impl<C: Connection + 'static> Shelf<C> {
    fn new(options: Arc<<C as Connection>::Options>, settings: &PoolSettings) -> Arc<Self> {
        let size = settings.lane_connections() as usize;
        Arc::new(Shelf {
            options,
            idle: Mutex::new(Vec::with_capacity(size)),
            permits: Arc::new(Semaphore::new(size)),
            size,
            acquire_timeout: settings.acquire_timeout,
            ping_idle_after: settings.ping_idle_after,
        })
    }

    fn open_connections(&self) -> usize {
        let in_use = self.size - self.permits.available_permits();
        in_use
            + self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
    }

    fn take_idle(&self) -> Option<Shelved<C>> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn shelve(&self, connection: C) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Shelved {
                connection,
                since: Instant::now(),
            });
    }

    /// A connection for one statement; waits while all `size` are in use, at most
    /// `acquire_timeout` (then [`sqlx::Error::PoolTimedOut`], as the pool says it).
    pub async fn acquire(self: &Arc<Self>) -> Result<Lent<C>, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + self.acquire_timeout;
        let permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let lent = |connection| Lent {
            connection: Some(connection),
            shelf: self.clone(),
            permit: Some(permit),
        };
        while let Some(Shelved {
            mut connection,
            since,
        }) = self.take_idle()
        {
            if since.elapsed() <= self.ping_idle_after {
                return Ok(lent(connection));
            }
            // Idle long enough for the server to have dropped it: a failed ping drops
            // it here and the next one (or a new one) is tried.
            if tokio::time::timeout_at(deadline, connection.ping())
                .await
                .is_ok_and(|pinged| pinged.is_ok())
            {
                return Ok(lent(connection));
            }
        }
        let connection = tokio::time::timeout_at(deadline, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(lent(connection))
    }
}

/// A lane connection lent to one statement. [`Lent::shelve`] puts it back once the
/// statement has answered; dropped without that (an error, a request given up
/// half-way), it is pinged in the background and shelved only if it answers.
pub struct Lent<C: Connection + 'static> {
    connection: Option<C>,
    shelf: Arc<Shelf<C>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl<C: Connection + 'static> Lent<C> {
    pub fn shelve(mut self) {
        if let Some(connection) = self.connection.take() {
            self.shelf.shelve(connection);
        }
    }
}

impl<C: Connection + 'static> Deref for Lent<C> {
    type Target = C;
    fn deref(&self) -> &C {
        self.connection
            .as_ref()
            .expect("a lent connection until shelved")
    }
}

impl<C: Connection + 'static> DerefMut for Lent<C> {
    fn deref_mut(&mut self) -> &mut C {
        self.connection
            .as_mut()
            .expect("a lent connection until shelved")
    }
}

impl<C: Connection + 'static> Drop for Lent<C> {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        // Its place stays taken until the ping is done, so the lane never holds more
        // than its size.
        let permit = self.permit.take();
        let shelf = self.shelf.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if connection.ping().await.is_ok() {
                    shelf.shelve(connection);
                }
                drop(permit);
            });
        }
    }
}
