//! The audit trail: one row per security-relevant event.
//!
//! Who acted (`actor`: the signed-in account, known to be true) and what someone typed at
//! a sign-in (`typed_login`: may name no account, or be a password typed into the wrong
//! field) are kept apart. Events that go with a change (a submission, a card
//! cancellation) are written in the change's own transaction: the trail cannot miss one.

use sqlx::{Executor, Sqlite};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    LoginSucceeded,
    LoginFailed,
    LoginRefusedLocked,
    AccountLocked,
    Logout,
    PasswordChanged,
    PasswordChangeFailed,
    PasswordChangeLocked,
    DepartureSubmitted,
    DepartureRefused,
    LibraryCardCancelled,
    LibraryCardCancellationRefused,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::LoginSucceeded => "login_succeeded",
            Event::LoginFailed => "login_failed",
            Event::LoginRefusedLocked => "login_refused_locked",
            Event::AccountLocked => "account_locked",
            Event::Logout => "logout",
            Event::PasswordChanged => "password_changed",
            Event::PasswordChangeFailed => "password_change_failed",
            Event::PasswordChangeLocked => "password_change_locked",
            Event::DepartureSubmitted => "departure_submitted",
            Event::DepartureRefused => "departure_refused",
            Event::LibraryCardCancelled => "library_card_cancelled",
            Event::LibraryCardCancellationRefused => "library_card_cancellation_refused",
        }
    }
}

/// Who an event is about, and from where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Who {
    pub actor: Option<String>,
    pub typed_login: Option<String>,
    pub client_addr: Option<String>,
}

impl Who {
    /// A signed-in account acting.
    pub fn account(login: &str, client_addr: Option<String>) -> Self {
        Who {
            actor: Some(login.to_owned()),
            typed_login: None,
            client_addr,
        }
    }

    /// Someone signing in with `typed` as the login; kept only if it looks like one.
    pub fn typed(typed: &str, client_addr: Option<String>) -> Self {
        Who {
            actor: None,
            typed_login: looks_like_login(typed).then(|| typed.to_owned()),
            client_addr,
        }
    }
}

/// Logins are student numbers or staff logins: 1 to 32 letters, digits, `.`, `_` or `-`.
/// Anything else typed into the login field (a password, a sentence) is not kept.
pub fn looks_like_login(typed: &str) -> bool {
    (1..=32).contains(&typed.len())
        && typed
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'))
}

/// Records `event` on `conn` (the pool, or the transaction of the change it goes with),
/// timed by the application's clock in UTC.
pub async fn record<'c>(
    conn: impl Executor<'c, Database = Sqlite>,
    event: Event,
    who: &Who,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, event, actor, typed_login, client_addr)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(crate::clock::utc_timestamp(crate::clock::now()))
    .bind(event.as_str())
    .bind(who.actor.as_deref())
    .bind(who.typed_login.as_deref())
    .bind(who.client_addr.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_looks_like_a_login_is_kept() {
        for login in ["2020100001", "lib0001", "zhang.wei", "a_b-c"] {
            assert!(looks_like_login(login), "{login}");
        }
        for typed in [
            "",
            "my password",
            "密码123",
            "p@ssw0rd!",
            &"9".repeat(33),
            "061234 ",
        ] {
            assert!(!looks_like_login(typed), "{typed:?}");
        }
        assert_eq!(Who::typed("secret pass", None).typed_login, None);
        assert_eq!(
            Who::typed("2020100001", None).typed_login.as_deref(),
            Some("2020100001")
        );
    }
}
