//! Signing in and out (统一身份认证) and changing the password.

#[cfg(feature = "ssr")]
pub mod ip_limit;
mod pages;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;

pub use pages::{ChangePasswordPage, LoginPage};

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Who is signed in, for the page header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub student_number: String,
    pub name: String,
}

/// The longest password accepted; longer input is refused before any hashing.
pub const MAX_PASSWORD_CHARS: usize = 64;
pub const MIN_NEW_PASSWORD_CHARS: usize = 8;
const WRONG_CREDENTIALS: &str = "学号或密码错误。";

/// Checks the shape of a sign-in attempt before any database work.
pub fn validate_login(student_number: &str, password: &str) -> Result<(), AppError> {
    if student_number.trim().is_empty() || password.is_empty() {
        return Err(AppError::BadRequest("请输入学号和密码。".to_owned()));
    }
    // Too long to be real: the same message as a wrong password, nothing to learn from it.
    if student_number.trim().chars().count() > 32 || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned()));
    }
    Ok(())
}

/// Checks a new password: long enough, not too long, typed the same twice.
pub fn validate_new_password(new: &str, confirm: &str) -> Result<(), AppError> {
    let length = new.chars().count();
    if length < MIN_NEW_PASSWORD_CHARS {
        return Err(AppError::BadRequest(format!(
            "新密码至少需要 {MIN_NEW_PASSWORD_CHARS} 个字符。"
        )));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(AppError::BadRequest(format!(
            "新密码最多 {MAX_PASSWORD_CHARS} 个字符。"
        )));
    }
    if new != confirm {
        return Err(AppError::BadRequest("两次输入的新密码不一致。".to_owned()));
    }
    Ok(())
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(student_number: String, password: String) -> Result<(), AppError> {
    use crate::{
        db::{accounts, audit::Event, throttle},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            validate_login(&student_number, &password)?;
            let number = student_number.trim();
            let state = AppState::from_context()?;
            let client = session::client_addr();
            let audit = |event| session::audit(&state.db, event, number);
            let now = unix_now();

            if let Some(addr) = client
                && !state.login_limiter.allows(addr, std::time::Instant::now())
            {
                return Err(AppError::TooManyRequests(
                    "登录尝试过于频繁，请稍后再试。".to_owned(),
                ));
            }
            let account = accounts::find(&state.db, number).await?;
            let known = account.is_some();
            // Verify even for an unknown number or a locked one, so every case takes the same time.
            let matches = password::verify(password, account.map(|a| a.password_hash)).await;

            if let Some(until) = throttle::locked_until(&state.db, number, now).await? {
                audit(Event::LoginRefusedLocked).await;
                return Err(locked(until));
            }
            if known && matches {
                throttle::record_success(&state.db, number).await?;
                session::sign_in(number).await?;
                audit(Event::LoginSucceeded).await;
                leptos_axum::redirect("/hall");
                return Ok(());
            }
            if let Some(addr) = client {
                state
                    .login_limiter
                    .record_failure(addr, std::time::Instant::now());
            }
            audit(Event::LoginFailed).await;
            match throttle::record_failure(&state.db, number, now).await? {
                Some(until) => {
                    audit(Event::AccountLocked).await;
                    Err(locked(until))
                }
                None => Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned())),
            }
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The lockout message: when to retry, in Beijing time.
#[cfg(feature = "ssr")]
fn locked(until: i64) -> AppError {
    let at = time::OffsetDateTime::from_unix_timestamp(until)
        .map(|moment| moment.to_offset(time::macros::offset!(+8)))
        .ok()
        .and_then(|moment| {
            moment
                .format(time::macros::format_description!("[hour]:[minute]"))
                .ok()
        })
        .unwrap_or_default();
    AppError::TooManyRequests(format!(
        "密码错误次数过多，该学号已暂时锁定，请于 {at}（北京时间）后重试。如需帮助请致电 {}。",
        crate::error::IT_HELP_PHONE
    ))
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::error::respond(
        async {
            if let Some(number) = session::signed_in_student().await? {
                let state = crate::state::AppState::from_context()?;
                session::audit(&state.db, crate::db::audit::Event::Logout, &number).await;
            }
            session::sign_out().await?;
            leptos_axum::redirect("/login");
            Ok(())
        }
        .await,
    )
}

/// The signed-in student, or `None`.
#[server(prefix = "/api", endpoint = "who_am_i")]
pub async fn who_am_i() -> Result<Option<Me>, AppError> {
    use crate::{db::accounts, error::respond, state::AppState};
    respond(
        async {
            let Some(number) = session::signed_in_student().await? else {
                return Ok(None);
            };
            let state = AppState::from_context()?;
            Ok(accounts::display_name(&state.db, &number)
                .await?
                .map(|name| Me {
                    student_number: number,
                    name,
                }))
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::{db::accounts, error::respond, state::AppState};
    respond(
        async {
            let number = session::require_student().await?;
            if current_password.chars().count() > MAX_PASSWORD_CHARS {
                return Err(AppError::BadRequest("当前密码不正确。".to_owned()));
            }
            validate_new_password(&new_password, &confirm_password)?;
            let state = AppState::from_context()?;
            let stored = accounts::find(&state.db, &number)
                .await?
                .map(|a| a.password_hash);
            if !password::verify(current_password, stored).await {
                return Err(AppError::BadRequest("当前密码不正确。".to_owned()));
            }
            let hash = password::hash(new_password)
                .await
                .map_err(AppError::internal)?;
            accounts::set_password_hash(&state.db, &number, &hash).await?;
            session::audit(&state.db, crate::db::audit::Event::PasswordChanged, &number).await;
            leptos_axum::redirect("/password?changed=1");
            Ok(())
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_input_is_checked_before_the_database() {
        assert!(validate_login("2020100001", "061234").is_ok());
        for (number, password) in [("", "x"), ("   ", "x"), ("2020100001", "")] {
            assert_eq!(
                validate_login(number, password),
                Err(AppError::BadRequest("请输入学号和密码。".to_owned()))
            );
        }
        let long = "9".repeat(33);
        assert_eq!(
            validate_login(&long, "x"),
            Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned()))
        );
        assert!(validate_login("2020100001", &"p".repeat(64)).is_ok());
        assert!(validate_login("2020100001", &"p".repeat(65)).is_err());
    }

    #[test]
    fn new_passwords_need_eight_to_sixty_four_characters_typed_twice() {
        assert!(validate_new_password("离校密码很安全吗", "离校密码很安全吗").is_ok());
        assert!(validate_new_password("1234567", "1234567").is_err());
        assert!(validate_new_password(&"a".repeat(64), &"a".repeat(64)).is_ok());
        assert!(validate_new_password(&"a".repeat(65), &"a".repeat(65)).is_err());
        assert_eq!(
            validate_new_password("abcdefgh", "abcdefgH"),
            Err(AppError::BadRequest("两次输入的新密码不一致。".to_owned()))
        );
    }
}
