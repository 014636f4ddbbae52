//! The HTTP surface: the Leptos pages and server functions, static files, `/healthz`.

use app::{App, shell, state::AppState};
use axum::{Router, extract::State, http::StatusCode, routing::get};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::sessions;

/// Builds the whole application. `main` serves it; tests call it directly.
/// Creates the session table if it is missing.
pub async fn router(state: AppState) -> Result<Router, sqlx::Error> {
    let sessions = sessions::layer(&state.db).await?;
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || provide_context(state.clone())
    };
    let pages = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };

    Ok(Router::new()
        .route("/healthz", get(healthz))
        .leptos_routes_with_context(&state, routes, context.clone(), pages)
        // Files from the site root (the WASM, CSS, icons); anything else is the app's 404 page.
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, shell))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(sessions)
        .with_state(state))
}

/// 200 when the database answers, 503 when it does not: what a load balancer needs.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if app::db::ping(&state.db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
