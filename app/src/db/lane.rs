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
//!   and dropped if the ping fails or takes over [`PING_WITHIN`];
//! - a connection idle for longer than `ping_idle_after` is pinged before use, like the
//!   pool's (the server may have dropped it), and replaced if the ping fails;
//! - a statement that fails because its shelved connection was lost (a restart of the
//!   database server within `ping_idle_after`) is run once more on a new connection by
//!   the callers ([`is_lost_connection`]): the reads are idempotent;
//! - connections idle for [`IDLE_LIMIT`] or open for [`LIFETIME`] are closed when a
//!   request takes them off the shelf. Unlike the pool, nothing reaps them in the
//!   background, and the shelf is last in, first out: after a peak, the ones under the
//!   top may stay open until the next peak or until the server stops ([`Lane::close`]),
//!   never more than the lane's share;
//! - [`Lane::close`] waits (at most [`PING_WITHIN`] and a little) for connections still
//!   lent, such as one being pinged after a request given up half-way, and closes them
//!   itself; a statement that ends later still has its connection closed, not shelved.
//!
//! The lane's connections count within `LIXIAO_DB_MAX_CONNECTIONS`
//! ([`PoolSettings::lane_connections`]).

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use sqlx::{ConnectOptions as _, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Db;
use crate::config::PoolSettings;

/// How long a ping may take before its connection is given up (sqlx's pool waits for
/// its ping without a limit; a backend stopped dead would hold the lane's places).
pub const PING_WITHIN: Duration = Duration::from_secs(2);
/// Shelved this long unused, a connection is closed (the pool's default idle timeout).
pub const IDLE_LIMIT: Duration = Duration::from_secs(10 * 60);
/// Open this long, a connection is closed when it next comes off the shelf (the pool's
/// default lifetime): a failover or a changed server setting reaches the lane too.
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);

