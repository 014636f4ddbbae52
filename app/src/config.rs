//! Server configuration, read once from the environment at start-up.
//! Every variable is documented in `.env.example` with its default.

use std::net::SocketAddr;

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`: where the data lives. Default: a SQLite file under `data/`.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: the address the server listens on. Default `127.0.0.1:3000`.
    pub listen_addr: SocketAddr,
    /// `RUST_LOG`: the log filter (tracing's env-filter syntax). Default `info`.
    pub log_filter: String,
    /// `LIXIAO_DEMO_DATA=1`: seed the demo students into an empty database at start.
    /// Off unless set, so a production database never gets them by accident.
    pub demo_data: bool,
    /// `LIXIAO_PLAIN_HTTP=1`: the site is served over plain HTTP (local runs and tests),
    /// so the session cookie cannot be `Secure` and no HSTS header is sent. Off by
    /// default: deployments are HTTPS.
    pub plain_http: bool,
    /// `LIXIAO_REQUEST_TIMEOUT_SECS`: a request still running after this many seconds is
    /// answered 408 and dropped (slow clients cannot hold connections for ever). Default 30.
    pub request_timeout: std::time::Duration,
    /// `LIXIAO_TRUSTED_PROXIES`: reverse proxies (addresses or CIDR blocks, comma-separated)
    /// whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed. Empty by default: the
    /// TCP peer is the client.
    pub trusted_proxies: crate::net::TrustedProxies,
    /// `LIXIAO_SESSION_IDLE_SECS`: a session unused this long ends. Default 1800 (30 minutes).
    pub session_idle: std::time::Duration,
    /// `LIXIAO_SESSION_MAX_SECS`: however active, a session ends this long after sign-in.
    /// Default 43200 (12 hours).
    pub session_max: std::time::Duration,
    /// `LIXIAO_BUILD_VERSION`: the version that keys the service worker's caches. Default:
    /// a hash of the built browser files, so a deploy with a changed bundle is a new version.
    pub build_version: Option<String>,
    /// How many connections, and how long to wait for one (see [`PoolSettings`]).
    pub pool: PoolSettings,
}

/// The database pool, per server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// `LIXIAO_DB_MAX_CONNECTIONS`: connections this process may hold. Default 8. On
    /// PostgreSQL, the sum over all server processes must stay under the server's
    /// `max_connections` (100 by default).
    pub max_connections: u32,
    /// `LIXIAO_DB_ACQUIRE_TIMEOUT_SECS`: a request that waits this long for a connection
    /// fails (503-like "busy" to the user) instead of queueing for ever. Default 15.
    pub acquire_timeout: std::time::Duration,
    /// `LIXIAO_DB_STATEMENT_TIMEOUT_SECS`: PostgreSQL cancels a statement running this
    /// long. Default 30 (the request timeout). SQLite has no equivalent.
    pub statement_timeout: std::time::Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 8,
            acquire_timeout: std::time::Duration::from_secs(15),
            statement_timeout: std::time::Duration::from_secs(30),
        }
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/lixiao.db";
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,tower_http=info";

#[derive(Debug, thiserror::Error)]
#[error("配置错误 / configuration error: {name}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub value: String,
    pub reason: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str, default: &str| {
            lookup(name)
                .filter(|value| !value.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        let listen = read("LEPTOS_SITE_ADDR", DEFAULT_LISTEN_ADDR);
        let listen_addr = listen.parse().map_err(|error| ConfigError {
            name: "LEPTOS_SITE_ADDR",
            value: listen.clone(),
            reason: format!("{error}; expected host:port such as 127.0.0.1:3000"),
        })?;
        let switch = |name: &'static str| {
            let value = read(name, "0");
            match value.trim() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => Err(ConfigError {
                    name,
                    value,
                    reason: "expected 1 or 0".to_owned(),
                }),
            }
        };
        let demo_data = switch("LIXIAO_DEMO_DATA")?;
        let plain_http = switch("LIXIAO_PLAIN_HTTP")?;
        let seconds = |name: &'static str, default: &str| {
            let value = read(name, default);
            match value.trim().parse::<u64>() {
                Ok(seconds) if seconds > 0 => Ok(std::time::Duration::from_secs(seconds)),
                _ => Err(ConfigError {
                    name,
                    value,
                    reason: "expected a whole number of seconds above 0".to_owned(),
                }),
            }
        };
        let request_timeout = seconds("LIXIAO_REQUEST_TIMEOUT_SECS", "30")?;
        let session_idle = seconds("LIXIAO_SESSION_IDLE_SECS", "1800")?;
        let session_max = seconds("LIXIAO_SESSION_MAX_SECS", "43200")?;
        let max_connections = read("LIXIAO_DB_MAX_CONNECTIONS", "8");
        let pool = PoolSettings {
            max_connections: match max_connections.trim().parse::<u32>() {
                Ok(count) if (1..=1000).contains(&count) => count,
                _ => {
                    return Err(ConfigError {
                        name: "LIXIAO_DB_MAX_CONNECTIONS",
                        value: max_connections,
                        reason: "expected a whole number from 1 to 1000".to_owned(),
                    });
                }
            },
            acquire_timeout: seconds("LIXIAO_DB_ACQUIRE_TIMEOUT_SECS", "15")?,
            statement_timeout: seconds("LIXIAO_DB_STATEMENT_TIMEOUT_SECS", "30")?,
        };
        let proxies = read("LIXIAO_TRUSTED_PROXIES", "");
        let trusted_proxies =
            crate::net::TrustedProxies::parse(&proxies).map_err(|reason| ConfigError {
                name: "LIXIAO_TRUSTED_PROXIES",
                value: proxies.clone(),
                reason,
            })?;
        Ok(Config {
            database_url: read("DATABASE_URL", DEFAULT_DATABASE_URL),
            listen_addr,
            log_filter: read("RUST_LOG", DEFAULT_LOG_FILTER),
            demo_data,
            plain_http,
            request_timeout,
            trusted_proxies,
            session_idle,
            session_max,
            build_version: lookup("LIXIAO_BUILD_VERSION").filter(|v| !v.trim().is_empty()),
            pool,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_lookup(|_| None).expect("defaults are valid");
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(config.listen_addr.to_string(), DEFAULT_LISTEN_ADDR);
        assert_eq!(config.log_filter, DEFAULT_LOG_FILTER);
        assert!(!config.demo_data, "demo data only on request");
        assert!(!config.plain_http, "HTTPS unless told otherwise");
        assert!(
            config.trusted_proxies.is_empty(),
            "no proxy is trusted by default"
        );
        assert_eq!(config.session_idle.as_secs(), 30 * 60);
        assert_eq!(config.session_max.as_secs(), 12 * 3600);
    }

    #[test]
    fn demo_data_is_an_explicit_switch() {
        let on = Config::from_lookup(|name| (name == "LIXIAO_DEMO_DATA").then(|| "1".to_owned()));
        assert!(on.expect("valid").demo_data);
        let bad =
            Config::from_lookup(|name| (name == "LIXIAO_DEMO_DATA").then(|| "maybe".to_owned()));
        assert_eq!(bad.expect_err("refused").name, "LIXIAO_DEMO_DATA");
    }

    #[test]
    fn environment_overrides_defaults() {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("sqlite::memory:".to_owned()),
            "LEPTOS_SITE_ADDR" => Some("0.0.0.0:8080".to_owned()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(config.database_url, "sqlite::memory:");
        assert_eq!(config.listen_addr.port(), 8080);
    }

    #[test]
    fn a_bad_proxy_list_or_limit_names_the_variable() {
        for (variable, value) in [
            ("LIXIAO_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("LIXIAO_SESSION_IDLE_SECS", "0"),
            ("LIXIAO_SESSION_MAX_SECS", "soon"),
        ] {
            let error = Config::from_lookup(|name| (name == variable).then(|| value.to_owned()))
                .expect_err("must be refused");
            assert_eq!(error.name, variable);
        }
    }

    #[test]
    fn a_bad_address_names_the_variable() {
        let error = Config::from_lookup(|name| {
            (name == "LEPTOS_SITE_ADDR").then(|| "not-an-address".to_owned())
        })
        .expect_err("must be refused");
        assert_eq!(error.name, "LEPTOS_SITE_ADDR");
        assert!(error.to_string().contains("not-an-address"));
    }
}
