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
    /// `LIXIAO_SYNC_RATE_PER_SECOND` / `LIXIAO_SYNC_BURST`: requests one sync token may
    /// make per second, and in a burst (per server process). Defaults 10 and 30. A load
    /// test that plays many office systems from 127.0.0.1 raises them.
    pub sync_rate: SyncRate,
    /// `LIXIAO_SLIP_KEY` (`keyid:secret`, the secret at least 32 characters) tags new
    /// slips; `LIXIAO_SLIP_OLD_KEYS` (a comma-separated list of the same) still verifies
    /// the slips printed under earlier keys. Unset, the demo data's fixed key is used
    /// with `LIXIAO_DEMO_DATA=1`, and otherwise the server refuses to serve
    /// ([`Config::ready_to_serve`]); one-off commands (backup, staff add …) need no key.
    pub slip_keys: Option<crate::verify::SlipKeys>,
    /// `LIXIAO_PUBLIC_URL`: the address students and checkers reach the site at (e.g.
    /// `https://lixiao.example.edu.cn`), from which the slip's QR link is built: never
    /// from a request's Host header, which a client chooses. Unset: `http://` + the
    /// listening address with the demo data, and otherwise a refusal to serve.
    pub public_url: Option<String>,
    /// `LIXIAO_VERIFY_PER_MINUTE`: slip checks (/verify) one client address may make per
    /// minute, per server process. Default 30: a counter checking a queue of graduates
    /// is far below it, a script walking serials is stopped.
    pub verify_per_minute: u32,
    /// `LIXIAO_SIGNIN_FAILURES_PER_CLIENT`: wrong passwords one client address (for any
    /// numbers) may send in ten minutes before its further attempts are refused. Default
    /// 100: a dormitory behind one campus address signs in, guessing at scale is stopped.
    /// A load test that plays wrong passwords from 127.0.0.1 raises it.
    pub signin_failures_per_client: u32,
    /// `LIXIAO_SIGNIN_WAIT_MS`: the longest a sign-in (or password change) may expect to
    /// wait for its password check before it is answered at once with 503 "登录人数较多，
    /// 请约 N 秒后再试" and `Retry-After` (see `auth::password::SignInQueue`). Default 3000,
    /// or half the request timeout if that is shorter; a value set must be shorter than it.
    pub signin_wait: std::time::Duration,
}

/// The sync API's token bucket, per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRate {
    pub per_second: u32,
    pub burst: u32,
}

impl Default for SyncRate {
    fn default() -> Self {
        SyncRate {
            per_second: 10,
            burst: 30,
        }
    }
}

/// The database pool, per server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    /// `LIXIAO_DB_MAX_CONNECTIONS`: connections this process may hold. Default 8. On
    /// PostgreSQL, the sum over all server processes must stay under the server's
    /// `max_connections` (100 by default). Split between the lane and the pool
    /// ([`PoolSettings::lane_connections`], [`PoolSettings::pool_connections`]); at
    /// least 2 from the environment, so the split adds none.
    pub max_connections: u32,
    /// `LIXIAO_DB_ACQUIRE_TIMEOUT_SECS`: a request that waits this long for a connection
    /// fails (503-like "busy" to the user) instead of queueing for ever. Default 15.
    pub acquire_timeout: std::time::Duration,
    /// `LIXIAO_DB_STATEMENT_TIMEOUT_SECS`: PostgreSQL cancels a statement running this
    /// long. Default 30 (the request timeout). SQLite has no equivalent.
    pub statement_timeout: std::time::Duration,
    /// A connection idle for longer than this is pinged before it is handed out (the
    /// server may have dropped it: a restart, a proxy's idle timeout): by the PostgreSQL
    /// pool, and by the lane on both backends. One used moments ago is not: on a busy
    /// morning that check was a second round trip for every page. Default 5 s; not
    /// an environment setting (tests shorten it).
    pub ping_idle_after: std::time::Duration,
}

impl PoolSettings {
    /// Of `max_connections`, those kept aside for the session-and-page read of every
    /// signed-in request (`crate::db::lane`): half, at least one.
    pub fn lane_connections(&self) -> u32 {
        (self.max_connections / 2).max(1)
    }