/// Whether `error` says the connection itself is gone (its socket or its SQLite thread,
/// or PostgreSQL ended it: an administrator, a shutdown, a connection exception),
/// rather than the statement failing: then the read may run again on a new one.
pub fn is_lost_connection(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("57P0") || code.starts_with("08")),
        _ => false,
    }
}

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

    /// Closes the shelved connections and refuses new requests: on shutdown, after the
    /// last request, so that SQLite's last connection to close can checkpoint the WAL
    /// ([`Db::close`] closes the pool's).
    pub async fn close(&self) {
        match self {
            Lane::Sqlite(shelf) => shelf.close().await,
            Lane::Postgres(shelf) => shelf.close().await,
        }
    }

    /// Connections open now (in use or shelved).
    pub fn open_connections(&self) -> usize {
        match self {
            Lane::Sqlite(shelf) => shelf.open_connections(),
            Lane::Postgres(shelf) => shelf.open_connections(),
        }
    }

    /// Reads run once more on a new connection because their shelved one was gone
    /// ([`Lent::lost`]) since the lane was made: what tells the two guards against a
    /// dropped connection apart (the ping before use leaves this unchanged).
    pub fn reads_run_again(&self) -> usize {
        match self {
            Lane::Sqlite(shelf) => shelf.run_again.load(Ordering::Relaxed),
            Lane::Postgres(shelf) => shelf.run_again.load(Ordering::Relaxed),
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
    run_again: AtomicUsize,
}

struct Shelved<C> {
    connection: C,
    since: Instant,
    opened: Instant,
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
            run_again: AtomicUsize::new(0),
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

    async fn close(&self) {
        // A request given up half-way keeps its connection while the ping decides (at
        // most `PING_WITHIN`): wait for it, so that it is closed here rather than in the
        // background, perhaps after the process has gone (then SQLite's WAL is left).
        let size = u32::try_from(self.size).unwrap_or(u32::MAX);
        let all = tokio::time::timeout(
            PING_WITHIN + Duration::from_millis(100),
            self.permits.acquire_many(size),
        )
        .await;
        self.permits.close();
        drop(all);
        while let Some(Shelved { connection, .. }) = self.take_idle() {
            if let Err(error) = connection.close().await {
                tracing::warn!(%error, "a lane connection did not close cleanly");
            }
        }
    }

    fn take_idle(&self) -> Option<Shelved<C>> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn shelve(&self, connection: C, opened: Instant) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // After `close`, nothing takes it off the shelf again: it would stay open (and
        // on SQLite keep the WAL from being checkpointed). Checked under the lock that
        // `close` drains with, after closing the permits: one or the other has it.
        if self.permits.is_closed() {
            drop(idle);
            close_later(connection);
            return;
        }
        idle.push(Shelved {
            connection,
            since: Instant::now(),
            opened,
        });
    }

    /// A connection for one statement; waits while all `size` are in use, at most
    /// `acquire_timeout` (then [`sqlx::Error::PoolTimedOut`], as the pool says it).
    pub async fn acquire(self: &Arc<Self>) -> Result<Lent<C>, sqlx::Error> {
        self.lend(true).await
    }

    /// [`Shelf::acquire`], but always a new connection: the retry after
    /// [`is_lost_connection`], when the shelved ones may all be gone.
    pub async fn acquire_new(self: &Arc<Self>) -> Result<Lent<C>, sqlx::Error> {
        self.lend(false).await
    }

    async fn lend(self: &Arc<Self>, shelved: bool) -> Result<Lent<C>, sqlx::Error> {
        let deadline = tokio::time::Instant::now() + self.acquire_timeout;
        let permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let lent = |connection, opened, reused| Lent {
            connection: Some(connection),
            opened,
            reused,
            shelf: self.clone(),
            permit: Some(permit),
        };
        while let Some(Shelved {
            mut connection,
            since,
            opened,
        }) = shelved.then(|| self.take_idle()).flatten()
        {
            let idle_for = since.elapsed();
            if idle_for > IDLE_LIMIT || opened.elapsed() > LIFETIME {
                close_later(connection);
                continue;
            }
            if idle_for <= self.ping_idle_after {
                return Ok(lent(connection, opened, true));
            }
            // Idle long enough for the server to have dropped it: a failed or slow ping
            // drops it here and the next one (or a new one) is tried.
            let within = deadline.min(tokio::time::Instant::now() + PING_WITHIN);
            if tokio::time::timeout_at(within, connection.ping())
                .await
                .is_ok_and(|pinged| pinged.is_ok())
            {
                return Ok(lent(connection, opened, true));
            }
        }
        let connection = tokio::time::timeout_at(deadline, self.options.connect())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok(lent(connection, Instant::now(), false))
    }
}

/// Closes `connection` in the background, within [`PING_WITHIN`] (closing says goodbye
/// to the server, which may not answer).
fn close_later<C: Connection + 'static>(connection: C) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = tokio::time::timeout(PING_WITHIN, connection.close()).await;
        });
    }
}

/// A lane connection lent to one statement. [`Lent::shelve`] puts it back once the
/// statement has answered; dropped without that (an error, a request given up
/// half-way), it is pinged in the background and shelved only if it answers.
pub struct Lent<C: Connection + 'static> {
    connection: Option<C>,
    opened: Instant,
    /// Taken from the shelf (not opened for this statement).
    reused: bool,
    shelf: Arc<Shelf<C>>,
    permit: Option<OwnedSemaphorePermit>,
}

impl<C: Connection + 'static> Lent<C> {
    pub fn shelve(mut self) {
        if let Some(connection) = self.connection.take() {
            self.shelf.shelve(connection, self.opened);
        }
    }

    /// Whether the statement's `error` is worth running again on a new connection
    /// ([`Shelf::acquire_new`]): this one came off the shelf and is gone. It is dropped
    /// at once, its place freed.
    pub fn lost(mut self, error: &sqlx::Error) -> bool {
        if self.reused && is_lost_connection(error) {
            drop(self.connection.take());
            self.shelf.run_again.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            false
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
        let opened = self.opened;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Ok(Ok(())) = tokio::time::timeout(PING_WITHIN, connection.ping()).await {
                    shelf.shelve(connection, opened);
                }
                drop(permit);
            });
        }
    }
}
