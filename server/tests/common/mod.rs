//! Test support: the real router over a real SQLite file in a fresh temporary directory.

use std::sync::Arc;

use app::{config::Config, state::AppState};
use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, Response},
};
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    // Held so the database file outlives the test.
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("lixiao.db").display());
        let config = Config::from_lookup(|name| (name == "DATABASE_URL").then(|| url.clone()))
            .expect("config");
        let db = app::db::open(&config.database_url)
            .await
            .expect("database opens");
        let leptos_options = LeptosOptions::builder()
            .output_name("lixiao")
            .site_root(dir.path().display().to_string())
            .build();
        let state = AppState {
            leptos_options,
            db,
            config: Arc::new(config),
        };
        let router = server::routes::router(state.clone());
        TestApp {
            router,
            state,
            _dir: dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible")
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        let response = self
            .send(Request::get(path).body(Body::empty()).expect("request"))
            .await;
        let status = response.status().as_u16();
        let body = to_bytes(response.into_body(), 4 * 1024 * 1024)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}
