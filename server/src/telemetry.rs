//! Logging and the shutdown signal: the process-level plumbing `main` sets up first.

use tracing_subscriber::EnvFilter;

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
