//! Logging and the shutdown signal: the process-level plumbing `main` sets up first.

use std::time::Duration;

use axum::http::StatusCode;
use tower_http::{
    classify::{ServerErrorsAsFailures, ServerErrorsFailureClass, SharedClassifier},
    trace::{
        DefaultMakeSpan, DefaultOnBodyChunk, DefaultOnEos, DefaultOnRequest, DefaultOnResponse,
        TraceLayer,
    },
};
use tracing::{Level, Span};
use tracing_subscriber::EnvFilter;

/// The request log of every route: a span and a line per answer at INFO, and a failure
/// line for a 5xx (see [`answer_failed`]).
pub type HttpTrace = TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    DefaultMakeSpan,
    DefaultOnRequest,
    DefaultOnResponse,
    DefaultOnBodyChunk,
    DefaultOnEos,
    fn(ServerErrorsFailureClass, Duration, &Span),
>;

pub fn http_trace() -> HttpTrace {
    TraceLayer::new_for_http()
        .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
        .on_response(DefaultOnResponse::new().level(Level::INFO))
        .on_failure(answer_failed as fn(ServerErrorsFailureClass, Duration, &Span))
}

/// A 5xx answer. tower-http logs every one at ERROR, but a 503 is the server saying
/// "not now" on purpose: the sign-in queue turning students away with `Retry-After`
/// (thousands a minute on departure day), the sync API over its time limit, `/healthz`
/// while the database is away. Those are a WARN; an ERROR is left for what someone
/// must fix (a 500 says what went wrong in its own ERROR line, see `AppError`).
fn answer_failed(class: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    let latency = format_args!("{} ms", latency.as_millis());
    match class {
        ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
            tracing::warn!(%latency, "service unavailable (503): asked to try again later");
        }
        class => tracing::error!(classification = %class, %latency, "response failed"),
    }
}

/// Structured logs to stderr, filtered by `RUST_LOG` (falls back to `default_filter`).
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_new(default_filter).unwrap_or_else(|error| {
        eprintln!("RUST_LOG {default_filter:?} is not a valid filter ({error}); using \"info\"");
        EnvFilter::new("info")
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true)
        .init();
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, so in-flight requests can finish.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
