//! Signing in and out (统一身份认证) and changing the password.

#[cfg(feature = "ssr")]
pub mod guard;
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
    pub name: String,
    /// Still on the initial password: every page but 修改密码 sends the student there.
    pub must_change_password: bool,
    /// Staff: where their work is (their desk), shown in the header instead of 个人中心.
    #[serde(default)]
    pub staff_home: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<session::SignedIn> for Me {
    fn from(signed_in: session::SignedIn) -> Self {
        let staff_home =
            crate::desk::StaffRole::from_code(&signed_in.role).map(|role| role.home().to_owned());
        Me {
            name: signed_in.display_name,
            must_change_password: signed_in.must_change_password,
            staff_home,
        }
    }
}

/// The longest password accepted; longer input is refused before any hashing.
pub const MAX_PASSWORD_CHARS: usize = 64;
pub const MIN_NEW_PASSWORD_CHARS: usize = 8;
const WRONG_CREDENTIALS: &str = "学号或密码错误。";
/// A student the graduate school's roster no longer lists.
pub const DEACTIVATED: &str = "您已不在本届研究生离校名单中，无法登录。如有疑问，请联系研究生院。";

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

/// Checks a new password: long enough, not too long, typed the same twice, not one of
/// the passwords guessers try first, not the student number. No composition rules, and
/// no case folding of the password itself.
pub fn validate_new_password(
    new: &str,
    confirm: &str,
    student_number: &str,
) -> Result<(), AppError> {
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
    if new == student_number {
        return Err(AppError::BadRequest(
            "新密码不能使用学号：学号是公开的，别人一猜就中。".to_owned(),
        ));
    }
    if is_common_password(new) {
        return Err(AppError::BadRequest(
            "这个密码太常见，容易被猜到，请换一个。".to_owned(),
        ));
    }
    Ok(())
}

/// Whether `password` is on the list of passwords guessers try first (compared without
/// regard to letter case: "Password1" is as weak as "password1").
pub fn is_common_password(password: &str) -> bool {
    const COMMON: &str = include_str!("common_passwords.txt");
    let lowered = password.to_lowercase();
    COMMON.lines().any(|common| common == lowered)
}