    /// Of `max_connections`, the pool's (everything but the lane): at least one.
    pub fn pool_connections(&self) -> u32 {
        self.max_connections
            .saturating_sub(self.lane_connections())
            .max(1)
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_connections: 8,
            acquire_timeout: std::time::Duration::from_secs(15),
            statement_timeout: std::time::Duration::from_secs(30),
            ping_idle_after: std::time::Duration::from_secs(5),
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
                Ok(count) if (2..=1000).contains(&count) => count,
                _ => {
                    return Err(ConfigError {
                        name: "LIXIAO_DB_MAX_CONNECTIONS",
                        value: max_connections,
                        reason: "expected a whole number from 2 to 1000 (half of them read \
                                 signed-in requests' sessions, the rest do everything else)"
                            .to_owned(),
                    });
                }
            },
            acquire_timeout: seconds("LIXIAO_DB_ACQUIRE_TIMEOUT_SECS", "15")?,
            statement_timeout: seconds("LIXIAO_DB_STATEMENT_TIMEOUT_SECS", "30")?,
            ..PoolSettings::default()
        };
        let count = |name: &'static str, default: &str| {
            let value = read(name, default);
            match value.trim().parse::<u32>() {
                Ok(count) if (1..=1_000_000).contains(&count) => Ok(count),
                _ => Err(ConfigError {
                    name,
                    value,
                    reason: "expected a whole number from 1 to 1000000".to_owned(),
                }),
            }
        };
        let sync_rate = SyncRate {
            per_second: count("LIXIAO_SYNC_RATE_PER_SECOND", "10")?,
            burst: count("LIXIAO_SYNC_BURST", "30")?,
        };
        let verify_per_minute = count("LIXIAO_VERIFY_PER_MINUTE", "30")?;
        let signin_failures_per_client = count(
            "LIXIAO_SIGNIN_FAILURES_PER_CLIENT",
            &crate::db::throttle::MAX_CLIENT_FAILURES.to_string(),
        )?;
        // A sign-in admitted to wait that long would meet the request timeout first: a
        // wait that is set must be shorter, and the default is at most half of it.
        let signin_wait = match lookup("LIXIAO_SIGNIN_WAIT_MS").filter(|v| !v.trim().is_empty()) {
            None => std::time::Duration::from_millis(3000).min(request_timeout / 2),
            Some(_) => {
                let wait = std::time::Duration::from_millis(
                    count("LIXIAO_SIGNIN_WAIT_MS", "3000")?.into(),
                );
                if wait >= request_timeout {
                    return Err(ConfigError {
                        name: "LIXIAO_SIGNIN_WAIT_MS",
                        value: wait.as_millis().to_string(),
                        reason: format!(
                            "must be shorter than the request timeout ({} s, LIXIAO_REQUEST_TIMEOUT_SECS)",
                            request_timeout.as_secs()
                        ),
                    });
                }
                wait
            }
        };
        let slip_keys = match lookup("LIXIAO_SLIP_KEY").filter(|v| !v.trim().is_empty()) {
            Some(current) => Some(
                crate::verify::SlipKeys::parse(&current, &read("LIXIAO_SLIP_OLD_KEYS", ""))
                    .map_err(|reason| ConfigError {
                        name: "LIXIAO_SLIP_KEY",
                        // Never a secret in a log.
                        value: "(hidden)".to_owned(),
                        reason,
                    })?,
            ),
            None if demo_data => Some(crate::verify::SlipKeys::demo()),
            None => None,
        };
        let public_url = match lookup("LIXIAO_PUBLIC_URL").filter(|v| !v.trim().is_empty()) {
            Some(url) => Some(public_url(&url).ok_or_else(|| ConfigError {
                name: "LIXIAO_PUBLIC_URL",
                value: url.clone(),
                reason: "expected http:// or https:// and a host, without a path, query or fragment (e.g. https://lixiao.example.edu.cn)".to_owned(),
            })?),
            None if demo_data => Some(format!("http://{listen_addr}")),
            None => None,
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
            sync_rate,
            slip_keys,
            public_url,
            verify_per_minute,
            signin_failures_per_client,
            signin_wait,
        })
    }

    /// What serving needs beyond what one-off commands need: the slip key and the
    /// public address (see [`Config::slip_keys`], [`Config::public_url`]).
    /// Returns the slip keys it checked.
    pub fn ready_to_serve(&self) -> Result<&crate::verify::SlipKeys, ConfigError> {
        let Some(keys) = &self.slip_keys else {
            return Err(ConfigError {
                name: "LIXIAO_SLIP_KEY",
                value: String::new(),
                reason: "not set: the departure slips need the graduate school's key, e.g. LIXIAO_SLIP_KEY=2026a:$(openssl rand -hex 32) (only the demo data runs without one)".to_owned(),
            });
        };
        if self.public_url.is_none() {
            return Err(ConfigError {
                name: "LIXIAO_PUBLIC_URL",
                value: String::new(),
                reason: "not set: the slip's QR code links to this address, e.g. https://lixiao.example.edu.cn (only the demo data runs without one)".to_owned(),
            });
        }
        Ok(keys)
    }
}

