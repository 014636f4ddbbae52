//! The limits on password guessing, shared by sign-in and password change, so both paths
//! to checking a password cost a guesser the same (policy in `db::throttle`).

use crate::{
    AppError,
    auth::password::{Busy, Place},
    db::throttle,
    net::ClientInfo,
    state::AppState,
};

/// One attempt at a password from this request's client, counted under `subject`
/// (see [`throttle::subject`]).
pub struct Attempt<'a> {
    state: &'a AppState,
    subject: String,
    client: String,
}

impl<'a> Attempt<'a> {
    pub fn new(state: &'a AppState, subject: String, client: ClientInfo) -> Self {
        Attempt {
            state,
            subject,
            client: client.limit_key(),
        }
    }

    /// Before the password is checked: a client over its limit is refused, and an attempt
    /// on a number that is being guessed from many places waits its slow-down.
    pub async fn admit(&self) -> Result<(), AppError> {
        let now = crate::clock::unix_now();
        let limit = self.state.config.signin_failures_per_client;
        if !throttle::client_allowed(&self.state.db, &self.client, now, limit).await? {
            return Err(AppError::TooManyRequests(
                "登录尝试过于频繁，请稍后再试。".to_owned(),
            ));
        }
        let wait = throttle::slowdown(&self.state.db, &self.subject, now).await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// A place in the queue for the password check, or [`AppError::Busy`] (503 with
    /// `Retry-After`) when the wait would be too long; `busy` says what to do, with `{}`
    /// for the seconds. Nothing is counted then: no password was checked.
    pub fn queue(&self, busy: &str) -> Result<Place<'a>, AppError> {
        self.state
            .signin_queue
            .enter()
            .map_err(|refused| busy_error(refused, busy))
    }

    /// Unix seconds until which this client may not try this login, if it is locked now.
    pub async fn locked_until(&self) -> Result<Option<i64>, AppError> {
        Ok(throttle::locked_until(
            &self.state.db,
            &self.subject,
            &self.client,
            crate::clock::unix_now(),
        )
        .await?)
    }

    /// Counts a wrong password; returns the lock's end if this one locked the pair.
    pub async fn failed(&self) -> Result<Option<i64>, AppError> {
        Ok(throttle::record_failure(
            &self.state.db,
            &self.subject,
            &self.client,
            crate::clock::unix_now(),
        )
        .await?)
    }

    pub async fn succeeded(&self) -> Result<(), AppError> {
        Ok(throttle::record_success(&self.state.db, &self.subject, &self.client).await?)
    }
}

/// Turns a password check away before any other work when the [`SignInQueue`] is
/// already too long (see [`Attempt::queue`] for `busy`): on departure day, the many
/// who are told to come back cost the server next to nothing.
///
/// [`SignInQueue`]: crate::auth::password::SignInQueue
pub fn refuse_if_busy(state: &AppState, busy: &str) -> Result<(), AppError> {
    state
        .signin_queue
        .has_room()
        .map_err(|refused| busy_error(refused, busy))
}

/// 503 with `Retry-After`, and `busy` with the seconds in place of `{}`.
fn busy_error(refused: Busy, busy: &str) -> AppError {
    let seconds = refused.retry_after.as_secs().max(1);
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    }
    AppError::Busy(busy.replace("{}", &seconds.to_string()))
}

/// The lockout message: when to retry, in Beijing time.
pub fn locked(until: i64) -> AppError {
    let at = crate::clock::beijing_hour_minute(until);
    AppError::TooManyRequests(format!(
        "密码错误次数过多，该学号在您当前的网络上已暂时锁定，请于 {at}（北京时间）后重试。如需帮助请致电 {}。",
        crate::error::IT_HELP_PHONE
    ))
}