/// More people are signing in than the server can check passwords for right now.
#[cfg(feature = "ssr")]
const BUSY_SIGNING_IN: &str = "登录人数较多，请约 {} 秒后再试。";
#[cfg(feature = "ssr")]
const BUSY_CHANGING_PASSWORD: &str = "登录人数较多，密码尚未修改，请约 {} 秒后再试。";

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(student_number: String, password: String) -> Result<(), AppError> {
    use crate::{
        auth::guard::{Attempt, locked, refuse_if_busy},
        db::{
            accounts,
            audit::{self, Event, Who},
            throttle,
        },
        error::respond,
        state::AppState,
    };
    respond(
        async {
            validate_login(&student_number, &password)?;
            let number = student_number.trim();
            let state = AppState::from_context()?;
            refuse_if_busy(&state, BUSY_SIGNING_IN)?;
            let client = session::client();
            let account = accounts::find(&state.db, number).await?;
            let known = account.as_ref().map(|account| account.login.as_str());
            let who = Who::attempt(known, client.addr.map(|addr| addr.to_string()));
            let attempt = Attempt::new(&state, throttle::subject(known, number), client);
            let audit = |event| audit::record(&state.db, crate::clock::now(), event, &who);

            attempt.admit().await?;
            let place = attempt.queue(BUSY_SIGNING_IN)?;
            let stored = account
                .as_ref()
                .map(|account| account.password_hash.clone());
            // Verify even for an unknown number or a locked one, so every case takes the same time.
            let matches = password::verify(&place, password, stored).await;
            drop(place);

            if let Some(until) = attempt.locked_until().await? {
                audit(Event::LoginRefusedLocked).await?;
                return Err(locked(until));
            }
            if let Some(account) = account.as_ref().filter(|_| matches) {
                attempt.succeeded().await?;
                // Only the right password learns that the student left the cohort.
                if account.deactivated {
                    audit(Event::LoginFailed).await?;
                    return Err(AppError::Conflict(DEACTIVATED.to_owned()));
                }
                session::sign_in(&account.login, account.session_generation).await?;
                let signed_in = Who {
                    actor: Some(account.login.clone()),
                    ..who.clone()
                };
                audit::record(
                    &state.db,
                    crate::clock::now(),
                    Event::LoginSucceeded,
                    &signed_in,
                )
                .await?;
                // The initial password is changed before anything else; staff work at
                // their desk, students in the service hall.
                leptos_axum::redirect(if account.must_change_password {
                    "/password"
                } else {
                    crate::desk::StaffRole::from_code(&account.role)
                        .map_or("/hall", crate::desk::StaffRole::home)
                });
                return Ok(());
            }
            // Counted before anything else can fail: a wrong password always counts.
            let lock = attempt.failed().await?;
            audit(Event::LoginFailed).await?;
            match lock {
                Some(until) => {
                    audit(Event::AccountLocked).await?;
                    Err(locked(until))
                }
                None => Err(AppError::BadRequest(WRONG_CREDENTIALS.to_owned())),
            }
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::error::respond(
        async {
            let state = crate::state::AppState::from_context()?;
            if let Some(signed_in) = session::signed_in(&state).await? {
                session::audit(&state, crate::db::audit::Event::Logout, &signed_in.login).await?;
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
    use crate::{error::respond, state::AppState};
    respond(
        async {
            let state = AppState::from_context()?;
            Ok(session::signed_in(&state).await?.map(Me::from))
        }
        .await,
    )
}

/// Changes the password. Every session of the account ends, this one too: the student
/// signs in again with the new password. The current password is a password check like
/// a sign-in, with the same limits: an unattended signed-in browser is no free guessing
/// machine, and the session ends once the lock triggers.
#[server(prefix = "/api", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    confirm_password: String,
) -> Result<(), AppError> {
    use crate::{
        auth::guard::{Attempt, locked},
        db::{accounts, audit::Event},
        error::respond,
        state::AppState,
    };
    respond(
        async {
            let state = AppState::from_context()?;
            let number = session::require_signed_in(&state).await?.login;
            let wrong_current = || AppError::BadRequest("当前密码不正确。".to_owned());
            if current_password.chars().count() > MAX_PASSWORD_CHARS {
                return Err(wrong_current());
            }
            validate_new_password(&new_password, &confirm_password, &number)?;
            if new_password == current_password {
                return Err(AppError::BadRequest(
                    "新密码不能与当前密码相同。".to_owned(),
                ));
            }
            let attempt = Attempt::new(&state, number.clone(), session::client());
            attempt.admit().await?;
            // Held through the new password's hash too.
            let place = attempt.queue(BUSY_CHANGING_PASSWORD)?;
            let stored = accounts::find(&state.db, &number)
                .await?
                .map(|a| a.password_hash);
            let matches = password::verify(&place, current_password, stored).await;
            let lock = match attempt.locked_until().await? {
                Some(until) => Some(until),
                None if !matches => {
                    // Counted before anything else can fail: a wrong password always counts.
                    let lock = attempt.failed().await?;
                    session::audit(&state, Event::PasswordChangeFailed, &number).await?;
                    match lock {
                        Some(until) => Some(until),
                        None => return Err(wrong_current()),
                    }
                }
                None => None,
            };
            if let Some(until) = lock {
                session::audit(&state, Event::PasswordChangeLocked, &number).await?;
                session::sign_out().await?;
                return Err(locked(until));
            }
            attempt.succeeded().await?;
            let hash = password::hash(new_password)
                .await
                .map_err(AppError::internal)?;
            drop(place);
            accounts::change_password(&state.db, &number, &hash).await?;
            session::audit(&state, Event::PasswordChanged, &number).await?;
            session::sign_out().await?;
            leptos_axum::redirect("/login?changed=1");
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
        let number = "2020100003";
        assert!(validate_new_password("离校密码很安全吗", "离校密码很安全吗", number).is_ok());
        assert!(validate_new_password("1234567", "1234567", number).is_err());
        assert!(validate_new_password(&"a".repeat(64), &"a".repeat(64), number).is_ok());
        assert!(validate_new_password(&"a".repeat(65), &"a".repeat(65), number).is_err());
        assert_eq!(
            validate_new_password("abcdefgh", "abcdefgH", number),
            Err(AppError::BadRequest("两次输入的新密码不一致。".to_owned()))
        );
        // No composition rules: all lower-case letters and spaces are fine.
        assert!(
            validate_new_password("correct horse battery", "correct horse battery", number).is_ok()
        );
    }

    #[test]
    fn common_passwords_and_the_student_number_are_refused() {
        let number = "2020100003";
        for weak in [
            "12345678",
            "password1",
            "Password1",
            "woaini1314",
            "qwertyuiop",
            number,
        ] {
            assert!(validate_new_password(weak, weak, number).is_err(), "{weak}");
        }
        assert!(
            validate_new_password(number, number, number)
                .is_err_and(|error| error.to_string().contains("不能使用学号")),
            "the student number is refused as such"
        );
        assert!(is_common_password("P@SSW0RD"));
        assert!(!is_common_password("mining-engineer-2020"));
    }
}
