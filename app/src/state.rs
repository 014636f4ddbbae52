//! What every request handler and server function can reach: one value,
//! handed to leptos_axum as context, never a global.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::{AppError, config::Config, db::Db};

/// Cloned for every request, every middleware and every server function: one
/// reference count to bump, where the fields' own (a dozen `Arc`s, shared by every
/// thread) made 2 % of the clearance page's CPU in `scripts/bench`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields are read through the state (`state.db`).
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    /// Connections of `db` kept for the session-and-page read of every signed-in
    /// request (`crate::db::lane`).
    pub lane: crate::db::lane::Lane,
    pub config: Arc<Config>,
    /// The build the pages and the service worker belong to (`crate::pwa::build_version`).
    pub build_version: Arc<str>,
    /// The built browser files' names (content-hashed in a release build).
    pub assets: Arc<crate::assets::Assets>,
    /// Checks of slips per client address (`LIXIAO_VERIFY_PER_MINUTE`), this process.
    pub verify_limiter: crate::rate::RateLimiter,
    /// The people waiting for a password check in this process (`LIXIAO_SIGNIN_WAIT_MS`).
    pub signin_queue: Arc<crate::auth::password::SignInQueue>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        let assets = crate::assets::Assets::of(&leptos_options);
        let build_version =
            crate::pwa::build_version(&leptos_options, &assets, config.build_version.as_deref())
                .into();
        let per_minute = f64::from(config.verify_per_minute);
        let verify_limiter = crate::rate::RateLimiter::new(per_minute / 60.0, per_minute);
        let signin_queue = Arc::new(crate::auth::password::SignInQueue::new(config.signin_wait));
        let lane = crate::db::lane::Lane::new(&db, &config.pool);
        AppState(Arc::new(Shared {
            verify_limiter,
            signin_queue,
            leptos_options,
            db,
            lane,
            config: Arc::new(config),
            build_version,
            assets: Arc::new(assets),
        }))
    }

    /// This state with other built files' names, sharing everything else.
    pub fn with_assets(&self, assets: crate::assets::Assets) -> Self {
        AppState(Arc::new(Shared {
            leptos_options: self.leptos_options.clone(),
            db: self.db.clone(),
            lane: self.lane.clone(),
            config: self.config.clone(),
            build_version: self.build_version.clone(),
            assets: Arc::new(assets),
            verify_limiter: self.verify_limiter.clone(),
            signin_queue: self.signin_queue.clone(),
        }))
    }

    /// The keys of the slips' tags; present once the server serves
    /// ([`Config::ready_to_serve`] is checked at start).
    pub fn slip_keys(&self) -> Result<&crate::verify::SlipKeys, AppError> {
        self.config
            .slip_keys
            .as_ref()
            .ok_or_else(|| AppError::internal("LIXIAO_SLIP_KEY missing while serving"))
    }

    /// The public address the slips' links are built from (see [`Config::public_url`]).
    pub fn public_url(&self) -> Result<&str, AppError> {
        self.config
            .public_url
            .as_deref()
            .ok_or_else(|| AppError::internal("LIXIAO_PUBLIC_URL missing while serving"))
    }

    /// The state inside a server function or a page rendered on the server.
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| AppError::internal("AppState missing from the Leptos context"))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's handlers take the Leptos options from the router's state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
