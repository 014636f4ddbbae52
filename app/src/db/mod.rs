//! The data layer: every SQL statement of Lixiao lives under this module, on the
//! server only. Callers get plain Rust values and [`AppError`](crate::AppError)s, never
//! sqlx types or database messages.
//!
//! # One contract, two backends
//!
//! [`Db`] is SQLite (the embedded default) or PostgreSQL (several server processes),
//! chosen by `DATABASE_URL` at start. The rest of the app sees only the public functions
//! of the modules below, which take a `&Db`: that is the contract.
//!
//! - **SQL written once.** Each module writes its statements once, inside
//!   [`for_each_backend!`], which compiles them twice: in a `sqlite` and a `postgres`
//!   submodule, where `Pool`, `Conn`, `dialect` (and `audit`, the audit trail's copy)
//!   name that backend. The contract
//!   functions pick the copy with [`on_backend!`]. Placeholders are `$1, $2 …`, which
//!   both drivers bind by number; every value is bound, never formatted into SQL.
//! - **SQL that differs** lives in [`sqlite`] and [`postgres`], side by side, as functions
//!   with the same names: how a database is opened, and how a change to one student's
//!   clearance takes its lock ([`sqlite::begin_for_student`]).
//! - **Stored values** are codes (`approved`, `female`), integers (fen, Unix seconds) or
//!   [`Instant`]s; the Chinese labels live in the app.
//!
//! Why not one generic function over `sqlx::Database`: sqlx's bounds on generic
//! executors (Encode, Decode and Type for every value, per lifetime) outgrow the SQL.
//! Why not `sqlx::Any`: it cannot read `timestamptz`, and it hides which database runs
//! where the two must differ.

/// Compiles the items inside once per backend, in submodules `sqlite` and `postgres`
/// (see the module documentation).
macro_rules! for_each_backend {
    ($($item:item)*) => {
        pub mod sqlite {
            #![allow(unused_imports, dead_code)]
            use super::*;
            use $crate::db::sqlite as dialect;
            use $crate::db::audit::sqlite as audit;
            use $crate::db::clearance::sqlite as clearance_db;
            use $crate::db::offices::sqlite as offices_db;
            type Pool = sqlx::SqlitePool;
            type Conn = sqlx::SqliteConnection;
            $($item)*
        }
        pub mod postgres {
            #![allow(unused_imports, dead_code)]
            use super::*;
            use $crate::db::postgres as dialect;
            use $crate::db::audit::postgres as audit;
            use $crate::db::clearance::postgres as clearance_db;
            use $crate::db::offices::postgres as offices_db;
            type Pool = sqlx::PgPool;
            type Conn = sqlx::PgConnection;
            $($item)*
        }
    };
}

/// `on_backend!(db, function(args…))`: calls this module's copy of `function` for the
/// backend `db` runs on, with that backend's pool first.
macro_rules! on_backend {
    ($db:expr, $function:ident ( $($arg:expr),* $(,)? )) => {
        match $db {
            $crate::db::Db::Sqlite(pool) => sqlite::$function(pool, $($arg),*).await,
            $crate::db::Db::Postgres(pool) => postgres::$function(pool, $($arg),*).await,
        }
    };
}

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod clearance;
pub mod demo;
pub mod departures;
pub mod desk;
pub mod imports;
mod instant;
pub mod lane;
pub mod offices;
pub mod postgres;
pub mod roster;
pub mod sessions;
pub mod slips;
pub mod snapshot;
pub mod sqlite;
pub mod sync;
pub mod throttle;

pub use instant::Instant;

use crate::config::PoolSettings;

/// The database every query runs on.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Which database a [`Db`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection (waits for those in use to come back).
    pub async fn close(&self) {
        match self {
            Db::Sqlite(pool) => pool.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// Why the database could not be opened, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("DATABASE_URL {url:?} is not a database URL this build understands: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("could not create the database directory {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("could not open the database {url:?}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error(
        "no answer from the database {url:?} within {seconds} s (is it up, and reachable through the firewall?)"
    )]
    NoAnswer { url: String, seconds: u64 },
    #[error("database migration failed, the server will not start: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens the database at `url` with the default pool settings (see [`open_with`]).
pub async fn open(url: &str) -> Result<Db, OpenError> {
    open_with(url, PoolSettings::default()).await
}

