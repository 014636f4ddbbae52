//! The one application error. Every failure that can reach a user is one of
//! these variants, with a status code and a message in the user's language.
//! The real cause of an internal failure goes to the server log only.

use serde::{Deserialize, Serialize};

/// Where a student can always call for help with the system itself (from the source guide).
pub const IT_HELP_PHONE: &str = "0516-83592137";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("请先登录。")]
    Unauthenticated,
    #[error("您没有权限进行此操作。")]
    Forbidden,
    /// Signed in with the initial password, which must be changed before anything else.
    #[error("首次登录请先修改初始密码。")]
    PasswordChangeRequired,
    #[error("您访问的内容不存在。")]
    NotFound,
    /// The user's input was wrong; the message says how, in Chinese.
    #[error("{0}")]
    BadRequest(String),
    /// The request conflicts with what is already recorded (e.g. a second submission).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// Too many people at once for the server to answer this in time (password checks on
    /// departure day): nothing was done, and trying again in a few seconds will work.
    #[error("{0}")]
    Busy(String),
    /// Something failed on our side. Deliberately says nothing about what.
    #[error("系统繁忙，请稍后再试。如问题持续，请致电信息化建设与管理处 0516-83592137。")]
    Internal,
    /// The browser could not reach the server.
    #[error("网络连接失败，请检查网络后重试。")]
    Network,
}

impl AppError {
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthenticated => 401,
            AppError::Forbidden | AppError::PasswordChangeRequired => 403,
            AppError::NotFound => 404,
            AppError::BadRequest(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::TooManyRequests(_) => 429,
            AppError::Internal => 500,
            AppError::Busy(_) | AppError::Network => 503,
        }
    }

    /// Sets this error's HTTP status on the response of a server-function call made by
    /// script. A plain form post (no JavaScript) is left alone: it must stay a redirect
    /// back to the page, which then shows the message.
    #[cfg(feature = "ssr")]
    pub fn mark_response(&self) {
        let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
            return;
        };
        if parts.uri.path().starts_with(crate::API_PREFIX) && !accepts_html(&parts.headers) {
            self.set_response_status();
        }
    }

    /// Sets this error's HTTP status on the response being built (a page or a call).
    #[cfg(feature = "ssr")]
    pub fn set_response_status(&self) {
        if let (Some(response), Ok(status)) = (
            leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
            http::StatusCode::from_u16(self.status_code()),
        ) {
            response.set_status(status);
        }
    }

    /// The answer of a plain axum handler (an upload, a file) that refuses: the anonymous
    /// and those who must change their password are sent where they should go; anyone
    /// else gets the status and the message as text.
    #[cfg(feature = "ssr")]
    pub fn plain_response(self) -> axum::response::Response {
        use axum::response::{IntoResponse, Redirect};
        match self {
            AppError::Unauthenticated => Redirect::to("/login").into_response(),
            AppError::PasswordChangeRequired => Redirect::to("/password").into_response(),
            error => (
                http::StatusCode::from_u16(error.status_code())
                    .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR),
                error.to_string(),
            )
                .into_response(),
        }
    }

    /// Logs the real cause on the server and returns the generic internal error.
    #[cfg(feature = "ssr")]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::internal(format_args!("database: {error}"))
    }
}

impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        match value {
            // Arguments the server could not read are the caller's mistake.
            E::Args(_) | E::MissingArg(_) => bad_arguments(),
            // On the server, "deserialization" is reading the caller's arguments (a body
            // that is not valid UTF-8, say): also the caller's mistake.
            #[cfg(feature = "ssr")]
            E::Deserialization(_) => bad_arguments(),
            E::Request(_) => AppError::Network,
            #[cfg(feature = "ssr")]
            other => AppError::internal(other),
            #[cfg(not(feature = "ssr"))]
            _ => AppError::Internal,
        }
    }
}

/// Whether the request comes from a browser navigation or a plain form (not from script).
#[cfg(feature = "ssr")]
pub fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("text/html"))
}

/// Arguments the server could not read: the caller's mistake, answered 400.
fn bad_arguments() -> AppError {
    let error = AppError::BadRequest("请求参数无效，请刷新页面后重试。".to_owned());
    #[cfg(feature = "ssr")]
    error.mark_response();
    error
}

/// Finishes a server function: an error gets its HTTP status before it leaves.
#[cfg(feature = "ssr")]
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result {
        error.mark_response();
    }
    result
}
