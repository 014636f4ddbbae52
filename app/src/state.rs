//! What every request handler and server function can reach: one value,
//! handed to leptos_axum as context, never a global.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use crate::{AppError, config::Config, db::Db};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    /// The build the pages and the service worker belong to (`crate::pwa::build_version`).
    pub build_version: Arc<str>,
    /// The built browser files' names (content-hashed in a release build).
    pub assets: Arc<crate::assets::Assets>,
}

impl AppState {
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        let assets = crate::assets::Assets::of(&leptos_options);
        let build_version =
            crate::pwa::build_version(&leptos_options, &assets, config.build_version.as_deref())
                .into();
        AppState {
            leptos_options,
            db,
            config: Arc::new(config),
            build_version,
            assets: Arc::new(assets),
        }
    }

    /// The state inside a server function or a page rendered on the server.
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| AppError::internal("AppState missing from the Leptos context"))
    }
}
