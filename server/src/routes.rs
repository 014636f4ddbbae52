//! The HTTP surface: the Leptos pages and server functions, static files, `/healthz`,
//! and the service worker of the installable app.

use app::{App, shell, state::AppState};
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    middleware::{from_fn, from_fn_with_state},
    routing::get,
};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::{
    compression::{CompressionLayer, CompressionLevel, DefaultPredicate, Predicate as _},
    services::ServeDir,
    timeout::TimeoutLayer,
};

use crate::{compress, pwa, security, sessions, sync, telemetry};

/// Builds the whole application. `main` serves it; tests call it directly.
pub fn router(state: AppState) -> Router {
    let https = !state.config.plain_http;
    let request_timeout = state.config.request_timeout;
    let store = sessions::Store::new(&state.db, &state.lane);
    sessions::spawn_clean_up(store.clone(), state.db.clone());
    let sessions = sessions::layer(store, https, state.config.session_idle);
    let clients = security::Clients {
        proxies: state.config.trusted_proxies.clone(),
        https_by_default: https,
    };
    let state_for_tags = state.clone();
    let routes = route_list();
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            // Who is signed in is worked out once per request (`attach_memo`).
            provide_context(app::auth::session::request_memo().unwrap_or_default());
        }
    };
    let pages = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };

    let app = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), pages)
        // The pages' and server functions' routes, before the routes below: who is
        // signed in is read before a page renders, so it renders without waiting
        // (server functions pass straight through).
        .route_layer(from_fn_with_state(
            state.clone(),
            app::auth::session::read_before_render,
        ))
        .route("/healthz", get(healthz))
        .route("/sw.js", get(pwa::service_worker))
        .route("/version.json", get(pwa::version))
        .route("/offline.html", get(pwa::offline_page))
        .route(
            app::desk::import::UPLOAD_PATH,
            axum::routing::post(app::desk::import::upload).layer(
                axum::extract::DefaultBodyLimit::max(security::IMPORT_BODY_LIMIT_BYTES),
            ),
        )
        .route(
            app::desk::import::TEMPLATE_PATH,
            get(app::desk::import::template),
        )
        .route(
            app::school::roster::UPLOAD_PATH,
            axum::routing::post(app::school::roster::upload).layer(
                axum::extract::DefaultBodyLimit::max(security::IMPORT_BODY_LIMIT_BYTES),
            ),
        )
        .route(
            app::school::roster::TEMPLATE_PATH,
            get(app::school::roster::template),
        )
        // Lists as CSV files for Excel.
        .route("/desk/export.csv", get(app::school::export::office_list))
        .route(
            "/desk/overview/export.csv",
            get(app::school::export::cohort),
        )
        .route(
            "/desk/departures/export.csv",
            get(app::school::export::departures),
        )
        // Files from the site root (the WASM, CSS, icons), their brotli or gzip copy made
        // at build time when the browser takes it (conditional requests answered 304);
        // anything else is the app's 404 page.
        .fallback_service(
            tower::ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), security::cache_static))
                .service(
                    ServeDir::new(&*state.leptos_options.site_root)
                        .precompressed_br()
                        .precompressed_gzip()
                        .fallback(axum::handler::Handler::with_state(
                            leptos_axum::file_and_error_handler_with_context::<AppState, _>(
                                context, shell,
                            ),
                            state.clone(),
                        )),
                ),
        )
        .with_state(state);

    // The offices' systems' API has its own layers (tokens, not sessions): see `sync`.
    let sync_api = sync::router(state_for_tags.clone());

    // Each layer wraps the ones before it, so read from the bottom up: every request is
    // logged, its client is worked out (behind trusted proxies too), every answer gets the
    // security headers, then the limits, the cross-site check and the session apply in
    // that order.
    let pages = app
        .layer(from_fn_with_state(state_for_tags, pwa::tag_pages))
        .layer(from_fn(app::auth::session::attach_memo))
        .layer(sessions)
        .layer(from_fn(security::refuse_cross_site))
        .layer(from_fn(security::limit_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        .layer(from_fn(security::friendly_timeout))
        .layer(from_fn(security::security_headers))
        // Pages and answers compressed on the fly with gzip at its fastest: an 8 KB page
        // in tens of microseconds. Those of a known size by each thread's own compressor
        // (`compress`), the rest (a large export, say) by tower-http's layer. Not brotli:
        // its encoder sets up megabytes of window and tables per response, which halved
        // the page's throughput in scripts/bench (2,258 against 5,150 req/s) and raised
        // the peak RSS. Files with a build-time copy (.br, .gz from scripts/build) are
        // sent as they are, brotli included.
        .layer(from_fn(compress::gzip))
        .layer(
            CompressionLayer::new()
                .no_br()
                .gzip(true)
                .quality(CompressionLevel::Fastest)
                .compress_when(DefaultPredicate::new().and(compress::Unsized)),
        )
        .layer(from_fn_with_state(clients, security::identify_client))
        .layer(telemetry::http_trace());
    sync_api.merge(pages)
}

/// The app's routes, generated once per process. Generating them renders the app; done
/// while another thread renders a page, it could make that page wait for ever (seen when
/// tests build many servers side by side; see `pages_render_while_other_servers_are_being_built`).
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// 200 when the database answers, 503 when it does not: what a load balancer needs.
async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if app::db::ping(&state.db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}