/// `scheme://host[:port]` without a trailing slash, or `None`.
fn public_url(text: &str) -> Option<String> {
    let url = text.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let valid = !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    valid.then(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lane and the pool share `LIXIAO_DB_MAX_CONNECTIONS`; each has at least one.
    #[test]
    fn the_connections_are_shared_between_the_lane_and_the_pool() {
        let split = |max_connections| {
            let settings = PoolSettings {
                max_connections,
                ..PoolSettings::default()
            };
            (settings.lane_connections(), settings.pool_connections())
        };
        assert_eq!(split(8), (4, 4));
        assert_eq!(split(5), (2, 3));
        assert_eq!(split(2), (1, 1));
        assert_eq!(split(1), (1, 1));
    }

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
        assert_eq!(config.sync_rate, SyncRate::default());
        assert_eq!(config.signin_failures_per_client, 100);
        assert_eq!(config.signin_wait.as_millis(), 3000);
        let error = Config::from_lookup(|name| {
            (name == "LIXIAO_SIGNIN_WAIT_MS").then(|| "30000".to_owned())
        })
        .expect_err("a wait as long as the request timeout is refused");
        assert_eq!(error.name, "LIXIAO_SIGNIN_WAIT_MS");
        // A short request timeout alone is a valid configuration: the default wait fits it.
        let short = Config::from_lookup(|name| {
            (name == "LIXIAO_REQUEST_TIMEOUT_SECS").then(|| "1".to_owned())
        })
        .expect("a short request timeout is valid");
        assert_eq!(short.signin_wait.as_millis(), 500);
        assert!(config.slip_keys.is_none() && config.public_url.is_none());
    }

    #[test]
    fn serving_needs_a_slip_key_and_a_public_address_except_with_the_demo_data() {
        let bare = Config::from_lookup(|_| None).expect("commands need neither");
        assert_eq!(
            bare.ready_to_serve().expect_err("refused").name,
            "LIXIAO_SLIP_KEY"
        );
        let keyed = Config::from_lookup(|name| match name {
            "LIXIAO_SLIP_KEY" => Some("k1:0123456789abcdef0123456789abcdef".to_owned()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(
            keyed.ready_to_serve().expect_err("refused").name,
            "LIXIAO_PUBLIC_URL"
        );
        let demo = Config::from_lookup(|name| (name == "LIXIAO_DEMO_DATA").then(|| "1".to_owned()))
            .expect("valid");
        assert!(demo.ready_to_serve().is_ok());
        assert_eq!(demo.public_url.as_deref(), Some("http://127.0.0.1:3000"));
        // A bad key is refused without its secret in the message.
        let error = Config::from_lookup(|name| match name {
            "LIXIAO_SLIP_KEY" => Some("k1:tooshortsecret".to_owned()),
            _ => None,
        })
        .expect_err("refused");
        assert!(!error.to_string().contains("tooshortsecret"), "{error}");
        for bad in [
            "lixiao.example.edu.cn",
            "https://",
            "https://x.cn/path",
            "https://x.cn?q=1",
        ] {
            let error =
                Config::from_lookup(|name| (name == "LIXIAO_PUBLIC_URL").then(|| bad.to_owned()))
                    .expect_err(bad);
            assert_eq!(error.name, "LIXIAO_PUBLIC_URL");
        }
        let trimmed = Config::from_lookup(|name| {
            (name == "LIXIAO_PUBLIC_URL").then(|| "https://lixiao.example.edu.cn/".to_owned())
        })
        .expect("valid");
        assert_eq!(
            trimmed.public_url.as_deref(),
            Some("https://lixiao.example.edu.cn")
        );
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
            ("LIXIAO_SYNC_RATE_PER_SECOND", "0"),
            ("LIXIAO_SYNC_BURST", "lots"),
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
