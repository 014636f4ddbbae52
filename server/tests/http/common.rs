//! Test support: the real router over a fresh real database (see `support`).

use app::{config::Config, state::AppState};
use axum::{
    Router,
    body::{Body, to_bytes},
    http::{Request, Response},
};
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

/// The tests' own slip key and public address (see `Config::ready_to_serve`).
pub const TEST_SLIP_KEY: &str = "t1:lixiao-test-slip-key-0123456789abcdef";
pub const TEST_PUBLIC_URL: &str = "https://lixiao.test";

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    // Held so the database file outlives the test (shared with a second server).
    _dir: std::sync::Arc<tempfile::TempDir>,
}

impl TestApp {
    /// The app as deployed: HTTPS assumed (Secure cookie, HSTS).
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// The app as `scripts/run` starts it: plain HTTP.
    pub async fn plain_http() -> Self {
        Self::with_env(&[("LIXIAO_PLAIN_HTTP", "1")]).await
    }

    pub async fn with_env(env: &[(&str, &str)]) -> Self {
        // Server logs show up next to a failing test (warnings and errors only).
        let _ = tracing_subscriber::fmt()
            .with_env_filter("warn")
            .with_test_writer()
            .try_init();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = crate::support::fresh_database_url(dir.path()).await;
        let config = Config::from_lookup(|name| {
            if name == "DATABASE_URL" {
                return Some(url.clone());
            }
            let given = env
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned());
            // What serving needs, unless the test sets its own.
            given.or_else(|| match name {
                "LIXIAO_SLIP_KEY" => Some(TEST_SLIP_KEY.to_owned()),
                "LIXIAO_PUBLIC_URL" => Some(TEST_PUBLIC_URL.to_owned()),
                _ => None,
            })
        })
        .expect("config");
        let db = app::db::open(&config.database_url)
            .await
            .expect("database opens");
        let leptos_options = LeptosOptions::builder()
            .output_name("lixiao")
            .site_root(dir.path().display().to_string())
            .build();
        let state = AppState::new(leptos_options, db, config);
        let router = server::routes::router(state.clone());
        TestApp {
            router,
            state,
            _dir: std::sync::Arc::new(dir),
        }
    }

    /// Another server process over the same database: its own state and memory, as a
    /// second process behind a load balancer has. Only the database is shared.
    pub async fn second_server(&self) -> TestApp {
        self.second_server_of(self).await
    }

    /// A server with this app's configuration over `other`'s database: another process,
    /// configured differently (a rotated key, say).
    pub async fn second_server_of(&self, other: &TestApp) -> TestApp {
        let state = AppState::new(
            other.state.leptos_options.clone(),
            other.state.db.clone(),
            (*self.state.config).clone(),
        );
        let router = server::routes::router(state.clone());
        TestApp {
            router,
            state,
            _dir: other._dir.clone(),
        }
    }

    /// The four demo students (see `app::db::demo`), past their first sign-in: they no longer
    /// have to change the initial password (kept, for brevity). The forced change itself
    /// is tested on [`TestApp::with_fresh_demo_students`].
    pub async fn with_demo_students() -> Self {
        Self::with_env_and_demo_students(&[]).await
    }

    /// [`TestApp::with_demo_students`] with extra configuration.
    pub async fn with_env_and_demo_students(env: &[(&str, &str)]) -> Self {
        let app = Self::with_env(env).await;
        assert!(
            app::db::demo::seed(&app.state.db, app.state.slip_keys().expect("key"))
                .await
                .expect("seeds"),
            "empty database seeds"
        );
        app.exec("UPDATE accounts SET must_change_password = FALSE")
            .await;
        app
    }

    /// The four demo students exactly as seeded: initial passwords still to be changed.
    pub async fn with_fresh_demo_students() -> Self {
        let app = Self::new().await;
        assert!(
            app::db::demo::seed(&app.state.db, app.state.slip_keys().expect("key"))
                .await
                .expect("seeds"),
            "empty database seeds"
        );
        app
    }

    /// Runs `sql` (no parameters) on the app's database.
    pub async fn exec(&self, sql: &str) {
        crate::support::exec(&self.state.db, sql).await;
    }

    /// The whole number `sql` selects.
    pub async fn count(&self, sql: &str) -> i64 {
        crate::support::count(&self.state.db, sql).await
    }

    /// The text `sql` selects (NULL: `None`).
    pub async fn text(&self, sql: &str) -> Option<String> {
        with_pool!(&self.state.db, pool => sqlx::query_scalar::<_, Option<String>>(sql).fetch_one(pool).await)
            .unwrap_or_else(|error| panic!("{sql}: {error}"))
    }

    /// Signs in through the real login endpoint and returns the session cookie.
    pub async fn sign_in(&self, student_number: &str, password: &str) -> String {
        let response = self
            .post(
                "/api/login",
                &[("student_number", student_number), ("password", password)],
                None,
            )
            .await;
        assert!(
            response.status.is_success() || response.status.is_redirection(),
            "{response:?}"
        );
        response.cookie.expect("login sets the session cookie")
    }

    /// POSTs a form to `path` as script does (no `Accept: text/html`).
    pub async fn post(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Reply {
        let body = form
            .iter()
            .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        let mut request = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        Reply::read(
            self.send(request.body(Body::from(body)).expect("request"))
                .await,
        )
        .await
    }

    /// GETs a page as a browser navigation does (`Accept: text/html`).
    pub async fn page(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut request = Request::get(path).header("accept", "text/html,application/xhtml+xml");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        Reply::read(
            self.send(request.body(Body::empty()).expect("request"))
                .await,
        )
        .await
    }

    /// Uploads `bytes` as the file `name` to `path`, the way a page's file form does.
    pub async fn upload(&self, path: &str, cookie: &str, name: &str, bytes: &[u8]) -> Reply {
        let boundary = "----lixiao-test-boundary";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = Request::post(path)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("cookie", cookie)
            .body(Body::from(body))
            .expect("request");
        Reply::read(self.send(request).await).await
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

#[derive(Debug)]
pub struct Reply {
    pub status: axum::http::StatusCode,
    pub body: String,
    /// `name=value` of a session cookie the response set, if any.
    pub cookie: Option<String>,
    pub location: Option<String>,
    pub headers: axum::http::HeaderMap,
}

impl Reply {
    pub async fn read(response: Response<Body>) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let cookie =
            header("set-cookie").and_then(|value| value.split(';').next().map(str::to_owned));
        let location = header("location");
        let body = to_bytes(response.into_body(), 4 * 1024 * 1024)
            .await
            .expect("body");
        Reply {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            cookie,
            location,
            headers,
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