/// Opens the database at `url` (`sqlite://…` creates a missing file; `postgres://…`
/// needs an existing database) and brings its schema up to date.
pub async fn open_with(url: &str, settings: PoolSettings) -> Result<Db, OpenError> {
    // sqlx reads any string without a scheme as a file name; insist on a scheme so a
    // mistyped URL is an error rather than a surprise database file.
    if url.starts_with("sqlite:") {
        Ok(Db::Sqlite(sqlite::open(url, settings).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Db::Postgres(postgres::open(url, settings).await?))
    } else {
        Err(OpenError::BadUrl {
            url: redact(url),
            reason: "expected sqlite://path/to/file.db, sqlite::memory: or \
                     postgres://user:password@host:port/database"
                .to_owned(),
        })
    }
}

/// The URL without its password (in `user:password@` or a `password=` parameter), for
/// messages and logs. The credentials end at the URL's last `@`, so a password holding
/// `?`, `/` or `@` is masked whole.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|index| index + 3) else {
        return url.to_owned();
    };
    let (credentials, rest) = match url[scheme_end..].rfind('@') {
        Some(at) => (
            Some(&url[scheme_end..scheme_end + at]),
            &url[scheme_end + at..],
        ),
        None => (None, &url[scheme_end..]),
    };
    let credentials = match credentials {
        Some(credentials) => match credentials.split_once(':') {
            Some((user, _)) => format!("{user}:***"),
            None => credentials.to_owned(),
        },
        None => String::new(),
    };
    let rest = match rest.split_once('?') {
        Some((path, query)) => {
            let parameters: Vec<String> = query
                .split('&')
                .map(|parameter| match parameter.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => parameter.to_owned(),
                })
                .collect();
            format!("{path}?{}", parameters.join("&"))
        }
        None => rest.to_owned(),
    };
    format!("{}{credentials}{rest}", &url[..scheme_end])
}

/// Answers whether the database responds; used by `/healthz`, which a load balancer
/// polls. Every connection in use means the database is answering (busy, not down); a
/// free connection must answer `SELECT 1` within 2 seconds.
pub async fn ping(db: &Db) -> bool {
    const ANSWER_WITHIN: std::time::Duration = std::time::Duration::from_secs(2);
    macro_rules! ping_on {
        ($pool:expr) => {{
            let pool = $pool;
            if pool.size() > 0 && pool.num_idle() == 0 {
                return true;
            }
            let answered = async {
                let mut conn = pool.acquire().await?;
                sqlx::query_scalar::<_, i32>("SELECT 1")
                    .fetch_one(&mut *conn)
                    .await
            };
            matches!(
                tokio::time::timeout(ANSWER_WITHIN, answered).await,
                Ok(Ok(_))
            )
        }};
    }
    match db {
        Db::Sqlite(pool) => ping_on!(pool),
        Db::Postgres(pool) => ping_on!(pool),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bad_url_is_reported_not_panicked() {
        let error = open("postgres-but-not-really://x")
            .await
            .expect_err("refused");
        assert!(error.to_string().contains("DATABASE_URL"));
    }

    /// Nothing listens on port 1: the operator hears why, and never the password.
    #[tokio::test]
    async fn an_unreachable_postgres_is_reported_with_its_cause_and_no_password() {
        let settings = PoolSettings {
            acquire_timeout: std::time::Duration::from_secs(1),
            ..PoolSettings::default()
        };
        let error = open_with("postgres://lixiao:s3cret@127.0.0.1:1/lixiao", settings)
            .await
            .expect_err("refused");
        let message = error.to_string();
        assert!(matches!(error, OpenError::Connect { .. }), "{message}");
        assert!(message.contains("lixiao:***@127.0.0.1:1"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
        assert!(message.contains("refused"), "{message}");
    }

    #[test]
    fn passwords_never_reach_a_message() {
        assert_eq!(
            redact("postgres://lixiao:s3cret@db:5432/lixiao"),
            "postgres://lixiao:***@db:5432/lixiao"
        );
        assert_eq!(redact("sqlite://data/lixiao.db"), "sqlite://data/lixiao.db");
        assert_eq!(redact("postgres://db/lixiao"), "postgres://db/lixiao");
        assert_eq!(
            redact("postgres://u@db/lixiao?user=u&password=s3cret&sslmode=require"),
            "postgres://u@db/lixiao?user=u&password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://u:a@b@db/x?Password=p"),
            "postgres://u:***@db/x?Password=***"
        );
        assert_eq!(
            redact("postgres://lixiao:ab?cd/ef@db:5432/lixiao"),
            "postgres://lixiao:***@db:5432/lixiao"
        );
    }
}
